"""Every refused privileged attempt: one audit row (who, what, which object, why), one answer.

Nothing is parked: a refusal that answered twice used to fail on the second answer, roll its
audit row back with the update, and park the update.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlmodel import col

from bot.app import FEATURES
from bot.handlers.feature import Assembly
from bot.sandbox import Sandbox
from bot.sandbox.factories import make_grant, make_informant, make_person, make_station
from bot.sandbox.harness import RunningBot, running_bot, sandbox_settings
from bot.sandbox.world import SimUser
from storage.models import AuditLog, InboxUpdate
from tests.conftest import FixedClock
from tests.stations.helpers import HAISHU, XIHU, load_sample

# /me answers anyone (with "you have not joined"): its role only hides it from menus.
NOT_ROLE_CHECKED = {"me"}


@dataclass(frozen=True)
class Attempt:
    """One refused attempt and the audit row it must leave."""

    who: str
    command: str | None = None
    data: str | None = None
    action: str = ""
    reason: str = ""
    subject_type: str | None = None
    subject_id: int | None = None


def privileged_commands() -> list[str]:
    """Return every command the menus show only to some roles."""
    specs = Assembly.of(FEATURES).commands
    return [
        spec.name
        for spec in specs
        if "everyone" not in spec.roles and spec.name not in NOT_ROLE_CHECKED
    ]


async def _last_audit_id(bot: RunningBot) -> int:
    async with bot.runtime.sessions() as s:
        return int((await s.execute(select(func.coalesce(func.max(AuditLog.id), 0)))).scalar_one())


async def _audit_after(bot: RunningBot, after: int) -> list[AuditLog]:
    async with bot.runtime.sessions() as s:
        rows = await s.execute(select(AuditLog).where(col(AuditLog.id) > after))
        return list(rows.scalars())


async def test_every_refusal_is_audited_once_and_answered_once(
    sandbox: Sandbox, sqlite_url: str, clock: FixedClock
) -> None:
    settings = sandbox_settings(sandbox, sqlite_url, limits={"inbox_max_attempts": 1})
    users: dict[str, SimUser] = {
        "plain": sandbox.user("路人甲", started=True),
        "admin": sandbox.user("站长乙", started=True),
        "coordinator": sandbox.user("西湖科协", started=True),
    }
    async with running_bot(sandbox, settings, clock=clock) as bot:
        now = bot.runtime.now()
        async with bot.runtime.sessions() as s, s.begin():
            await load_sample(s, now)
            mine = await make_station(s, name="西湖文化站", county=XIHU)
            other = await make_station(s, name="海曙文化站", county=HAISHU)
            pending = await make_station(s, name="海曙申请站", county=HAISHU, status="submitted")
            theirs = await make_informant(s, station_id=other.id or 0, telegram_id=990001)
            people = {
                key: await make_person(s, telegram_id=user.id, first_name=user.first_name)
                for key, user in users.items()
            }
            await make_grant(
                s, person_id=people["admin"].id or 0, role="station_admin", station_id=mine.id
            )
            await make_grant(
                s, person_id=people["coordinator"].id or 0, role="coordinator", region_code=XIHU
            )
            ids = {p: people[p].id for p in people}
        a, b, c, inf = mine.id, other.id, pending.id, theirs.id
        role = {"reason": "missing_role"}
        attempts = [
            *(
                Attempt("plain", command=name, action=f"command.{name}", subject_type="command")
                for name in privileged_commands()
            ),
            *(
                Attempt("plain", data=data, action=f"button.{data.split(':')[0]}")
                for data in (
                    "MGT:page:0",
                    "EVA:inf:2026",
                    f"INV:s:{a}",
                    f"ROS:p:{a}:0",
                    "TOP:s:month",
                    "NC:cancel",
                    "CAT:page:0",
                    "USE:1",
                )
            ),
            # A station admin acting on another station's invite, roster and informants.
            Attempt("admin", data=f"INV:s:{b}", action="invite.show", subject_id=b),
            Attempt("admin", data=f"INV:new:{b}", action="invite.renew", subject_id=b),
            Attempt("admin", data=f"ROS:p:{b}:0", action="informant.roster", subject_id=b),
            Attempt("admin", data=f"ROS:rm:{b}:{inf}:0", action="informant.remove", subject_id=b),
            Attempt("admin", data=f"ROS:rmy:{b}:{inf}:0", action="informant.remove", subject_id=b),
            Attempt("admin", data=f"ALS:p:{b}:0", action="activity.list", subject_id=b),
            # ... or reaching another station's informant through their own station.
            Attempt(
                "admin",
                data=f"ROS:rm:{a}:{inf}:0",
                action="informant.remove",
                reason="not_in_station",
                subject_type="informant",
                subject_id=inf,
            ),
            Attempt(
                "admin",
                data=f"ROS:rmy:{a}:{inf}:0",
                action="informant.remove",
                reason="not_in_station",
                subject_type="informant",
                subject_id=inf,
            ),
            # A county coordinator opening cards outside the county.
            Attempt("coordinator", data=f"REV:open:{c}", action="station.view", subject_id=c),
            Attempt("coordinator", data=f"MGT:open:{b}", action="station.view", subject_id=b),
            Attempt("coordinator", command=f"station {b}", action="station.view", subject_id=b),
        ]
        defaults = {"plain": role, "admin": {"reason": "not_station_admin"}}
        for user in users.values():
            await user.command("help")  # a bot message to press forged buttons on
        await bot.settle()
        for attempt in attempts:
            user = users[attempt.who]
            reason = (
                attempt.reason or defaults.get(attempt.who, {"reason": "not_allowed"})["reason"]
            )
            subject_type = attempt.subject_type or (
                "button" if attempt.who == "plain" else "station"
            )
            before = await _last_audit_id(bot)
            answers = sandbox.stats.calls["answerCallbackQuery"]
            messages = len(user.messages)
            if attempt.command is not None:
                name, _, args = attempt.command.partition(" ")
                await user.command(name, args or None)
            else:
                assert attempt.data is not None
                answer = await user.press(user.messages[-1], data=attempt.data)
                assert answer is not None and answer["show_alert"], attempt
            await bot.settle()
            label = attempt.command or attempt.data
            rows = await _audit_after(bot, before)
            assert len(rows) == 1, (label, [(r.action, r.reason) for r in rows])
            row = rows[0]
            assert (row.actor_id, row.action, row.allowed, row.reason) == (
                ids[attempt.who],
                attempt.action,
                False,
                reason,
            ), label
            assert (row.subject_type, row.subject_id) == (subject_type, attempt.subject_id), label
            if attempt.command is not None:
                assert len(user.messages) == messages + 1, label  # one reply
                assert sandbox.stats.calls["answerCallbackQuery"] == answers, label
            else:
                # One answer: a second (failed) answerCallbackQuery would count too.
                assert sandbox.stats.calls["answerCallbackQuery"] == answers + 1, label
                assert len(user.messages) == messages, label
        async with bot.runtime.sessions() as s:
            statuses = (await s.execute(select(InboxUpdate.status))).scalars().all()
    assert statuses and set(statuses) == {"done"}
