"""Why a finding (疑点) was raised, and why a re-check closed it, in plain words.

Rendered from ``kind`` + ``detail`` through the catalogue, so a coordinator reads the
reason in their language (docs/integrity.md lists the kinds).
"""

from __future__ import annotations

from typing import Any

from bot.i18n import N_, Translator
from storage.models import IntegrityFlag

# The one table of finding kinds (every output names a kind from it), in the order the
# integrity report lists them.
KIND_NAMES: dict[str, str] = {
    "photo_reuse": N_("reused photo"),
    "participants_high": N_("unusually many participants"),
    "audience_capped": N_("reported audience capped"),
    "application_burst": N_("burst of applications"),
    "unverified_reach": N_("reported audiences without verified visits"),
    "paper_station": N_("station on paper only"),
    "duplicate_activity": N_("activity registered twice"),
    "duplicate_use": N_("content use recorded twice"),
    "commercial": N_("possibly commercial activity"),
}
STATUS_NAMES: dict[str, str] = {
    "open": N_("awaiting review"),
    "confirmed": N_("confirmed"),
    "dismissed": N_("dismissed"),
    "closed": N_("closed (no longer holds after a re-check)"),
}


_OTHER = {
    "activity": N_("activity no. {id}"),
    "station_evidence": N_("an application evidence photo (no. {id})"),
}
CLOSED_WHY = {
    "participants_corrected": N_("the participants were corrected to {participants}"),
    "commercial_cleared": N_("the sales answer and the wording were corrected"),
    "photo_replaced": N_("the photo was replaced"),
    "other_gone": N_("the photo it matched is no longer used"),
    "duplicate_gone": N_("the copies no longer match (edited or deleted)"),
    "activity_deleted": N_("the activity was deleted"),
    "evidence_replaced": N_("the evidence photo was replaced"),
    "unverified_reach_gone": N_("the reported audiences now have verified visits"),
    "paper_station_gone": N_("the station now has informants and activity"),
}


def why(t: Translator, flag: IntegrityFlag) -> str:
    """Return one sentence saying why the finding was raised."""
    d: dict[str, Any] = dict(flag.detail or {})
    kind = flag.kind
    if kind == "participants_high":
        return t(
            "{participants} participants were reported, more than the usual bound of {bound}.",
            participants=t.number(int(d.get("participants", 0))),
            bound=t.number(int(d.get("bound", 0))),
        )
    if kind == "photo_reuse":
        if d.get("other_id") is None:  # an older row without the match's facts
            other = t("another photo")
        else:
            other = t(
                _OTHER.get(str(d.get("other_type")), _OTHER["activity"]), id=d.get("other_id")
            )
        other_station = d.get("other_station_id")
        if other_station is not None and other_station != flag.station_id:
            other = t("{other} of station no. {id}", other=other, id=other_station)
        if d.get("match") == "phash":
            return t(
                "A photo is almost identical to {other} (perceptual hash differs in {n} of 64 "
                "bits): probably the same picture uploaded again or resized.",
                other=other,
                n=d.get("distance", 0),
            )
        return t("A photo is the very same file as {other}.", other=other)
    if kind == "audience_capped":
        return t(
            "A share was reported with an audience of {n}; it was counted as {cap}.",
            n=t.number(int(d.get("reported", 0))),
            cap=t.number(int(d.get("cap", 0))),
        )
    if kind == "duplicate_activity":
        return t(
            "Same station, date, type and title as activity no. {id}: possibly registered twice.",
            id=d.get("other_id"),
        )
    if kind == "duplicate_use":
        return t(
            "The same content use (item, day, kind, place and audience of {n}) was already "
            "recorded as no. {id}.",
            n=t.number(int(d.get("audience", 0))),
            id=d.get("other_id"),
        )
    if kind == "commercial":
        parts = []
        if d.get("answer"):
            parts.append(t("The form says sales or sponsors were involved."))
        if d.get("words"):
            parts.append(t("The title or place mentions: {words}.", words="、".join(d["words"])))
        parts.append(t("Stations may not host purely commercial activities (article 12)."))
        return "".join(parts) if t.locale.startswith("zh") else " ".join(parts)
    if kind == "unverified_reach" and not d.get("shares"):
        return t(
            "Reported audiences add up to {reach}, but the tracked links got no verified visit.",
            reach=t.number(int(d.get("reported_reach", 0))),
        )
    if kind == "unverified_reach":
        return t(
            "Informants reported audiences of {reach} in {shares} shares, but their tracked "
            "links got no verified visit.",
            reach=t.number(int(d.get("reported_reach", 0))),
            shares=t.number(int(d.get("shares", 0))),
        )
    if kind == "paper_station":
        reasons = d.get("reasons") or []
        if "no_informants" in reasons:
            return t("The station is counted but has no current informant.")
        return t(
            "The station is counted but had no share, activity or content use in {days} days.",
            days=d.get("inactive_days", 0),
        )
    if kind == "application_burst" and "window_hours" not in d:
        return t(
            "{n} applications were submitted in this county within a short time.",
            n=d.get("count", 0),
        )
    if kind == "application_burst":
        return t(
            "{n} station applications were submitted in one county within {hours} hours "
            "(threshold {threshold}).",
            n=d.get("count", 0),
            hours=d.get("window_hours", 0),
            threshold=d.get("threshold", 0),
        )
    return t("Integrity finding: {kind}.", kind=kind)


def closed_why(t: Translator, flag: IntegrityFlag) -> str | None:
    """Return why a re-check closed the finding, or None if it was not closed by one."""
    code = (flag.detail or {}).get("closed_why")
    if flag.status != "closed" or code not in CLOSED_WHY:
        return None
    return t(
        "No longer holds: {why}.",
        why=t(
            CLOSED_WHY[code],
            participants=t.number(int((flag.detail or {}).get("now_participants", 0))),
        ),
    )


def finding_status(t: Translator, status: str, reason: str | None) -> str:
    """Return a finding's status in words, with the decision's reason if there is one."""
    name = t(STATUS_NAMES.get(status, status))
    return t("{status}: {reason}", status=name, reason=reason) if reason else name


def status_of(t: Translator, finding: IntegrityFlag) -> str:
    """Return a stored finding's status in words: a decision with its reason, a re-check's
    close with why it no longer holds (finding_text.closed_why)."""
    if finding.status == "closed":
        return closed_why(t, finding) or t(STATUS_NAMES["closed"])
    return finding_status(t, finding.status, finding.decision_reason)
