"""Reviews that wait too long: the reviewers are reminded, then the level above is told.

An application waits at its stage since it got there: county review since it was submitted,
city re-verification since the county approved it (``storage.reminders.waiting_reviews``,
the one definition of a review's age, also shown on the desk). The daily ``reminders`` job
calls ``plan`` and ``record`` in one transaction:

- once it has waited ``[stations] review_reminder_days`` (in whole days of the configured
  timezone), its reviewers are reminded — the county coordinators of its county for the
  county stage, the city's for the city stage;
- once it has waited ``review_escalate_days``, the level above is told — the city for the
  county stage, the province for the city stage, the admins when nobody holds that level.

Each notice is an outbox ``message`` (sent after the commit) with a button that opens the
desk's reviews queue (a Mini App button: these are private chats) and the bot's own
"open the application" button (``REV:open:<id>``), which sends the evidence and the card
with the decisions the reader may take — so nobody needs the Mini App to act.

Idempotent: each notice sent is recorded in the audit log (``review.remind`` /
``review.escalate``, with the stage and the time it waits since), which is kept, unlike sent
outbox rows; a notice is sent once per stage and waiting period, however many runs follow.
A resubmitted application waits anew, and is reminded anew. The outbox dedupe key
(``review:remind:<station>:<status>:<since>:<person>``) keeps a same-run repeat out too.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import StationsSettings
from bot.core.callback_data import CallbackData
from bot.i18n import N_, Translator, get_translator
from bot.services import regions as region_service
from bot.services.access import coordinator_grants, is_admin, region_prefix
from bot.services.review import city_code_of
from storage import audit
from storage import reminders as store
from storage.models import RoleGrant
from storage.outbox import NewMessage
from storage.reminders import Contact, WaitingReview

REMIND = "review.remind"
ESCALATE = "review.escalate"
RULES = {REMIND: "review_remind", ESCALATE: "review_escalate"}
STAGE_NAMES = {
    "submitted": N_("county review"),
    "county_approved": N_("city re-verification"),
}


# The bot's review button, defined here so that the reminders (built below the handlers)
# carry the very button the review card has; ``bot.handlers.callbacks`` re-exports it.
@dataclass(frozen=True)
class ReviewButton(CallbackData, prefix="REV"):
    """Open or decide on a station under review; ``today``/``yday`` carry station 0."""

    action: Literal["open", "ok", "no", "rec", "back", "today", "yday"]
    station_id: int


OPEN_LABEL = N_("📄 Open the application in the bot")
DESK_LABEL = N_("🗂 Open the review queue (desk)")


DESK_REVIEWS_PAGE = "queues/reviews"  # the desk page a reminder opens


def province_code_of(code: str) -> str:
    """Return the province code above a region."""
    return code[:2] + "0000"


def waited_days(since: dt.datetime, today: dt.date, tz: dt.tzinfo) -> int:
    """Return the whole days a review has waited by ``today`` (0 on the day it arrived)."""
    return (today - since.astimezone(tz).date()).days


@dataclass(frozen=True)
class Waiting:
    """A review waiting, with its age in days."""

    review: WaitingReview
    days: int
    where: str = ""


async def waiting_for(
    *,
    session: AsyncSession,
    grants: Sequence[RoleGrant],
    today: dt.date,
    tz: dt.tzinfo,
    limit: int | None = None,
) -> list[Waiting]:
    """Return every review waiting in the person's area (admins: everywhere), oldest first.

    A county coordinator sees the county stage of their county and what went on to the city;
    a city or province coordinator sees both stages below them (they are the level a late
    review is escalated to). Which decisions they may take is ``review.available_actions``.
    """
    prefixes: list[str] | None = None
    if not is_admin(grants):
        prefixes = [
            region_prefix(code)
            for code in coordinator_grants(grants, ("county", "city", "province"))
        ]
    rows = await store.waiting_reviews(session=session, region_prefixes=prefixes, limit=limit)
    names: dict[str, str] = {}
    out = []
    for row in rows:
        code = row.region_code or ""
        if code not in names:
            names[code] = await region_service.full_name(session=session, code=code)
        out.append(Waiting(row, waited_days(row.since, today, tz), names[code]))
    return out


async def waiting_of(
    *, session: AsyncSession, station_id: int, today: dt.date, tz: dt.tzinfo
) -> Waiting | None:
    """Return how long one application has waited at its stage (None: it waits for nobody)."""
    rows = await store.waiting_reviews(session=session, station_ids=[station_id])
    if not rows:
        return None
    return Waiting(rows[0], waited_days(rows[0].since, today, tz))


@dataclass
class PlannedReview:
    """One reminder or escalation about one review: its messages and who gets them."""

    action: str  # REMIND or ESCALATE
    review: WaitingReview
    days: int
    recipients: list[Contact]
    messages: list[NewMessage] = field(default_factory=list)

    @property
    def rule(self) -> str:
        """Return the job summary's name of the rule."""
        return RULES[self.action]


def _esc(value: object) -> str:
    return html.escape(str(value), quote=False)


def _rows(t: Translator, station_id: int, desk_url: str | None) -> list[list[dict[str, Any]]]:
    """Return the notice's buttons: the desk's queue (Mini App) and the bot's card."""
    rows: list[list[dict[str, Any]]] = []
    if desk_url:
        rows.append([{"text": t(DESK_LABEL), "web_app": {"url": desk_url}}])
    rows.append(
        [
            {
                "text": t(OPEN_LABEL),
                "callback_data": ReviewButton("open", station_id).encode(),
            }
        ]
    )
    return rows


def _remind_text(t: Translator, review: WaitingReview, days: int, where: str) -> str:
    params = {
        "name": _esc(review.name),
        "id": review.station_id,
        "where": _esc(where or "—"),
    }
    if review.status == "submitted":
        return t.plural(
            "⏰ The station application {name} (#{id}, {where}) has waited {n} day for your "
            "county review. Please review it (material and on-site check): open it below, "
            "or send /pending.",
            "⏰ The station application {name} (#{id}, {where}) has waited {n} days for your "
            "county review. Please review it (material and on-site check): open it below, "
            "or send /pending.",
            days,
            **params,
        )
    return t.plural(
        "⏰ The county-approved station {name} (#{id}, {where}) has waited {n} day for your "
        "re-verification. Please re-verify it: open it below, or send /pending.",
        "⏰ The county-approved station {name} (#{id}, {where}) has waited {n} days for your "
        "re-verification. Please re-verify it: open it below, or send /pending.",
        days,
        **params,
    )


def _escalate_text(
    t: Translator,
    review: WaitingReview,
    days: int,
    where: str,
    reminded: bool,
    remind_days: int,
) -> str:
    params: dict[str, Any] = {
        "name": _esc(review.name),
        "id": review.station_id,
        "where": _esc(where or "—"),
        "stage": t(STAGE_NAMES[review.status]),
    }
    head = t.plural(
        "⚠ Overdue review: {name} (#{id}, {where}) has waited {n} day for {stage}.",
        "⚠ Overdue review: {name} (#{id}, {where}) has waited {n} days for {stage}.",
        days,
        **params,
    )
    if reminded:
        tail = t.plural(
            "Its reviewers were reminded after {n} day. Please follow up with them.",
            "Its reviewers were reminded after {n} days. Please follow up with them.",
            remind_days,
        )
    else:
        tail = t(
            "Nobody holds the reviewing role there yet: please appoint a coordinator, "
            "or see that it is reviewed."
        )
    return head + "\n" + tail


def _message(
    key: str, contact: Contact, text: str, rows: list[list[dict[str, Any]]], now: dt.datetime
) -> NewMessage:
    return NewMessage(
        chat_id=contact.chat_id,
        kind="message",
        payload={"text": text, "rows": rows, "reminder": key.split(":", 2)[1]},
        dedupe_key=key,
        due_at=now,
    )


async def _reviewers(session: AsyncSession, review: WaitingReview) -> list[Contact]:
    code = review.region_code or ""
    target = code if review.status == "submitted" else city_code_of(code)
    found = await store.coordinators_of(
        session=session, region_codes=[target], reachable_only=True
    )
    return found.get(target, [])


async def _above(session: AsyncSession, review: WaitingReview) -> list[Contact]:
    """Return the level above the reviewers: the nearest level with someone, else admins."""
    code = review.region_code or ""
    levels = [city_code_of(code), province_code_of(code)]
    if review.status == "county_approved":
        levels = levels[1:]
    for target in levels:
        found = await store.coordinators_of(
            session=session, region_codes=[target], reachable_only=True
        )
        if found.get(target):
            return found[target]
    return await store.admins(session=session)


async def plan(
    *,
    session: AsyncSession,
    stations: StationsSettings,
    today: dt.date,
    tz: dt.tzinfo,
    now: dt.datetime,
    default_locale: str,
    desk_url: str | None = None,
) -> list[PlannedReview]:
    """Return the review reminders and escalations due today and not sent before."""
    remind_days, escalate_days = stations.review_reminder_days, stations.review_escalate_days
    waiting = [
        (row, waited_days(row.since, today, tz))
        for row in await store.waiting_reviews(session=session)
    ]
    waiting = [(row, days) for row, days in waiting if days >= remind_days]
    sent = await store.review_notices_sent(
        session=session, actions=(REMIND, ESCALATE), station_ids=[r.station_id for r, _ in waiting]
    )
    planned: list[PlannedReview] = []
    for row, days in waiting:
        since = row.since.isoformat()
        where = await region_service.full_name(session=session, code=row.region_code)
        reminded = (row.station_id, REMIND, row.status, since) in sent
        if not reminded:
            reviewers = await _reviewers(session, row)
            if reviewers:
                item = PlannedReview(REMIND, row, days, reviewers)
                for contact in reviewers:
                    t = get_translator(contact.language or default_locale)
                    item.messages.append(
                        _message(
                            f"review:remind:{row.station_id}:{row.status}:{since}:"
                            f"{contact.person_id}",
                            contact,
                            _remind_text(t, row, days, where),
                            _rows(t, row.station_id, desk_url),
                            now,
                        )
                    )
                planned.append(item)
                reminded = True
        if days < escalate_days or (row.station_id, ESCALATE, row.status, since) in sent:
            continue
        above = await _above(session, row)
        if not above:
            continue
        item = PlannedReview(ESCALATE, row, days, above)
        for contact in above:
            t = get_translator(contact.language or default_locale)
            item.messages.append(
                _message(
                    f"review:escalate:{row.station_id}:{row.status}:{since}:{contact.person_id}",
                    contact,
                    _escalate_text(t, row, days, where, reminded, remind_days),
                    _rows(t, row.station_id, desk_url),
                    now,
                )
            )
        planned.append(item)
    return planned


async def record(
    *, session: AsyncSession, planned: Sequence[PlannedReview], now: dt.datetime
) -> None:
    """Audit each planned notice (which also keeps it from being sent again)."""
    for item in planned:
        review = item.review
        await audit.record(
            session=session,
            actor_id=None,
            action=item.action,
            now=now,
            subject_type="station",
            subject_id=review.station_id,
            region_code=review.region_code,
            detail={
                "status": review.status,
                "since": review.since.isoformat(),
                "days": item.days,
                "to": [c.person_id for c in item.recipients],
            },
        )
