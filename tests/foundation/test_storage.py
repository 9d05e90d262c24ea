"""Every foundation storage function, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.sandbox.factories import NOW, make_region, make_region_tree, make_station
from storage import audit, dialogs, inbox, people, roles
from storage.models import InboxUpdate, table_of
from storage.upsert import insert_for, insert_ignoring


async def test_upsert_person_creates_then_refreshes(session: AsyncSession) -> None:
    first = await people.upsert_person(
        session=session, telegram_id=10, first_name="甲", username="a", now=NOW
    )
    later = NOW + dt.timedelta(hours=1)
    again = await people.upsert_person(
        session=session, telegram_id=10, first_name="甲乙", username=None, now=later
    )
    assert again.id == first.id
    assert again.first_name == "甲乙" and again.username is None
    assert again.last_seen_at == later
    assert again.created_at == NOW


async def test_person_lookups_language_and_unreachable(session: AsyncSession) -> None:
    created = await people.ensure_person(session=session, telegram_id=2**40, now=NOW)
    again = await people.ensure_person(session=session, telegram_id=2**40, now=NOW)
    assert again.id == created.id
    assert created.id is not None
    await people.set_language(session=session, person_id=created.id, language="en")
    await people.mark_unreachable(session=session, telegram_id=2**40)
    found = await people.get_person_by_telegram_id(session=session, telegram_id=2**40)
    assert found is not None and found.language == "en" and found.unreachable
    assert (await people.get_person(session=session, person_id=created.id)) is not None
    assert await people.get_person_by_telegram_id(session=session, telegram_id=1) is None


async def test_grants_are_unique_per_scope(session: AsyncSession) -> None:
    await make_region_tree(session)
    station = await make_station(session)
    person = await people.ensure_person(session=session, telegram_id=7, now=NOW)
    assert person.id is not None
    _, new = await roles.grant_role(
        session=session, person_id=person.id, role="coordinator", region_code="330106", now=NOW
    )
    _, again = await roles.grant_role(
        session=session, person_id=person.id, role="coordinator", region_code="330106", now=NOW
    )
    _, other = await roles.grant_role(
        session=session, person_id=person.id, role="coordinator", region_code="330100", now=NOW
    )
    _, admin = await roles.grant_role(session=session, person_id=person.id, role="admin", now=NOW)
    _, sadmin = await roles.grant_role(
        session=session, person_id=person.id, role="station_admin", station_id=station.id, now=NOW
    )
    assert (new, again, other, admin, sadmin) == (True, False, True, True, True)
    held = await roles.roles_of(session=session, person_id=person.id)
    assert sorted(g.role for g in held) == ["admin", "coordinator", "coordinator", "station_admin"]
    listed = await roles.list_grants(session=session, role="coordinator")
    assert {g.region_code for g, _ in listed} == {"330106", "330100"}
    holders = await roles.holders_of(session=session, role="coordinator", region_codes=["330100"])
    assert [p.telegram_id for p in holders] == [7]
    assert (
        await roles.revoke_role(
            session=session, person_id=person.id, role="coordinator", region_code="330106"
        )
        == 1
    )
    assert (
        await roles.revoke_role(
            session=session, person_id=person.id, role="coordinator", region_code="330106"
        )
        == 0
    )


async def test_audit_records_and_filters(session: AsyncSession) -> None:
    await make_region(session, code="330000")
    await audit.record(
        session=session,
        actor_id=None,
        action="station.approve",
        now=NOW,
        subject_type="station",
        subject_id=5,
        region_code="330106",
        reason="现场核查通过",
        detail={"k": 1},
    )
    await audit.record(
        session=session,
        actor_id=None,
        action="station.approve",
        now=NOW,
        allowed=False,
        subject_type="station",
        subject_id=6,
        region_code="330203",
    )
    hz = await audit.entries(session=session, region_prefix="3301")
    assert [e.subject_id for e in hz] == [5]
    assert hz[0].detail == {"k": 1} and hz[0].at == NOW
    denied = await audit.entries(session=session, subject_type="station", subject_id=6)
    assert len(denied) == 1 and denied[0].allowed is False
    assert len(await audit.entries(session=session, action="station.approve")) == 2


async def test_inbox_store_is_idempotent_and_claims_in_order(session: AsyncSession) -> None:
    payloads = [{"update_id": i, "message": {"text": str(i)}} for i in (3, 1, 2)]
    assert await inbox.store_updates(session=session, payloads=payloads, now=NOW) == 3
    assert await inbox.store_updates(session=session, payloads=payloads[:2], now=NOW) == 0
    assert await inbox.store_updates(session=session, payloads=[], now=NOW) == 0
    claimed = await inbox.claim_pending(session=session, now=NOW, limit=2)
    assert [row.update_id for row in claimed] == [1, 2]
    assert claimed[0].payload == {"update_id": 1, "message": {"text": "1"}}
    assert claimed[0].attempts == 0
    await inbox.mark_done(session=session, update_ids=[1], now=NOW - dt.timedelta(days=8))
    await inbox.mark_failed(
        session=session,
        update_id=2,
        attempts=1,
        error="E: x",
        now=NOW,
        retry_at=NOW + dt.timedelta(minutes=5),
    )
    due = await inbox.claim_pending(session=session, now=NOW, limit=9)
    assert [r.update_id for r in due] == [3]
    assert await inbox.next_due_at(session=session) == NOW + dt.timedelta(minutes=5)
    assert await inbox.count_by_status(session=session) == {"done": 1, "pending": 2}
    purged = await inbox.purge_finished(
        session=session,
        done_before=NOW - dt.timedelta(days=7),
        parked_before=NOW - dt.timedelta(days=30),
    )
    assert purged == {"done": 1, "parked": 0}
    assert await inbox.get_update(session=session, update_id=1) is None
    stored = await inbox.get_update(session=session, update_id=3)
    assert stored is not None and stored.payload == {"update_id": 3, "message": {"text": "3"}}
    retried = await inbox.get_update(session=session, update_id=2)
    assert retried is not None and (retried.attempts, retried.last_error) == (1, "E: x")
    await inbox.mark_failed(
        session=session, update_id=2, attempts=5, error="E: y", now=NOW, retry_at=None
    )
    assert await inbox.count_by_status(session=session) == {"parked": 1, "pending": 1}


async def test_dialog_state_round_trip(session: AsyncSession) -> None:
    await dialogs.set_dialog(
        session=session,
        chat_id=5,
        user_id=5,
        flow="join",
        step="name",
        data={"station": 1},
        now=NOW,
    )
    await dialogs.set_dialog(
        session=session,
        chat_id=5,
        user_id=5,
        flow="join",
        step="phone",
        data={"station": 1, "name": "张三"},
        now=NOW,
    )
    await dialogs.set_dialog(
        session=session, chat_id=-9, user_id=5, flow="x", step="y", data={}, now=NOW
    )
    state = await dialogs.get_dialog(session=session, chat_id=5, user_id=5)
    assert state is not None and (state.step, state.data["name"]) == ("phone", "张三")
    assert await dialogs.clear_dialog(session=session, chat_id=5, user_id=5)
    assert not await dialogs.clear_dialog(session=session, chat_id=5, user_id=5)
    assert await dialogs.clear_user_dialogs(session=session, user_id=5) == 1
    assert await dialogs.get_dialog(session=session, chat_id=-9, user_id=5) is None


async def test_naive_datetimes_are_refused(session: AsyncSession) -> None:
    with pytest.raises(Exception, match="naive"):
        await people.upsert_person(
            session=session,
            telegram_id=1,
            first_name=None,
            username=None,
            now=dt.datetime(2026, 1, 1),
        )


async def test_insert_ignoring_is_compiled_once_and_keeps_its_target(engine: AsyncEngine) -> None:
    # The dialects' INSERT … ON CONFLICT opts out of SQLAlchemy's statement cache, so the
    # hot inserts used to be compiled at every execution; insert_ignoring's are cached, and
    # two targets never share one compiled statement.
    session = AsyncSession(engine)
    try:
        table = table_of(InboxUpdate)
        by_id = insert_ignoring(session, table, ["update_id"])
        again = insert_ignoring(session, table, ["update_id"])
        other = insert_ignoring(session, table, ["user_id"])
        key = by_id._generate_cache_key()
        assert key is not None and key == again._generate_cache_key()
        assert key != other._generate_cache_key()
        assert insert_for(session, table).on_conflict_do_nothing()._generate_cache_key() is None
        dialect = engine.sync_engine.dialect
        assert "ON CONFLICT (update_id) DO NOTHING" in str(by_id.compile(dialect=dialect))
        assert "ON CONFLICT (user_id) DO NOTHING" in str(other.compile(dialect=dialect))
        # And it does what it says: a repeated key is skipped, the new one returned.
        row = {"payload": {}, "status": "pending", "attempts": 0, "received_at": NOW}
        stmt = by_id.returning(table.c.update_id)
        async with session.begin():
            first = await session.execute(stmt, [{**row, "update_id": 1}])
            assert [r[0] for r in first.all()] == [1]
            second = await session.execute(
                stmt, [{**row, "update_id": 1}, {**row, "update_id": 2}]
            )
            assert [r[0] for r in second.all()] == [2]
    finally:
        await session.close()
