"""The names of activity types and campaigns as a person reads them (messages, sheets, desk)."""

from __future__ import annotations

from bot.content.taxonomy import Taxonomy, default_taxonomy
from bot.i18n import N_, Translator

TYPE_LABELS: dict[str, str] = {
    "lecture": N_("Lecture/training"),
    "exhibition": N_("Exhibition"),
    "consultation": N_("Consultation"),
    "competition": N_("Competition"),
    "online_live": N_("Online live session"),
    "other": N_("Other activity"),
}

# How a content use reads in a sentence ("played", "put up"): the bot's cards and the desk.
USE_KIND_LABELS: dict[str, str] = {
    "played": N_("played"),
    "posted": N_("put up"),
    "other": N_("used"),
}


def type_label(t: Translator, code: str | None) -> str:
    """Return the localised name of an activity type."""
    return t(TYPE_LABELS[code]) if code in TYPE_LABELS else (code or "—")


def campaign_label(t: Translator, code: str | None, taxonomy: Taxonomy | None = None) -> str:
    """Return the localised name of a campaign, or a dash for none.

    ``taxonomy``: the one of ``bot.services.campaigns.taxonomy_with_campaigns``, which
    names config and curators' campaigns too (the static one names only its own).
    """
    if not code:
        return t("none")
    return (taxonomy or default_taxonomy()).campaign_name(code, t.locale)
