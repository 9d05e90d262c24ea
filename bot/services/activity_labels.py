"""The names of activity types and campaigns as a person reads them (messages, sheets, desk)."""

from __future__ import annotations

from bot.content.taxonomy import default_taxonomy
from bot.i18n import N_, Translator

TYPE_LABELS: dict[str, str] = {
    "lecture": N_("Lecture/training"),
    "exhibition": N_("Exhibition"),
    "consultation": N_("Consultation"),
    "competition": N_("Competition"),
    "online_live": N_("Online live session"),
    "other": N_("Other activity"),
}


def type_label(t: Translator, code: str | None) -> str:
    """Return the localised name of an activity type."""
    return t(TYPE_LABELS[code]) if code in TYPE_LABELS else (code or "—")


def campaign_label(t: Translator, code: str | None) -> str:
    """Return the localised name of a campaign, or a dash for none."""
    if not code:
        return t("none")
    return default_taxonomy().campaign_name(code, t.locale)
