"""Authorisation matrix: every role × (own, parent, other region) × every action.

The station lies in 西湖区 (330106) under 杭州市 (330100) under 浙江省 (330000).  A grant
is "own" when it is the station's county, "parent" when it is the city (or, for a province
coordinator, the province), "other" when it is elsewhere.  Denials are audited.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.sandbox.factories import make_person, make_region
from bot.services.review import Actor
from bot.services.stations import StationError
from storage import roles as roles_store
from storage.models import AuditLog
from tests.stations.helpers import complete_application, load_sample
from tests.stations.test_transitions import NOW, _act

ACTIONS_FROM = {  # the state each action starts from
    "county_approve": "submitted",
    "county_reject": "submitted",
    "city_recognise": "county_approved",
    "city_send_back": "county_approved",
    "rectify": "recognised",
    "lift": "rectifying",
    "revoke": "rectifying",
}
# actor kind → (role, grant region or "station") per placement
ACTORS = {
    "county_coordinator": {"own": "330106", "parent": "330108", "other": "330203"},
    "city_coordinator": {"own": "330100", "parent": "330100", "other": "330200"},
    "province_coordinator": {"own": "330000", "parent": "330000", "other": "320000"},
    "station_admin": {"own": "station", "parent": "station", "other": "other_station"},
    "admin": {"own": None, "parent": None, "other": None},
    "nobody": {"own": None, "parent": None, "other": None},
}
ALLOWED = {
    "county_coordinator": {"county_approve", "county_reject", "rectify", "lift"},
    "city_coordinator": {"city_recognise", "city_send_back", "rectify", "lift", "revoke"},
    "province_coordinator": {"rectify", "lift", "revoke"},
    "station_admin": set(),
    "admin": set(ACTIONS_FROM),
    "nobody": set(),
}
CASES = [
    (kind, placement, action)
    for kind in ACTORS
    for placement in ("own", "parent", "other")
    for action in ACTIONS_FROM
]


def expected(kind: str, placement: str, action: str) -> bool:
    if kind == "admin":
        return True
    if placement == "other":
        return False
    if kind == "county_coordinator" and placement == "parent":
        return False  # a sibling county: not theirs
    return action in ALLOWED[kind]


@pytest.mark.parametrize(("kind", "placement", "action"), CASES)
async def test_matrix(session: AsyncSession, kind: str, placement: str, action: str) -> None:
    await load_sample(session, NOW)
    await make_region(session, code="320000", name="江苏省")
    applicant = await make_person(session, telegram_id=1)
    assert applicant.id is not None
    station = await complete_application(
        session, applicant_id=applicant.id, status=ACTIONS_FROM[action], now=NOW
    )
    other = await complete_application(
        session, applicant_id=applicant.id, name="别站", status="recognised", now=NOW
    )
    person = await make_person(session, telegram_id=2, first_name=kind)
    assert person.id is not None
    scope = ACTORS[kind][placement]
    grants = []
    if kind == "admin":
        grants.append(
            (
                await roles_store.grant_role(
                    session=session, person_id=person.id, role="admin", now=NOW
                )
            )[0]
        )
    elif kind == "station_admin":
        target = station.id if scope == "station" else other.id
        grants.append(
            (
                await roles_store.grant_role(
                    session=session,
                    person_id=person.id,
                    role="station_admin",
                    station_id=target,
                    now=NOW,
                )
            )[0]
        )
    elif kind != "nobody":
        grants.append(
            (
                await roles_store.grant_role(
                    session=session,
                    person_id=person.id,
                    role="coordinator",
                    region_code=scope,
                    now=NOW,
                )
            )[0]
        )
    actor = Actor(person.id, grants)
    if expected(kind, placement, action):
        after = await _act(session, action, station, actor)
        assert after.status != ACTIONS_FROM[action]
    else:
        with pytest.raises(StationError) as caught:
            await _act(session, action, station, actor)
        assert caught.value.code == "not_allowed"
        assert station.status == ACTIONS_FROM[action]
        entry = (
            await session.execute(
                select(AuditLog).where(
                    AuditLog.actor_id == person.id, AuditLog.action == f"station.{action}"
                )
            )
        ).scalar_one()
        assert entry.allowed is False and entry.subject_id == station.id
        assert entry.region_code == "330106"


def test_matrix_covers_every_review_and_management_action() -> None:
    from bot.services.stations import ACTIONS

    assert set(ACTIONS_FROM) == set(ACTIONS) - {"submit"}
    assert len(CASES) == 6 * 3 * 7
