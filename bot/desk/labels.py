"""Names the desk shows for stored codes, reusing the bot's msgids (one wording)."""

from __future__ import annotations

from bot.i18n import N_, Translator
from bot.services.activity_labels import TYPE_LABELS, USE_KIND_LABELS
from bot.services.finding_text import KIND_NAMES, STATUS_NAMES
from bot.services.stations import STATE_NAMES
from storage.models import Region

# The bot's own names of activity types and content uses (one wording).
ACTIVITY_TYPES = TYPE_LABELS
USE_KINDS = USE_KIND_LABELS
REVIEW_STAGES: dict[str, str] = {
    "county": N_("desk: county review"),
    "city": N_("desk: city re-verification"),
    "management": N_("desk: management"),
}


def state_name(t: Translator, status: str) -> str:
    """Return a station status in the reader's words."""
    return t(STATE_NAMES.get(status, status))


def finding_kind(t: Translator, kind: str) -> str:
    """Return a finding's kind in the reader's words."""
    return t(KIND_NAMES.get(kind, kind))


def finding_status(t: Translator, status: str) -> str:
    """Return a finding's status in the reader's words."""
    return t(STATUS_NAMES.get(status, status))


def region_name(t: Translator, region: Region | None, code: str = "") -> str:
    """Return a region's name in the reader's language (the code when unknown)."""
    if region is None:
        return code
    if t.locale == "en" and region.name_en:
        return region.name_en
    return region.name


def label(t: Translator, names: dict[str, str], code: str | None) -> str:
    """Return ``names[code]`` translated, or the code itself."""
    if not code:
        return ""
    return t(names[code]) if code in names else code


# Station decisions (StationReview.decision, and audit actions "station.<decision>").
DECISIONS: dict[str, str] = {
    "create": N_("desk: application started"),
    "submit": N_("desk: application submitted"),
    "county_approve": N_("desk: approved by the county"),
    "county_reject": N_("desk: rejected by the county"),
    "city_recognise": N_("desk: recognised by the city"),
    "city_send_back": N_("desk: sent back by the city"),
    "rectify": N_("desk: ordered to rectify"),
    "lift": N_("desk: rectification lifted"),
    "revoke": N_("desk: recognition revoked"),
}


def decision(t: Translator, action: str) -> str:
    """Return an audit action or review decision in the reader's words (else the code)."""
    code = action.removeprefix("station.")
    return t(DECISIONS[code]) if code in DECISIONS else action
