"""The delegation rule (who may give which role where) and the /grant buttons' wire format."""

from __future__ import annotations

import pytest

from bot.core.callback_data import MAX_BYTES
from bot.handlers.grant import (
    GRANT_BUTTONS,
    REVOKE_BUTTONS,
    GrantConfirm,
    GrantKind,
    GrantPerson,
    GrantRegion,
    GrantStation,
    RevokeConfirm,
    RevokePick,
)
from bot.services.access import may_see_personal
from bot.services.roles import Delegation, grantable_levels, kind_choices, may_delegate
from storage.models import RoleGrant


def coordinator(code: str) -> RoleGrant:
    return RoleGrant(person_id=1, role="coordinator", region_code=code)


def station_admin(station_id: int) -> RoleGrant:
    return RoleGrant(person_id=1, role="station_admin", station_id=station_id)


PROVINCE, CITY, COUNTY = coordinator("330000"), coordinator("330100"), coordinator("330106")


@pytest.mark.parametrize(
    "grants, request_, station_region, expected",
    [
        ([PROVINCE], Delegation("coordinator", "330100"), None, None),
        ([PROVINCE], Delegation("coordinator", "330106"), None, None),
        ([PROVINCE], Delegation("coordinator", "330000"), None, "above_you"),
        ([PROVINCE], Delegation("coordinator", "440100"), None, "outside_region"),
        ([CITY], Delegation("coordinator", "330106"), None, None),
        ([CITY], Delegation("coordinator", "330108"), None, None),
        ([CITY], Delegation("coordinator", "330100"), None, "above_you"),
        ([CITY], Delegation("coordinator", "330203"), None, "outside_region"),
        ([CITY], Delegation("coordinator", "330000"), None, "outside_region"),
        ([COUNTY], Delegation("coordinator", "330106"), None, "above_you"),
        ([COUNTY], Delegation("station_admin", None, 7), "330106", None),
        ([COUNTY], Delegation("station_admin", None, 8), "330108", "outside_region"),
        ([station_admin(7)], Delegation("station_admin", None, 7), "330106", None),
        ([station_admin(7)], Delegation("station_admin", None, 8), "330106", "outside_region"),
        ([station_admin(7)], Delegation("coordinator", "330106"), None, "outside_region"),
        ([PROVINCE], Delegation("curator"), None, "not_delegable"),
        ([PROVINCE], Delegation("admin"), None, "not_delegable"),
        ([RoleGrant(person_id=1, role="admin")], Delegation("curator"), None, None),
        ([], Delegation("station_admin", None, 7), "330106", "outside_region"),
    ],
)
def test_may_delegate(
    grants: list[RoleGrant],
    request_: Delegation,
    station_region: str | None,
    expected: str | None,
) -> None:
    assert may_delegate(grants, request_, station_region) == expected


def test_what_each_level_may_give() -> None:
    assert grantable_levels([PROVINCE]) == ["city", "county"]
    assert grantable_levels([CITY]) == ["county"]
    assert grantable_levels([COUNTY]) == []
    assert kind_choices([CITY]) == ["county", "station"]
    assert kind_choices([COUNTY]) == ["station"]
    assert kind_choices([station_admin(3)]) == ["station"]
    assert kind_choices([RoleGrant(person_id=1, role="curator")]) == []


def test_personal_data_rule_follows_the_privacy_notice() -> None:
    assert may_see_personal([station_admin(7)], 7, "330106")
    assert not may_see_personal([station_admin(7)], 8, "330106")
    assert may_see_personal([CITY], 8, "330108")
    assert not may_see_personal([CITY], 9, "330203")
    assert not may_see_personal([RoleGrant(person_id=1, role="admin")], 7, "330106")


@pytest.mark.parametrize(
    "button, wire",
    [
        (GrantKind("county"), "GRT:k:county"),
        (GrantRegion("330106"), "GRT:r:330106"),
        (GrantStation(12), "GRT:s:12"),
        (GrantPerson(2147483647), "GRT:p:2147483647"),
        (GrantConfirm("yes"), "GRT:ok:yes"),
        (RevokePick(5), "RVK:g:5"),
        (RevokeConfirm(5), "RVK:y:5"),
    ],
)
def test_buttons_round_trip(button: object, wire: str) -> None:
    assert button.encode() == wire  # type: ignore[attr-defined]
    assert len(wire.encode()) <= MAX_BYTES
    family = GRANT_BUTTONS if wire.startswith("GRT") else REVOKE_BUTTONS
    assert family.decode(wire) == button


@pytest.mark.parametrize("data", ["GRT:k:province", "GRT:s:-1", "GRT:ok:maybe", "RVK:g:x", "GRT"])
def test_malformed_buttons_decode_to_none(data: str) -> None:
    assert GRANT_BUTTONS.decode(data) is None and REVOKE_BUTTONS.decode(data) is None
