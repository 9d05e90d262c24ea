"""Daily reminders: idle informants, idle stations, rectification deadlines.

Reminders are outbox messages (kind ``message``), each with a dedupe key, so a re-run of the
same day enqueues nothing new and the rate-limited sender delivers them:

- ``reminder:idle_informant:<informant>:<day>`` — no share for 14 days; at most one per
  informant per 14 days (earlier keys of the last 14 days are looked up first);
- ``reminder:idle_station:<station>:<person>:<day>`` — a counted station with no activity
  for 30 days, to its admins; at most one per station per 30 days;
- ``reminder:rectify:<station>:<deadline>:<n>:<person>`` — n ∈ {7, 1} days before the
  rectification deadline, to the station admins (once per notice);
- ``reminder:rectify_overdue:<station>:<deadline>:<person>`` — the deadline passed and
  the station is still rectifying: its admins and its county's coordinators, once.
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import get_translator
from bot.services.tally import COUNTED_STATES
from storage import reminders as store
from storage.outbox import NewMessage
from storage.reminders import Contact

IDLE_INFORMANT_DAYS = 14
IDLE_STATION_DAYS = 30
RECTIFY_NOTICE_DAYS = (7, 1)  # smallest applicable notice wins, so a late run sends one


@dataclass(frozen=True)
class Planned:
    """A reminder to enqueue, and which rule made it."""

    rule: str
    message: NewMessage


def _message(rule: str, contact: Contact, key: str, text: str, now: dt.datetime) -> Planned:
    return Planned(
        rule,
        NewMessage(
            chat_id=contact.chat_id,
            kind="message",
            payload={"text": text, "reminder": rule},
            dedupe_key=key,
            due_at=now,
        ),
    )


def _esc(value: object) -> str:

    return html.escape(str(value), quote=False)


def _subjects(keys: list[str], prefix: str) -> set[str]:
    """Return the subject ids (the part after the prefix) of earlier reminder keys."""
    return {key[len(prefix) :].split(":", 1)[0] for key in keys}


async def plan(
    *, session: AsyncSession, today: dt.date, now: dt.datetime, default_locale: str
) -> list[Planned]:
    """Return the reminders due today (nothing is written)."""
    planned: list[Planned] = []

    def t_for(contact: Contact) -> Any:
        return get_translator(contact.language or default_locale)

    # Informants with no share for 14 days.
    prefix = "reminder:idle_informant:"
    recent = _subjects(
        await store.recent_keys(
            session=session, prefix=prefix, since=now - dt.timedelta(days=IDLE_INFORMANT_DAYS)
        ),
        prefix,
    )
    for informant_id, contact, station_name in await store.idle_informants(
        session=session,
        no_share_since=today - dt.timedelta(days=IDLE_INFORMANT_DAYS - 1),
        joined_before=now - dt.timedelta(days=IDLE_INFORMANT_DAYS),
        station_states=COUNTED_STATES,
    ):
        if str(informant_id) in recent:
            continue
        t = t_for(contact)
        text = t(
            "Hello! You have not shared anything for two weeks. One good piece of science "
            "passed on to your groups helps {station} and the people around you — "
            "/feed has the latest.",
            station=_esc(station_name),
        )
        planned.append(
            _message("idle_informant", contact, f"{prefix}{informant_id}:{today}", text, now)
        )
    # Stations with no activity for 30 days.
    prefix = "reminder:idle_station:"
    recent = _subjects(
        await store.recent_keys(
            session=session, prefix=prefix, since=now - dt.timedelta(days=IDLE_STATION_DAYS)
        ),
        prefix,
    )
    stations = [
        s
        for s in await store.idle_stations(
            session=session,
            no_activity_since=today - dt.timedelta(days=IDLE_STATION_DAYS - 1),
            counted_before=now - dt.timedelta(days=IDLE_STATION_DAYS),
            station_states=COUNTED_STATES,
        )
        if str(s.id) not in recent
    ]
    admins = await store.station_admins(session=session, station_ids=[s.id for s in stations])
    for station in stations:
        for contact in admins.get(station.id, []):
            t = t_for(contact)
            text = t(
                "{station} has registered no activity for 30 days. A talk, an exhibition "
                "or a consultation counts — register it with /activity.",
                station=_esc(station.name),
            )
            planned.append(
                _message(
                    "idle_station",
                    contact,
                    f"{prefix}{station.id}:{contact.person_id}:{today}",
                    text,
                    now,
                )
            )
    planned += await _rectifications(session=session, today=today, now=now, t_for=t_for)
    return planned


async def _rectifications(
    *, session: AsyncSession, today: dt.date, now: dt.datetime, t_for: Any
) -> list[Planned]:
    """Return deadline notices (7 and 1 days before) and overdue warnings."""
    due = await store.rectifications(
        session=session, until=today + dt.timedelta(days=max(RECTIFY_NOTICE_DAYS))
    )
    admins = await store.station_admins(session=session, station_ids=[s.id for s in due])
    overdue = [s for s in due if s.deadline is not None and s.deadline < today]
    coordinators = await store.coordinators_of(
        session=session, region_codes=sorted({s.region_code for s in overdue if s.region_code})
    )
    planned: list[Planned] = []
    for station in due:
        deadline = station.deadline
        assert deadline is not None
        name = _esc(station.name)
        if deadline < today:
            for contact in [
                *admins.get(station.id, []),
                *coordinators.get(station.region_code or "", []),
            ]:
                t = t_for(contact)
                text = t(
                    "The rectification deadline of {station} ({date}) has passed and the "
                    "station is still under rectification.",
                    station=name,
                    date=t.date(deadline),
                )
                planned.append(
                    _message(
                        "rectify_overdue",
                        contact,
                        f"reminder:rectify_overdue:{station.id}:{deadline}:{contact.person_id}",
                        text,
                        now,
                    )
                )
            continue
        days_left = (deadline - today).days
        notice = min(n for n in RECTIFY_NOTICE_DAYS if n >= days_left)
        for contact in admins.get(station.id, []):
            t = t_for(contact)
            text = t.plural(
                "{station} must finish its rectification by {date} ({n} day left).",
                "{station} must finish its rectification by {date} ({n} days left).",
                days_left,
                station=name,
                date=t.date(deadline),
            )
            planned.append(
                _message(
                    "rectify_notice",
                    contact,
                    f"reminder:rectify:{station.id}:{deadline}:{notice}:{contact.person_id}",
                    text,
                    now,
                )
            )
    return planned
