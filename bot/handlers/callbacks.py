"""Every handler button's callback data: one typed codec per family, grouped by prefix.

The wire format is the one the bot has always sent (``REV:ok:42``), so buttons already in
users' chats keep working. Codes from the catalogue (venues, categories, regions…) are
plain strings the handler still checks; action tags are ``Literal`` sets, so an unknown
action does not decode. The card's "Used offline" button lives with the card
(``bot.content.cards.UseOffline``): cards are rendered below the handlers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from telegram import Update

from bot.core.callback_data import CallbackData, Family
from bot.i18n import N_
from bot.runtime.context import KepuContext

log = logging.getLogger(__name__)

INVALID_BUTTON = N_("This button is no longer active.")


async def answer_invalid(update: Update, context: KepuContext) -> None:
    """Answer a press whose data does not decode: the button is outdated or forged."""
    query = update.callback_query
    assert query is not None
    log.info("callback data does not decode", extra={"data": query.data})
    await query.answer(context.t(INVALID_BUTTON), show_alert=True)


# --- basics: /language ----------------------------------------------------------------------
@dataclass(frozen=True)
class LanguageChoice(CallbackData, prefix="LANG"):
    """A language picked in /language."""

    locale: str


# --- informants: joining (JN), settings (SET), /forget (FGT), /invite (INV), roster (ROS) --
@dataclass(frozen=True)
class JoinConsent(CallbackData, prefix="JN"):
    """Agree to or decline the terms."""

    answer: Literal["agree", "decline"]


@dataclass(frozen=True)
class JoinLanguage(CallbackData, prefix="JN:lang"):
    """Switch language on the consent screen."""

    locale: str


@dataclass(frozen=True)
class JoinTransfer(CallbackData, prefix="JN"):
    """Move to the inviting station or stay with the current one."""

    answer: Literal["move", "stay"]


@dataclass(frozen=True)
class JoinTopic(CallbackData, prefix="JN:int"):
    """Toggle one interest topic."""

    code: str


@dataclass(frozen=True)
class JoinTopicsDone(CallbackData, prefix="JN:done"):
    """Finish choosing topics."""


@dataclass(frozen=True)
class JoinEdit(CallbackData, prefix="JN:edit"):
    """Change one answer from the confirmation screen."""

    what: Literal["name", "phone", "topics"]


@dataclass(frozen=True)
class JoinConfirm(CallbackData, prefix="JN:ok"):
    """Confirm and join."""


JOIN: Family[
    JoinConsent | JoinLanguage | JoinTransfer | JoinTopic | JoinTopicsDone | JoinEdit | JoinConfirm
] = Family(
    "JN", JoinConsent, JoinLanguage, JoinTransfer, JoinTopic, JoinTopicsDone, JoinEdit, JoinConfirm
)


@dataclass(frozen=True)
class SettingsAction(CallbackData, prefix="SET"):
    """Open a part of the settings menu, or act on it directly."""

    action: Literal["lang", "topics", "pause", "resume", "quiet", "qoff", "menu"]


@dataclass(frozen=True)
class SettingsLanguage(CallbackData, prefix="SET:lang"):
    """A language picked in the settings."""

    locale: str


@dataclass(frozen=True)
class SettingsTopic(CallbackData, prefix="SET:t"):
    """Toggle one interest topic in the settings."""

    code: str


@dataclass(frozen=True)
class QuietStart(CallbackData, prefix="SET:qs"):
    """The hour quiet time starts."""

    hour: int


@dataclass(frozen=True)
class QuietEnd(CallbackData, prefix="SET:qe"):
    """The hours quiet time starts and ends."""

    start: int
    end: int


SETTINGS: Family[SettingsAction | SettingsLanguage | SettingsTopic | QuietStart | QuietEnd] = (
    Family("SET", SettingsAction, SettingsLanguage, SettingsTopic, QuietStart, QuietEnd)
)


@dataclass(frozen=True)
class ForgetAnswer(CallbackData, prefix="FGT"):
    """Erase personal data, or not."""

    answer: Literal["yes", "no"]


@dataclass(frozen=True)
class InviteButton(CallbackData, prefix="INV"):
    """Pick the station of /invite (``s``) or renew its link (``new``)."""

    action: Literal["s", "new"]
    station_id: int


@dataclass(frozen=True)
class RosterPick(CallbackData, prefix="ROS:p"):
    """The station picked for /informants (its first page)."""

    station_id: int


@dataclass(frozen=True)
class RosterPage(CallbackData, prefix="ROS:p"):
    """One page of a station's roster."""

    station_id: int
    page: int


@dataclass(frozen=True)
class RosterRemove(CallbackData, prefix="ROS"):
    """Ask to remove an informant (``rm``), or confirm it (``rmy``)."""

    action: Literal["rm", "rmy"]
    station_id: int
    informant_id: int
    page: int


ROSTER: Family[RosterPick | RosterPage | RosterRemove] = Family(
    "ROS", RosterPick, RosterPage, RosterRemove
)


# --- stations: application (APP), review (REV), management (MGT) ---------------------------
@dataclass(frozen=True)
class ApplyAction(CallbackData, prefix="APP"):
    """Move on in the application form."""

    action: Literal["next", "clear", "submit"]


@dataclass(frozen=True)
class ApplyVenue(CallbackData, prefix="APP:venue"):
    """The venue type picked."""

    code: str


@dataclass(frozen=True)
class ApplyRegion(CallbackData, prefix="APP:rg"):
    """A region picked (or ``top`` for the provinces)."""

    code: str


@dataclass(frozen=True)
class ApplyEdit(CallbackData, prefix="APP:edit"):
    """Change one part of the application from its summary."""

    part: Literal["name", "venue", "address", "region", "have"]


APPLY: Family[ApplyAction | ApplyVenue | ApplyRegion | ApplyEdit] = Family(
    "APP", ApplyAction, ApplyVenue, ApplyRegion, ApplyEdit
)


@dataclass(frozen=True)
class ReviewButton(CallbackData, prefix="REV"):
    """Open or decide on a station under review; ``today``/``yday`` carry station 0."""

    action: Literal["open", "ok", "no", "rec", "back", "today", "yday"]
    station_id: int


@dataclass(frozen=True)
class ManageButton(CallbackData, prefix="MGT"):
    """Open a station from /stations, or act on it."""

    action: Literal["open", "rect", "lift", "revoke"]
    station_id: int


@dataclass(frozen=True)
class StationsPage(CallbackData, prefix="MGT:page"):
    """A page of /stations (0-based)."""

    page: int


# --- content: /feed (FEED), /newcontent (NC), the catalogue (CAT) --------------------------
@dataclass(frozen=True)
class FeedShow(CallbackData, prefix="FEED:show"):
    """Open one item's card from the feed."""

    content_id: int


@dataclass(frozen=True)
class FeedPage(CallbackData, prefix="FEED:c"):
    """A page of the feed in one category (``all`` for every one)."""

    category: str
    page: int


FEED: Family[FeedShow | FeedPage] = Family("FEED", FeedShow, FeedPage)


@dataclass(frozen=True)
class NewContentAction(CallbackData, prefix="NC"):
    """Answer a step of /newcontent."""

    action: Literal["skip", "all", "now", "later", "save", "cancel"]


@dataclass(frozen=True)
class NewContentCategory(CallbackData, prefix="NC:cat"):
    """The category picked in /newcontent."""

    code: str


NEW_CONTENT: Family[NewContentAction | NewContentCategory] = Family(
    "NC", NewContentAction, NewContentCategory
)


@dataclass(frozen=True)
class CatalogPage(CallbackData, prefix="CAT:page"):
    """A page of the catalogue (0-based)."""

    page: int


@dataclass(frozen=True)
class CatalogItem(CallbackData, prefix="CAT"):
    """Act on one catalogue item; ``no`` (cancel) carries item 0."""

    # pushpaid: push with paid broadcasts (docs/reach.md)
    action: Literal["view", "push", "pushok", "retire", "retireok", "no", "pushpaid"]
    content_id: int


@dataclass(frozen=True)
class CatalogEdit(CallbackData, prefix="CAT:edit"):
    """Edit one field of a catalogue item."""

    field: Literal["title", "summary", "url"]
    content_id: int


CATALOG: Family[CatalogPage | CatalogItem | CatalogEdit] = Family(
    "CAT", CatalogPage, CatalogItem, CatalogEdit
)


# --- shares: elsewhere (SHX), platform (SHP), audience (SHA), cancel (SHC), /top (TOP) -----
@dataclass(frozen=True)
class ShareElsewhere(CallbackData, prefix="SHX"):
    """ "I shared it elsewhere" under an item's card."""

    content_id: int


@dataclass(frozen=True)
class SharePlatform(CallbackData, prefix="SHP"):
    """The platform it was shared on."""

    content_id: int
    platform: str


@dataclass(frozen=True)
class ShareAudience(CallbackData, prefix="SHA"):
    """The approximate audience picked."""

    content_id: int
    platform: str
    audience: int


@dataclass(frozen=True)
class ShareCancel(CallbackData, prefix="SHC"):
    """Drop the share report."""


@dataclass(frozen=True)
class ShareHowCounted(CallbackData, prefix="SHI"):
    """The card's ⓘ button: how each way of sharing counts (a pop-up)."""


TopBoardCode = Literal["s", "a"]  # this station, this area


@dataclass(frozen=True)
class TopBoard(CallbackData, prefix="TOP"):
    """Switch /top to a board (station or area) and period."""

    board: TopBoardCode
    period: str


# --- activities: the form (ACT), the list (ALS), content use (CU) --------------------------
@dataclass(frozen=True)
class ActivityAction(CallbackData, prefix="ACT"):
    """Finish the photos, confirm or cancel the form."""

    action: Literal["done", "ok", "no", "sales"]  # sales: toggle "sales or sponsors"


@dataclass(frozen=True)
class ActivityStation(CallbackData, prefix="ACT:st"):
    """The station the activity is registered for."""

    station_id: int


@dataclass(frozen=True)
class ActivityType(CallbackData, prefix="ACT:ty"):
    """The activity's type."""

    code: str


@dataclass(frozen=True)
class ActivityDay(CallbackData, prefix="ACT:d"):
    """The day it was held, as days before today."""

    days_ago: int


@dataclass(frozen=True)
class ActivitySkip(CallbackData, prefix="ACT:skip"):
    """Skip an optional step."""

    step: Literal["place"]


@dataclass(frozen=True)
class ActivityCampaign(CallbackData, prefix="ACT:cp"):
    """The campaign it belongs to (``none`` for no campaign)."""

    code: str


@dataclass(frozen=True)
class ActivityEdit(CallbackData, prefix="ACT:ed"):
    """Change one field from the confirmation screen."""

    field: str


@dataclass(frozen=True)
class ActivitySize(CallbackData, prefix="ACT:sz"):
    """Keep (``yes``) or change (``fix``) a head count above the usual bound, before saving."""

    answer: Literal["yes", "fix"]


ActivityFormButton = (
    ActivitySize
    | ActivityAction
    | ActivityStation
    | ActivityType
    | ActivityDay
    | ActivitySkip
    | ActivityCampaign
    | ActivityEdit
)
ACTIVITY_FORM: Family[ActivityFormButton] = Family(
    "ACT",
    ActivityAction,
    ActivityStation,
    ActivityType,
    ActivityDay,
    ActivitySkip,
    ActivityCampaign,
    ActivityEdit,
    ActivitySize,
)


@dataclass(frozen=True)
class ActivitiesPage(CallbackData, prefix="ALS:p"):
    """A page of a station's activities."""

    station_id: int
    page: int


@dataclass(frozen=True)
class ActivityButton(CallbackData, prefix="ALS"):
    """Edit (``e``), delete (``d``) or confirm the deletion (``dy``) of an activity."""

    action: Literal["e", "d", "dy"]
    activity_id: int


@dataclass(frozen=True)
class ActivityKeep(CallbackData, prefix="ALS:dn"):
    """Keep the activity after all."""


ACTIVITIES_LIST: Family[ActivitiesPage | ActivityButton | ActivityKeep] = Family(
    "ALS", ActivitiesPage, ActivityButton, ActivityKeep
)


@dataclass(frozen=True)
class UseStation(CallbackData, prefix="CU:st"):
    """The station that used the item."""

    station_id: int


@dataclass(frozen=True)
class UseItem(CallbackData, prefix="CU:it"):
    """The catalogue item that was used."""

    content_id: int


@dataclass(frozen=True)
class UseKind(CallbackData, prefix="CU:k"):
    """How it was used."""

    kind: str


@dataclass(frozen=True)
class UseSkip(CallbackData, prefix="CU:skip"):
    """Skip the place."""


@dataclass(frozen=True)
class UseSize(CallbackData, prefix="CU:sz"):
    """Keep (``yes``) or change (``fix``) an audience above the usual bound, before saving."""

    answer: Literal["yes", "fix"]


CONTENT_USE: Family[UseStation | UseItem | UseKind | UseSkip | UseSize] = Family(
    "CU", UseStation, UseItem, UseKind, UseSkip, UseSize
)


# --- evaluation (EVA) ----------------------------------------------------------------------
@dataclass(frozen=True)
class EvaluationKind(CallbackData, prefix="EVA:k"):
    """List the open proposals of one kind."""

    kind: str
    year: int


@dataclass(frozen=True)
class EvaluationYear(CallbackData, prefix="EVA"):
    """Outstanding informants (``inf``) or the workbook (``x``) of a year."""

    action: Literal["inf", "x"]
    year: int


@dataclass(frozen=True)
class EvaluationDecision(CallbackData, prefix="EVA"):
    """Confirm (``ok``) or override (``ov``) a proposal."""

    action: Literal["ok", "ov"]
    proposal_id: int


EVALUATION: Family[EvaluationKind | EvaluationYear | EvaluationDecision] = Family(
    "EVA", EvaluationKind, EvaluationYear, EvaluationDecision
)


# --- integrity findings (FND) ---------------------------------------------------------------
@dataclass(frozen=True)
class FindingsPage(CallbackData, prefix="FND:p"):
    """A page of /findings (0-based)."""

    page: int


@dataclass(frozen=True)
class FindingDecisionButton(CallbackData, prefix="FND"):
    """Confirm (``ok``) or dismiss (``no``) a finding: asks for the reason next."""

    action: Literal["ok", "no"]
    finding_id: int


FINDINGS: Family[FindingsPage | FindingDecisionButton] = Family(
    "FND", FindingsPage, FindingDecisionButton
)
