"""How activities look in messages: labels, summaries and refusal texts (localised)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.core.error_text import error_text as domain_text
from bot.handlers.common import esc
from bot.i18n import N_, Translator
from bot.services.activities import ActivityError
from bot.services.activity_labels import TYPE_LABELS as TYPE_LABELS  # re-exported: the form
from bot.services.activity_labels import campaign_label, type_label
from bot.services.content_use import ContentUseError
from storage.models import Activity

TYPE_EMOJI = {"lecture": "🎤", "exhibition": "🖼", "consultation": "💬", "competition": "🏆",
              "online_live": "📺", "other": "📌"}  # fmt: skip
# Campaigns offered as buttons (all configured ones may still come from a typed message).
FORM_CAMPAIGNS = ("science_day", "st_week")

FIELD_LABELS: dict[str, str] = {
    "type": N_("Type"),
    "title": N_("Title"),
    "when": N_("Date"),
    "place": N_("Place"),
    "participants": N_("Participants"),
    "campaign": N_("Campaign"),
    "photos": N_("Photos"),
}


def error_text(t: Translator, exc: ActivityError | ContentUseError) -> str:
    """Return the localised message of a refusal."""
    params = {k: (t.date(v, "long") if isinstance(v, dt.date) else v)
              for k, v in exc.params.items()}  # fmt: skip
    return domain_text(exc, t, params=params)


def when_label(t: Translator, held_on: str | dt.date | None, clock: str | None) -> str:
    """Return a date (and time) as the user reads it."""
    if held_on is None:
        return "—"
    day = dt.date.fromisoformat(held_on) if isinstance(held_on, str) else held_on
    text = t.date(day, "long")
    return f"{text} {clock}" if clock else text


def summary(t: Translator, fields: dict[str, Any], station_name: str | None) -> str:
    """Return the lines describing a draft or stored activity (user text escaped)."""
    rows = []
    if station_name:
        rows.append(t("Station: {name}", name=esc(station_name)))
    rows += [
        t("Type: {value}", value=type_label(t, fields.get("type"))),
        t("Title: {value}", value=esc(fields.get("title") or "—")),
        t("Date: {value}", value=when_label(t, fields.get("held_on"), fields.get("held_at_time"))),
        t("Place: {value}", value=esc(fields.get("place") or "—")),
        t(
            "Participants: {value}",
            value=t.number(fields["participants"]) if fields.get("participants") else "—",
        ),
        t("Campaign: {value}", value=campaign_label(t, fields.get("campaign"))),
        t("Photos: {value}", value=t.number(len(fields.get("photos") or []))),
        t("Sales or sponsors: yes") if fields.get("commercial") else t("Sales or sponsors: no"),
    ]
    return "\n".join(rows)


def activity_line(t: Translator, activity: Activity, photos: int | None = None) -> str:
    """Return one list line for a stored activity."""
    flag = " ⚠️" if activity.flagged else ""
    place = f" · {esc(activity.place)}" if activity.place else ""
    return (
        f"{TYPE_EMOJI.get(activity.type, '📌')} <b>{esc(activity.title)}</b>{flag}\n"
        f"    {when_label(t, activity.held_on, None)} · {type_label(t, activity.type)}"
        f"{place} · " + t.plural("{n} participant", "{n} participants", activity.participants)
    )
