"""/campaigns: list campaigns with their figures, add one, change its dates or regions;
browse a campaign's content (also from /feed), push its newest item, get its XLSX report.

Campaigns come from config and from curators (``bot.services.campaigns``); the report job
sends the XLSX to coordinators and curators after a campaign ends (``bot.jobs``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot import jobs
from bot.content.cards import localised
from bot.content.taxonomy import default_taxonomy
from bot.core.callback_data import CallbackData, Family
from bot.core.error_text import error_text
from bot.core.errors import DomainError
from bot.handlers import push_confirm
from bot.handlers.callbacks import FeedShow, answer_invalid
from bot.handlers.channels_common import PushTo
from bot.handlers.commands import command
from bot.handlers.common import button_rows, esc, private_only, reply, requires, role_names
from bot.handlers.content_fields import start_push
from bot.handlers.dialog import (
    Dialog,
    Flow,
    end_dialog,
    get_dialog,
    goto,
    input_hint,
    start_dialog,
)
from bot.handlers.feature import COMMAND_GROUP, Feature, in_group
from bot.i18n import N_, Translator
from bot.reports import campaign as campaign_report
from bot.runtime.context import KepuContext
from bot.services import campaigns as service
from bot.services import push as push_service
from bot.services.access import coordinator_regions, region_prefix
from bot.services.campaigns import CampaignDef, CampaignError
from storage import campaigns as store

COMMANDS = (
    command(
        "campaigns",
        N_("Campaigns: dates, regions, figures and reports"),
        "curator",
        "coordinator",
        order=63,
    ),
)
FLOW = "campaign"
FEED_PAGE = 5
LEFT = N_("Left the campaign dialog; nothing was changed.")


@dataclass(frozen=True)
class CampaignView(CallbackData, prefix="CMP:v"):
    """Open one campaign."""

    key: str


@dataclass(frozen=True)
class CampaignFeed(CallbackData, prefix="CMP:f"):
    """A page of a campaign's content."""

    key: str
    page: int


@dataclass(frozen=True)
class CampaignAction(CallbackData, prefix="CMP:a"):
    """Something to do with a campaign (curators, except the report)."""

    action: Literal["push", "report", "dates", "regions"]
    key: str


# One letter each for where a campaign push goes and whether it may go paid: a 32-character
# campaign key and a content id leave no room for the words within Telegram's 64 bytes.
_TO_CODES: dict[PushTo, Literal["i", "c", "b"]] = {"informants": "i", "channels": "c", "both": "b"}
_TO_OF_CODE: dict[str, PushTo] = {code: to for to, code in _TO_CODES.items()}


@dataclass(frozen=True)
class CampaignPushOk(CallbackData, prefix="CMP:ok"):
    """Confirm pushing a campaign's item: to whom (``_TO_CODES``), and whether it is paid."""

    key: str
    content_id: int
    to_code: Literal["i", "c", "b"]
    paid: Literal["y", "n"]

    @classmethod
    def of(cls, key: str, content_id: int, to: PushTo, paid: bool) -> CampaignPushOk:
        """Return the button for pushing ``content_id`` ``to`` whom, paid or not."""
        return cls(key, content_id, _TO_CODES[to], "y" if paid else "n")

    @property
    def to(self) -> PushTo:
        """Return where the push goes."""
        return _TO_OF_CODE[self.to_code]


@dataclass(frozen=True)
class CampaignNew(CallbackData, prefix="CMP:new"):
    """Start adding a campaign."""


@dataclass(frozen=True)
class CampaignPick(CallbackData, prefix="CMP:n"):
    """Take a taxonomy campaign's name for the new campaign."""

    code: str


@dataclass(frozen=True)
class CampaignEverywhere(CallbackData, prefix="CMP:all"):
    """Answer "everywhere" to the regions question."""


CAMPAIGNS: Family[
    CampaignView
    | CampaignFeed
    | CampaignAction
    | CampaignPushOk
    | CampaignNew
    | CampaignPick
    | CampaignEverywhere
] = Family(
    "CMP",
    CampaignView,
    CampaignFeed,
    CampaignAction,
    CampaignPushOk,
    CampaignNew,
    CampaignPick,
    CampaignEverywhere,
)
Markup = InlineKeyboardMarkup


def _text(t: Translator, exc: DomainError) -> str:
    return error_text(exc, t)


def _is_curator(context: KepuContext) -> bool:
    held = role_names(context)
    return "admin" in held or "curator" in held


def _scope(context: KepuContext) -> list[str] | None:
    """Return the reader's region prefixes (None: everywhere, for curators and admins)."""
    if _is_curator(context):
        return None
    return [region_prefix(code) for code in coordinator_regions(context.scope.roles)]


# --- /campaigns --------------------------------------------------------------------------------
@requires("curator", "coordinator")
async def campaigns_command(update: Update, context: KepuContext) -> None:
    """List campaigns reaching the reader's area: state, dates, figures so far."""
    t, runtime = context.t, context.runtime
    summaries = await service.campaign_summaries(
        context.session, _scope(context), runtime.now(), settings=runtime.settings
    )
    lines = [t("🎯 <b>Campaigns</b>")]
    buttons: list[InlineKeyboardButton] = []
    for s in summaries:
        name = s.name_en if t.locale == "en" and s.name_en else s.name_zh
        lines.append(
            t(
                "· <b>{name}</b> ({dates}) — {state}, {items} items",
                name=esc(name),
                dates=t.span(s.start, s.end),
                state=t(campaign_report.STATE_NAMES[s.state]),
                items=s.items,
            )
        )
        if s.window is not None:
            lines.append(
                "  "
                + t(
                    "{shares} shares · {activities} activities ({participants} participants) · "
                    "{pushed} pushed ({window})",
                    shares=s.shares,
                    activities=s.activities,
                    participants=s.participants,
                    pushed=s.pushed,
                    window=t.span(s.window.start, s.window.end),
                )
            )
        buttons.append(InlineKeyboardButton(name, callback_data=CampaignView(s.key).encode()))
    if not summaries:
        lines.append(t("No campaign has dates yet."))
    rows = button_rows(buttons, 2)
    if _is_curator(context):
        rows.append(
            [InlineKeyboardButton(t("➕ New campaign"), callback_data=CampaignNew().encode())]
        )
    await reply(update, "\n".join(lines), reply_markup=Markup(rows) if rows else None)


async def _view(update: Update, context: KepuContext, campaign: CampaignDef) -> None:
    t, runtime = context.t, context.runtime
    report = await service.build_report(
        session=context.session,
        settings=runtime.settings,
        campaign=campaign,
        today=runtime.today(),
        prefixes=_scope(context),
        now=runtime.now(),
    )
    names = await campaign_report.region_names(context.session, campaign.regions)
    state = t(campaign_report.STATE_NAMES[campaign.state(runtime.today())])
    text = campaign_report.report_text(t, report, names) + "\n" + t("State: {state}", state=state)
    key = campaign.key
    rows = [
        [
            InlineKeyboardButton(t("📚 Content"), callback_data=CampaignFeed(key, 0).encode()),
            InlineKeyboardButton(
                t("📊 Report (XLSX)"), callback_data=CampaignAction("report", key).encode()
            ),
        ]
    ]
    if _is_curator(context):
        rows.append(
            [
                InlineKeyboardButton(
                    t("🚀 Push its newest item"),
                    callback_data=CampaignAction("push", key).encode(),
                )
            ]
        )
        if campaign.source == "bot":
            rows.append(
                [
                    InlineKeyboardButton(
                        t("✏️ Dates"), callback_data=CampaignAction("dates", key).encode()
                    ),
                    InlineKeyboardButton(
                        t("📍 Change regions"),
                        callback_data=CampaignAction("regions", key).encode(),
                    ),
                ]
            )
    await reply(update, text, reply_markup=Markup(rows))


# --- a campaign's content (from /campaigns and /feed) -----------------------------------------
async def feed_rows(context: KepuContext) -> list[list[InlineKeyboardButton]]:
    """Return /feed's buttons of the campaigns running today (one per campaign)."""
    runtime = context.runtime
    running = await service.running(
        session=context.session, settings=runtime.settings, day=runtime.today()
    )
    buttons = [
        InlineKeyboardButton(
            "🎯 " + c.name(context.t.locale), callback_data=CampaignFeed(c.key, 0).encode()
        )
        for c in running
    ]
    return button_rows(buttons, 2)


async def _feed_page(
    update: Update, context: KepuContext, campaign: CampaignDef, page: int
) -> None:
    t = context.t
    items, total = await store.browse_campaign(
        session=context.session,
        now=context.runtime.now(),
        campaign=campaign.key,
        offset=page * FEED_PAGE,
        limit=FEED_PAGE,
    )
    name = esc(campaign.name(t.locale))
    if not items:
        await reply(update, t("Nothing published for {name} yet.", name=name))
        return
    pages = (total + FEED_PAGE - 1) // FEED_PAGE
    lines = [
        t(
            "🎯 {name} ({dates}) — page {page} of {pages}. Tap a number to open the card.",
            name=name,
            dates=t.span(campaign.start, campaign.end),
            page=page + 1,
            pages=pages,
        ),
        "",
    ]
    buttons = []
    for n, item in enumerate(items, start=page * FEED_PAGE + 1):
        assert item.id is not None
        title, _ = localised(item, t.locale)
        lines.append(f"{n}. <b>{esc(title)}</b>")
        buttons.append(InlineKeyboardButton(str(n), callback_data=FeedShow(item.id).encode()))
    rows = button_rows(buttons, 5)
    nav = []
    if page > 0:
        nav.append(
            InlineKeyboardButton(
                t("◀ Previous"), callback_data=CampaignFeed(campaign.key, page - 1).encode()
            )
        )
    if page + 1 < pages:
        nav.append(
            InlineKeyboardButton(
                t("Next ▶"), callback_data=CampaignFeed(campaign.key, page + 1).encode()
            )
        )
    if nav:
        rows.append(nav)
    await reply(update, "\n".join(lines), reply_markup=Markup(rows))


# --- buttons -------------------------------------------------------------------------------------
async def on_button(update: Update, context: KepuContext) -> None:
    """Dispatch the campaign buttons (content browsing is open to everyone)."""
    query = update.callback_query
    assert query is not None
    button = CAMPAIGNS.decode(query.data)
    if button is None:
        await answer_invalid(update, context)
        return
    if isinstance(button, CampaignFeed):
        campaign = await _campaign(context, button.key)
        await query.answer()
        if campaign is None:
            await reply(update, error_text(CampaignError("not_found"), context.t))
            return
        await _feed_page(update, context, campaign, button.page)
        return
    await _manage(update, context)


@requires("curator", "coordinator")
async def _manage(update: Update, context: KepuContext) -> None:
    query = update.callback_query
    assert query is not None
    button = CAMPAIGNS.decode(query.data)
    t = context.t
    if isinstance(button, CampaignNew | CampaignPick | CampaignEverywhere):
        await _curator_only(update, context)
        return
    assert button is not None and not isinstance(button, CampaignFeed)
    campaign = await _campaign(context, button.key)
    if campaign is None:
        await query.answer(error_text(CampaignError("not_found"), t), show_alert=True)
        return
    await query.answer()
    if isinstance(button, CampaignView):
        await _view(update, context, campaign)
    elif isinstance(button, CampaignAction) and button.action == "report":
        await _send_report(update, context, campaign)
    else:
        await _curator_only(update, context)


@requires("curator")
async def _curator_only(update: Update, context: KepuContext) -> None:
    query = update.callback_query
    assert query is not None
    button = CAMPAIGNS.decode(query.data)
    t = context.t
    if isinstance(button, CampaignNew):
        await query.answer()
        await _ask_name(update, context)
        return
    dialog = await _dialog(update, context)
    if isinstance(button, CampaignPick):
        await query.answer()
        term = default_taxonomy().get_campaign(button.code)
        if dialog is None or dialog.step != "name" or term is None:
            await reply(update, t("This button is no longer active."))
            return
        await _take_name(update, context, dialog, term.zh)
        return
    if isinstance(button, CampaignEverywhere):
        await query.answer()
        if dialog is None or dialog.step not in ("regions", "edit_regions"):
            await reply(update, t("This button is no longer active."))
            return
        await _take_regions(update, context, dialog, [])
        return
    assert isinstance(button, CampaignAction | CampaignPushOk)
    campaign = await _campaign(context, button.key)
    if campaign is None:
        await reply(update, error_text(CampaignError("not_found"), t))
        return
    if isinstance(button, CampaignPushOk):
        await _push(update, context, campaign, button)
    elif button.action == "push":
        await _confirm_push(update, context, campaign)
    elif button.action == "dates":
        await start_dialog(update, context, FLOW, "edit_dates", key=campaign.key)
        await reply(update, _dates_prompt(context))
    elif button.action == "regions":
        await start_dialog(update, context, FLOW, "edit_regions", key=campaign.key)
        await reply(update, _regions_prompt(context), reply_markup=_everywhere(t))


async def _campaign(context: KepuContext, key: str) -> CampaignDef | None:
    return await service.get_campaign(
        session=context.session, settings=context.runtime.settings, key=key
    )


async def _dialog(update: Update, context: KepuContext) -> Dialog | None:
    found = await get_dialog(update, context)
    return found if found is not None and found.flow == FLOW else None


# --- push a campaign's newest item ---------------------------------------------------------------
def _push_regions(campaign: CampaignDef) -> list[str] | None:
    return list(campaign.regions) if campaign.regions else None


async def _confirm_push(update: Update, context: KepuContext, campaign: CampaignDef) -> None:
    t, runtime = context.t, context.runtime
    items, _ = await store.browse_campaign(
        session=context.session, now=runtime.now(), campaign=campaign.key, limit=1
    )
    if not items or items[0].id is None:
        await reply(
            update, t("Nothing published for {name} yet.", name=esc(campaign.name(t.locale)))
        )
        return
    item = items[0]
    assert item.id is not None
    content_id = item.id
    try:
        found = await push_confirm.offer(context, content_id, regions=_push_regions(campaign))
    except push_service.PushError as exc:
        await reply(update, error_text(exc, t))
        return
    title, _ = localised(item, t.locale)
    if found.recipients == 0 and not found.channels:
        await reply(
            update,
            t(
                "Nobody to push “{title}”, the newest item of {name}, to: no informant in the "
                "campaign's regions is interested in its topic, or everyone has it already.",
                title=esc(title),
                name=esc(campaign.name(t.locale)),
            ),
        )
        return
    key = campaign.key
    await push_confirm.ask(
        update,
        context,
        found,
        encode=lambda to, paid: CampaignPushOk.of(key, content_id, to, paid).encode(),
        lead=t(
            "“{title}”, the newest item of {name}; only the campaign's regions get it.",
            title=esc(title),
            name=esc(campaign.name(t.locale)),
        ),
    )


async def _push(
    update: Update, context: KepuContext, campaign: CampaignDef, button: CampaignPushOk
) -> None:
    query = update.callback_query
    if query is not None and query.message is not None:
        await query.edit_message_reply_markup(None)
    await start_push(
        update,
        context,
        button.content_id,
        to=button.to,
        paid=button.paid == "y",
        regions=_push_regions(campaign),
        trigger="campaign",
    )


# --- the XLSX on demand ---------------------------------------------------------------------
async def _send_report(update: Update, context: KepuContext, campaign: CampaignDef) -> None:
    t, runtime = context.t, context.runtime
    report = await service.build_report(
        session=context.session,
        settings=runtime.settings,
        campaign=campaign,
        today=runtime.today(),
        prefixes=_scope(context),
        now=runtime.now(),
    )
    chat = update.effective_chat
    assert chat is not None
    await context.bot.do_api_request(
        "sendDocument", api_kwargs=campaign_report.document_call(chat.id, t, report)
    )


# --- adding and editing ---------------------------------------------------------------------
def _dates_prompt(context: KepuContext) -> str:
    t = context.t
    return (
        t(
            "When does the campaign run? Send its dates, e.g. 9月15日至21日 or "
            "2026-12-01—2026-12-07."
        )
        + "\n"
        + input_hint(context)
    )


def _regions_prompt(context: KepuContext) -> str:
    t = context.t
    return (
        t("Which regions? Send region codes (330100，330200), or tap Everywhere.")
        + "\n"
        + input_hint(context)
    )


def _everywhere(t: Translator) -> Markup:
    return Markup(
        [[InlineKeyboardButton(t("Everywhere"), callback_data=CampaignEverywhere().encode())]]
    )


async def _ask_name(update: Update, context: KepuContext) -> None:
    t = context.t
    await start_dialog(update, context, FLOW, "name")
    terms = default_taxonomy().campaigns
    buttons = [
        InlineKeyboardButton(term.name(t.locale), callback_data=CampaignPick(term.code).encode())
        for term in terms
    ]
    await reply(
        update,
        t("New campaign (1/3): tap a national campaign, or send the name of another one.")
        + "\n"
        + input_hint(context),
        reply_markup=Markup(button_rows(buttons, 2)),
    )


async def _take_name(update: Update, context: KepuContext, dialog: Dialog, text: str) -> None:
    try:
        name = service.check_name(text)
    except CampaignError as exc:
        await reply(update, _text(context.t, exc) + "\n" + input_hint(context))
        return
    await goto(context, dialog, "dates", name=name)
    await reply(update, context.t("New campaign (2/3): ") + _dates_prompt(context))


async def step_name(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Take a typed campaign name."""
    message = update.effective_message
    await _take_name(update, context, dialog, (message.text or "") if message else "")


async def step_dates(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Take the campaign's dates (natural Chinese dates)."""
    message = update.effective_message
    t = context.t
    try:
        start, end = service.parse_range(
            (message.text or "") if message else "", today=context.runtime.today()
        )
    except CampaignError as exc:
        await reply(update, _text(t, exc) + "\n" + input_hint(context))
        return
    if dialog.step == "edit_dates":
        await _save_edit(update, context, dialog, dates=(start, end))
        return
    await goto(context, dialog, "regions", start=start.isoformat(), end=end.isoformat())
    await reply(
        update,
        t("New campaign (3/3): ") + _regions_prompt(context),
        reply_markup=_everywhere(t),
    )


async def step_regions(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Take the campaign's regions (codes, or 全部)."""
    message = update.effective_message
    try:
        regions = await service.parse_regions(
            session=context.session, text=(message.text or "") if message else ""
        )
    except CampaignError as exc:
        await reply(update, _text(context.t, exc) + "\n" + input_hint(context))
        return
    await _take_regions(update, context, dialog, regions)


async def _take_regions(
    update: Update, context: KepuContext, dialog: Dialog, regions: list[str]
) -> None:
    if dialog.step == "edit_regions":
        await _save_edit(update, context, dialog, regions=regions)
        return
    t, runtime = context.t, context.runtime
    person = context.person
    try:
        saved = await service.add_campaign(
            session=context.session,
            settings=runtime.settings,
            name=str(dialog.data["name"]),
            start=_date(dialog.data["start"]),
            end=_date(dialog.data["end"]),
            regions=regions,
            actor_id=person.id if person is not None else None,
            now=runtime.now(),
        )
    except CampaignError as exc:
        await end_dialog(update, context)
        await reply(update, _text(t, exc))
        return
    await end_dialog(update, context)
    await reply(update, t("✅ Campaign saved.") + "\n" + await _described(context, saved))


async def _save_edit(
    update: Update,
    context: KepuContext,
    dialog: Dialog,
    *,
    dates: tuple[object, object] | None = None,
    regions: list[str] | None = None,
) -> None:
    t, runtime = context.t, context.runtime
    person = context.person
    try:
        saved = await service.edit_campaign(
            session=context.session,
            settings=runtime.settings,
            key=str(dialog.data["key"]),
            actor_id=person.id if person is not None else None,
            now=runtime.now(),
            dates=(_date(dates[0]), _date(dates[1])) if dates is not None else None,
            regions=regions,
        )
    except CampaignError as exc:
        await end_dialog(update, context)
        await reply(update, _text(t, exc))
        return
    await end_dialog(update, context)
    await reply(update, t("✅ Campaign changed.") + "\n" + await _described(context, saved))


def _date(value: object) -> dt.date:
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


async def _described(context: KepuContext, campaign: CampaignDef) -> str:
    t = context.t
    names = await campaign_report.region_names(context.session, campaign.regions)
    return "\n".join(
        [
            t(
                "🎯 <b>{name}</b> ({dates})",
                name=esc(campaign.name(t.locale)),
                dates=campaign_report.dates_text(t, campaign),
            ),  # fmt: skip
            t("Regions: {regions}", regions=esc(campaign_report.regions_text(t, campaign, names))),
            t("Send /campaigns to see every campaign."),
        ]
    )


FLOWS = {
    FLOW: Flow.of(
        {
            "name": step_name,
            "dates": step_dates,
            "regions": step_regions,
            "edit_dates": step_dates,
            "edit_regions": step_regions,
        },
        LEFT,
        commands=("campaigns",),
    )
}

FEATURE = Feature(
    name="campaigns",
    handlers=in_group(
        COMMAND_GROUP,
        CommandHandler("campaigns", private_only(campaigns_command)),
        CallbackQueryHandler(on_button, pattern=CAMPAIGNS.pattern),
    ),
    flows=FLOWS,
    commands=COMMANDS,
    jobs=(jobs.CAMPAIGN_REPORTS,),
)
