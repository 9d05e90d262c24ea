"""How ``kepubot audit`` names actions and subjects: words of the configured language.

One table of every action code passed to ``audit.record`` / ``audit_refusal`` (grep
``action=``); derived codes (``finding.raise.<kind>``, ``command.<name>``,
``button.<prefix>``) are composed; an unknown code is shown as it is.
"""

from __future__ import annotations

from bot.i18n import N_, Translator
from bot.services.findings import KIND_NAMES

ACTION_NAMES: dict[str, str] = {
    "activity.create": N_("registered an activity"),
    "activity.register": N_("registered an activity"),
    "activity.edit": N_("changed an activity"),
    "activity.delete": N_("deleted an activity"),
    "activity.list": N_("listed activities"),
    "content.create": N_("added content"),
    "content.edit": N_("changed content"),
    "content.import": N_("imported content"),
    "content.push": N_("pushed content"),
    "content.push.paid": N_("chose a paid push"),  # reach: paid broadcasts
    "content.retire": N_("retired content"),
    "content.use": N_("recorded a content use"),
    "evaluation.confirm": N_("confirmed an evaluation proposal"),
    "evaluation.override": N_("did not adopt an evaluation proposal"),
    "finding.confirm": N_("confirmed a finding"),
    "finding.dismiss": N_("dismissed a finding"),
    "finding.decide": N_("decided on a finding"),
    "finding.close": N_("closed a finding"),
    "informant.join": N_("informant joined"),
    "informant.remove": N_("removed an informant"),
    "informant.transfer": N_("informant changed station"),
    "informant.roster": N_("looked at the informant list"),
    "invite.create": N_("created an invite link"),
    "invite.renew": N_("renewed an invite link"),
    "invite.revoke": N_("revoked an invite link"),
    "invite.show": N_("looked at an invite link"),
    "privacy.export": N_("exported personal data"),
    "privacy.forget": N_("deleted personal data"),
    "regions.import": N_("imported regions"),
    "role.grant": N_("granted a role"),
    "role.revoke": N_("revoked a role"),
    "station.create": N_("added a station"),
    "station.submit": N_("submitted a station application"),
    "station.county_approve": N_("approved at county level"),
    "station.county_reject": N_("rejected at county level"),
    "station.city_recognise": N_("recognised at city level"),
    "station.city_send_back": N_("sent back at city level"),
    "station.rectify": N_("ordered rectification"),
    "station.lift": N_("lifted rectification"),
    "station.revoke": N_("revoked recognition"),
    "message": N_("sent a message"),
}
SUBJECT_NAMES: dict[str, str] = {
    "activity": N_("activity #{id}"),
    "content": N_("content #{id}"),
    "content_source": N_("content source #{id}"),
    "content_use": N_("content use #{id}"),
    "evaluation_proposal": N_("evaluation proposal #{id}"),
    "informant": N_("informant #{id}"),
    "integrity_flag": N_("finding #{id}"),
    "person": N_("person #{id}"),
    "push": N_("push #{id}"),  # reach: paid broadcasts
    "region": N_("region #{id}"),
    "share_event": N_("share #{id}"),
    "station": N_("station #{id}"),
}


def action_text(t: Translator, code: str) -> str:
    """Return the action in words, or the code when it is not known."""
    if code in ACTION_NAMES:
        return t(ACTION_NAMES[code])
    head, _, rest = code.partition(".")
    if code.startswith("finding.raise.") or head == "flag":
        kind = code.removeprefix("finding.raise.") if head == "finding" else rest
        name = t(KIND_NAMES[kind]) if kind in KIND_NAMES else kind
        return t("raised a finding: {kind}", kind=name)
    if head == "command" and rest:
        return t("command /{name}", name=rest)
    if head == "button" and rest:
        return t("button {name}", name=rest)
    return code


def subject_text(
    t: Translator, subject_type: str | None, subject_id: int | None, name: str | None = None
) -> str:
    """Return e.g. 站点 #1（文三路小学科普e站）; a type without words stays as a code."""
    if subject_type is None or subject_type in ("command", "button"):
        return "-"  # a refused command or button: the action already names it
    shown = "-" if subject_id is None else str(subject_id)
    if subject_type not in SUBJECT_NAMES:
        return f"{subject_type}:{shown}"
    text = t(SUBJECT_NAMES[subject_type], id=shown)
    return t("{subject} ({name})", subject=text, name=name) if name else text
