"""/grant and /revoke: coordinators and station admins hand on the roles below them.

The same rules as the desk's people page (``bot.services.roles.may_delegate``): a city
coordinator appoints county coordinators inside the city, a province coordinator city or
county ones, any coordinator station admins of stations in the region, and a station admin
co-admins of their own station. ``kepubot admin grant`` stays for the first administrator.

/grant is a short flow: what (buttons), where (buttons, or a typed code or name), who (a
Telegram id, an @username known to the bot, the person's contact card, or — for a
co-admin — one of the station's informants), then a confirmation. Every step can be left
with /cancel or any command; nothing is granted before the confirmation. /revoke lists the
roles one may withdraw, each a button, with a confirmation.

The buttons' callback data live here (``GRT:…``, ``RVK:…``): only this flow reads them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.core.callback_data import CallbackData, Family
from bot.core.error_text import error_text
from bot.core.regions import region_prefix
from bot.handlers import coadmin_invite
from bot.handlers.callbacks import answer_invalid
from bot.handlers.commands import command
from bot.handlers.common import esc, private_only, refuse, reply, requires
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
from bot.runtime.context import KepuContext
from bot.services import roles as role_service
from bot.services.access import administered_station_ids, coordinator_regions, is_admin
from bot.services.roles import Actor, Delegation, RoleError
from storage import exports as people_store
from storage import people as person_store
from storage import regions as region_store
from storage.models import Person, Region, Station

FLOW = "grant"
MAX_CHOICES = 30  # buttons on one screen; beyond that the code or name is typed
LEFT = N_("Left granting a role; nothing was granted.")
COMMANDS = (
    command(
        "grant", N_("Give a role below yours (coordinators, co-admins)"), "coordinator",
        "station_admin", order=70,
    ),
    command(
        "revoke", N_("Withdraw a role you gave below yours"), "coordinator", "station_admin",
        order=71,
    ),
)  # fmt: skip
_DIGITS = re.compile(r"^\d{1,15}$")
_USERNAME = re.compile(r"^@?([A-Za-z][A-Za-z0-9_]{3,31})$")


# --- buttons ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class GrantKind(CallbackData, prefix="GRT:k"):
    """What to grant: a coordinator level or a station co-admin."""

    kind: Literal["county", "city", "station"]


@dataclass(frozen=True)
class GrantRegion(CallbackData, prefix="GRT:r"):
    """The region of a coordinator grant."""

    code: str


@dataclass(frozen=True)
class GrantStation(CallbackData, prefix="GRT:s"):
    """The station of a co-admin grant."""

    station_id: int


@dataclass(frozen=True)
class GrantPerson(CallbackData, prefix="GRT:p"):
    """One of the station's informants, chosen as the co-admin."""

    person_id: int


@dataclass(frozen=True)
class GrantInvite(CallbackData, prefix="GRT:i"):
    """Instead of a known person: a one-time co-admin invite link for the chosen station."""


@dataclass(frozen=True)
class GrantConfirm(CallbackData, prefix="GRT:ok"):
    """Confirm or drop the grant."""

    answer: Literal["yes", "no"]


@dataclass(frozen=True)
class RevokePick(CallbackData, prefix="RVK:g"):
    """A grant chosen for withdrawal."""

    grant_id: int


@dataclass(frozen=True)
class RevokeConfirm(CallbackData, prefix="RVK:y"):
    """Withdrawal confirmed."""

    grant_id: int


GRANT_BUTTONS: Family[
    GrantKind | GrantRegion | GrantStation | GrantPerson | GrantInvite | GrantConfirm
] = Family("GRT", GrantKind, GrantRegion, GrantStation, GrantPerson, GrantInvite, GrantConfirm)
REVOKE_BUTTONS: Family[RevokePick | RevokeConfirm] = Family("RVK", RevokePick, RevokeConfirm)


# --- helpers -----------------------------------------------------------------------------------
def actor_of(context: KepuContext) -> Actor:
    """Return the acting person with their grants."""
    person = context.person
    return Actor(person.id if person is not None else None, tuple(context.scope.roles))


def _rows(buttons: list[InlineKeyboardButton], per_row: int = 2) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [buttons[i : i + per_row] for i in range(0, len(buttons), per_row)]
    )


async def _active(update: Update, context: KepuContext) -> Dialog | None:
    """Return the user's grant dialog, or answer that the button is outdated."""
    dialog = await get_dialog(update, context)
    if dialog is None or dialog.flow != FLOW:
        await answer_invalid(update, context)
        return None
    return dialog


def _scope_text(t: Translator, region: Region | None, station: Station | None) -> str:
    if station is not None:
        return esc(station.name)
    if region is not None:
        return esc(region.name)
    return t("everywhere")


# --- /grant ------------------------------------------------------------------------------------
@requires("coordinator", "station_admin")
async def grant_command(update: Update, context: KepuContext) -> None:
    """Start the flow: what may be granted, as buttons."""
    t = context.t
    kinds = role_service.kind_choices(actor_of(context).grants)
    if not kinds:
        await reply(update, t("There is no role you can give: you hold none with a level below."))
        return
    await start_dialog(update, context, FLOW, "kind")
    buttons = [
        InlineKeyboardButton(
            t(role_service.KIND_TITLES[kind]), callback_data=GrantKind(kind).encode()
        )
        for kind in kinds
    ]
    await reply(
        update,
        t("Which role do you want to give? You can give only roles below yours, in your area.")
        + "\n"
        + input_hint(context),
        reply_markup=_rows(buttons, 1),
    )


async def _ask_who(update: Update, context: KepuContext, dialog: Dialog) -> None:
    t = context.t
    await goto(context, dialog, "who")
    markup = None
    station_id = dialog.data.get("station")
    invite_row: list[InlineKeyboardButton] = []
    if station_id is not None:
        invite_row = [
            InlineKeyboardButton(t("🔗 Invite link"), callback_data=GrantInvite().encode())
        ]
        informants = await people_store.station_informant_people(
            session=context.session, station_id=int(station_id)
        )
        buttons = [
            InlineKeyboardButton(
                inf.real_name or role_service.person_label(person),
                callback_data=GrantPerson(person.id).encode(),
            )
            for inf, person in informants[:MAX_CHOICES]
            if person.id is not None
        ]
        markup = _rows(buttons)
    text = t(
        "Who? Send their Telegram id (digits), their @username if they have written to the "
        "bot, or share their contact card."
    )
    if markup is not None and markup.inline_keyboard:
        text += "\n" + t("Or pick one of the station's informants below.")
    if invite_row:
        assert markup is not None
        markup = InlineKeyboardMarkup([invite_row, *markup.inline_keyboard])
        text += "\n" + t(
            "Someone the bot does not know yet? Press 🔗 Invite link: a one-time link whoever "
            "opens it can accept."
        )
    await reply(update, text + "\n" + input_hint(context), reply_markup=markup)


async def _ask_region(
    update: Update, context: KepuContext, dialog: Dialog, regions: list[Region]
) -> None:
    t = context.t
    await goto(context, dialog, "region")
    markup = None
    if regions and len(regions) <= MAX_CHOICES:
        markup = _rows(
            [
                InlineKeyboardButton(r.name, callback_data=GrantRegion(r.code).encode())
                for r in regions
            ],
            3,
        )
        text = t("Which region? Pick it, or send its name or 6-digit code.")
    else:
        text = t("Which region? Send its name or 6-digit code (e.g. 330106).")
    await reply(update, text + "\n" + input_hint(context), reply_markup=markup)


async def _ask_station(
    update: Update, context: KepuContext, dialog: Dialog, stations: list[Station]
) -> None:
    t = context.t
    await goto(context, dialog, "station")
    markup = None
    if stations and len(stations) <= MAX_CHOICES:
        markup = _rows(
            [
                InlineKeyboardButton(s.name, callback_data=GrantStation(s.id).encode())
                for s in stations
                if s.id is not None
            ],
            1,
        )
        text = t("Which station? Pick it, or send its number.")
    else:
        text = t("Which station? Send its number (as /stations shows it).")
    await reply(update, text + "\n" + input_hint(context), reply_markup=markup)


async def _confirm(update: Update, context: KepuContext, dialog: Dialog, person: Person) -> None:
    t = context.t
    await goto(
        context,
        dialog,
        "confirm",
        target=person.telegram_id,
        target_name=role_service.person_label(person),
    )
    region = (
        await region_store.get_region(session=context.session, code=dialog.data["region"])
        if dialog.data.get("region")
        else None
    )
    station = (
        await context.session.get(Station, int(dialog.data["station"]))
        if dialog.data.get("station") is not None
        else None
    )
    kind = str(dialog.data["kind"])
    buttons = [
        InlineKeyboardButton(t("✅ Grant"), callback_data=GrantConfirm("yes").encode()),
        InlineKeyboardButton(t("Cancel"), callback_data=GrantConfirm("no").encode()),
    ]
    await reply(
        update,
        t(
            "Make <b>{name}</b> {role} of <b>{scope}</b>? They are told at once.",
            name=esc(role_service.person_label(person)),
            role=t(role_service.KIND_TITLES[kind]),
            scope=_scope_text(t, region, station),
        ),
        reply_markup=_rows(buttons),
    )


async def on_grant_button(update: Update, context: KepuContext) -> None:
    """The buttons of the /grant flow."""
    query = update.callback_query
    assert query is not None
    button = GRANT_BUTTONS.decode(query.data)
    if button is None:
        await answer_invalid(update, context)
        return
    dialog = await _active(update, context)
    if dialog is None:
        return
    t = context.t
    actor = actor_of(context)
    if isinstance(button, GrantKind):
        if button.kind not in role_service.kind_choices(actor.grants):
            # A forged button for a role above one's own: refused, audited.
            await refuse(
                update,
                context,
                t(role_service.ROLE_REFUSALS["above_you"]),
                reason="above_you",
                action="role.grant",
                detail={"kind": button.kind, "via": "bot"},
            )
            return
        await query.answer()
        dialog.data["kind"] = button.kind
        if button.kind == "station":
            stations = await role_service.delegable_stations(
                session=context.session, grants=actor.grants
            )
            if len(stations) == 1 and stations[0].id is not None:
                dialog.data["station"] = stations[0].id
                await _ask_who(update, context, dialog)
            else:
                await _ask_station(update, context, dialog, stations)
        else:
            await _ask_region(
                update,
                context,
                dialog,
                await role_service.delegable_regions(
                    session=context.session, grants=actor.grants, level=button.kind
                ),
            )
        return
    if isinstance(button, GrantRegion):
        await query.answer()
        await _take_region(update, context, dialog, button.code)
        return
    if isinstance(button, GrantStation):
        await query.answer()
        await _take_station(update, context, dialog, button.station_id)
        return
    if isinstance(button, GrantInvite):
        if dialog.step != "who" or dialog.data.get("station") is None:
            await answer_invalid(update, context)
            return
        await query.answer()
        await end_dialog(update, context)
        await coadmin_invite.send_coadmin_invite(update, context, int(dialog.data["station"]))
        return
    if isinstance(button, GrantPerson):
        person = await person_store.get_person(session=context.session, person_id=button.person_id)
        if person is None or dialog.step != "who":
            await answer_invalid(update, context)
            return
        await query.answer()
        await _confirm(update, context, dialog, person)
        return
    # GrantConfirm
    if dialog.step != "confirm":
        await answer_invalid(update, context)
        return
    await query.answer()
    await end_dialog(update, context)
    if button.answer == "no":
        await reply(update, t(LEFT))
        return
    await _grant(update, context, dialog)


async def _grant(update: Update, context: KepuContext, dialog: Dialog) -> None:
    t = context.t
    kind = str(dialog.data["kind"])
    request = (
        Delegation("station_admin", None, int(dialog.data["station"]))
        if kind == "station"
        else Delegation("coordinator", str(dialog.data["region"]))
    )
    try:
        result = await role_service.grant_as(
            session=context.session,
            actor=actor_of(context),
            telegram_id=int(dialog.data["target"]),
            request=request,
            now=context.runtime.now(),
            via="bot",
            default_locale=context.runtime.settings.i18n.default_locale,
        )
    except RoleError as exc:
        await reply(update, error_text(exc, t))
        return
    name = esc(str(dialog.data.get("target_name", dialog.data["target"])))
    if result.changed:
        await reply(
            update,
            t(
                "✅ {name} is now {role}. I have told them.",
                name=name,
                role=t(role_service.KIND_TITLES[kind]),
            ),
        )
    else:
        await reply(update, t("{name} already holds that role.", name=name))


async def _take_region(update: Update, context: KepuContext, dialog: Dialog, code: str) -> None:
    t = context.t
    if dialog.step != "region":
        await answer_invalid(update, context)
        return
    region = await region_store.get_region(session=context.session, code=code)
    level = str(dialog.data.get("kind"))
    if region is None or region.level != level:
        await reply(
            update,
            t(
                "That is not a region I can offer here. Pick one of the buttons, or send "
                "a name or code."
            )
            + "\n"
            + input_hint(context),
        )
        return
    reason = role_service.may_delegate(actor_of(context).grants, Delegation("coordinator", code))
    if reason is not None:
        await reply(
            update,
            error_text(RoleError(reason), t) + "\n" + input_hint(context),
        )
        return
    dialog.data["region"] = code
    await _ask_who(update, context, dialog)


async def _take_station(
    update: Update, context: KepuContext, dialog: Dialog, station_id: int
) -> None:
    t = context.t
    if dialog.step != "station":
        await answer_invalid(update, context)
        return
    allowed = {
        s.id
        for s in await role_service.delegable_stations(
            session=context.session, grants=actor_of(context).grants
        )
    }
    if station_id not in allowed:
        await reply(
            update,
            t(
                "There is no station {id} in your area. Send one of your stations' numbers.",
                id=station_id,
            )
            + "\n"
            + input_hint(context),
        )
        return
    dialog.data["station"] = station_id
    await _ask_who(update, context, dialog)


async def step_kind(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Text while the role buttons wait."""
    await reply(
        update,
        context.t("Please pick the role with the buttons above.") + "\n" + input_hint(context),
    )


async def step_region(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """A typed region: its 6-digit code or its exact name."""
    message = update.effective_message
    text = (message.text or "").strip() if message else ""
    code = text
    if not re.fullmatch(r"\d{6}", text):
        choices = await role_service.delegable_regions(
            session=context.session,
            grants=actor_of(context).grants,
            level=str(dialog.data["kind"]),
        )
        named = [r for r in choices if text and r.name == text]
        code = named[0].code if len(named) == 1 else ""
    await _take_region(update, context, dialog, code)


async def step_station(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """A typed station number."""
    message = update.effective_message
    text = (message.text or "").strip().lstrip("#") if message else ""
    if not text.isdigit() or len(text) > 9:
        await reply(
            update,
            context.t("Please send the station's number (digits), or pick a button.")
            + "\n"
            + input_hint(context),
        )
        return
    await _take_station(update, context, dialog, int(text))


async def step_who(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """The person: a Telegram id, a known @username, or a contact card with a user id."""
    t = context.t
    message = update.effective_message
    person: Person | None = None
    telegram_id: int | None = None
    if message is not None and message.contact is not None:
        telegram_id = message.contact.user_id
        if telegram_id is None:
            await reply(
                update,
                t(
                    "That contact has no Telegram account I can see. Send their Telegram id "
                    "instead."
                )
                + "\n"
                + input_hint(context),
            )
            return
    else:
        text = (message.text or "").strip() if message else ""
        if _DIGITS.match(text):
            telegram_id = int(text)
        elif (match := _USERNAME.match(text)) is not None:
            person = await people_store.person_by_username(
                session=context.session, username=match.group(1)
            )
            if person is None:
                await reply(
                    update,
                    t(
                        "I do not know @{name}: they must write to the bot first (or send "
                        "their Telegram id).",
                        name=esc(match.group(1)),
                    )
                    + "\n"
                    + input_hint(context),
                )
                return
        else:
            await reply(
                update,
                t("Please send a Telegram id (digits only), an @username, or their contact card.")
                + "\n"
                + input_hint(context),
            )
            return
    if person is None:
        assert telegram_id is not None
        person = await person_store.get_person_by_telegram_id(
            session=context.session, telegram_id=telegram_id
        ) or Person(telegram_id=telegram_id)
    await _confirm(update, context, dialog, person)


async def step_confirm(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Text while the confirmation waits."""
    await reply(
        update,
        context.t("Please confirm with the buttons above, or send /cancel.")
        + "\n"
        + input_hint(context),
    )


# --- /revoke -----------------------------------------------------------------------------------
async def _revocable(context: KepuContext) -> list[people_store.HeldRole]:
    actor = actor_of(context)
    prefixes = None if is_admin(actor.grants) else [
        region_prefix(code) for code in coordinator_regions(actor.grants)
    ]  # fmt: skip
    held = await people_store.roles_in_scope(
        session=context.session,
        prefixes=prefixes,
        station_ids=administered_station_ids(actor.grants),
    )
    out = []
    for item in held:
        grant = item.grant
        if grant.person_id == actor.person_id:
            continue
        request = Delegation(grant.role, grant.region_code, grant.station_id)
        station_region = item.station.region_code if item.station else None
        if role_service.may_delegate(actor.grants, request, station_region) is None:
            out.append(item)
    return out


def _held_text(t: Translator, item: people_store.HeldRole, regions: dict[str, Region]) -> str:
    grant = item.grant
    title = t(role_service.role_title(grant.role, grant.region_code))
    if item.station is not None:
        scope = item.station.name
    elif grant.region_code:
        region = regions.get(grant.region_code)
        scope = region.name if region else grant.region_code
    else:
        scope = t("everywhere")
    return t(
        "{name} · {role} · {scope}",
        name=role_service.person_label(item.person),
        role=title,
        scope=scope,
    )


@requires("coordinator", "station_admin")
async def revoke_command(update: Update, context: KepuContext) -> None:
    """List the roles the sender may withdraw, one button each."""
    t = context.t
    held = await _revocable(context)
    if not held:
        await reply(update, t("There is no role you can withdraw in your area."))
        return
    regions = await region_store.get_regions(
        session=context.session, codes=[h.grant.region_code for h in held if h.grant.region_code]
    )
    buttons = [
        InlineKeyboardButton(
            "✖ " + _held_text(t, item, regions),
            callback_data=RevokePick(item.grant.id).encode(),
        )
        for item in held[:MAX_CHOICES]
        if item.grant.id is not None
    ]
    text = t("Which role do you want to withdraw? The person is told.")
    if len(held) > MAX_CHOICES:
        text += "\n" + t("The first {n} are shown; the desk lists them all.", n=MAX_CHOICES)
    await reply(update, text, reply_markup=_rows(buttons, 1))


@requires("coordinator", "station_admin")
async def on_revoke_button(update: Update, context: KepuContext) -> None:
    """A role chosen for withdrawal, then the confirmation."""
    query = update.callback_query
    assert query is not None
    t = context.t
    button = REVOKE_BUTTONS.decode(query.data)
    if button is None:
        await answer_invalid(update, context)
        return
    if isinstance(button, RevokePick):
        held = {h.grant.id: h for h in await _revocable(context)}
        item = held.get(button.grant_id)
        if item is None:
            await refuse(
                update,
                context,
                t(role_service.ROLE_REFUSALS["outside_region"]),
                reason="outside_region",
                action="role.revoke",
                subject_type="role_grant",
                subject_id=button.grant_id,
                detail={"via": "bot"},
            )
            return
        regions = await region_store.get_regions(
            session=context.session,
            codes=[item.grant.region_code] if item.grant.region_code else [],
        )
        await query.answer()
        buttons = [
            InlineKeyboardButton(
                t("Yes, withdraw"), callback_data=RevokeConfirm(button.grant_id).encode()
            )
        ]
        await reply(
            update,
            t("Withdraw {what}?", what=esc(_held_text(t, item, regions))),
            reply_markup=_rows(buttons),
        )
        return
    try:
        _grant_row, holder = await role_service.revoke_as(
            session=context.session,
            actor=actor_of(context),
            grant_id=button.grant_id,
            now=context.runtime.now(),
            via="bot",
            default_locale=context.runtime.settings.i18n.default_locale,
        )
    except RoleError as exc:
        await query.answer(error_text(exc, t)[:190], show_alert=True)
        return
    await query.answer()
    await reply(
        update, t("Withdrawn. I have told {name}.", name=esc(role_service.person_label(holder)))
    )


FLOWS = {
    FLOW: Flow.of(
        {
            "kind": step_kind,
            "region": step_region,
            "station": step_station,
            "who": step_who,
            "confirm": step_confirm,
        },
        LEFT,
        commands=("grant",),
    )
}

FEATURE = Feature(
    name="grant",
    handlers=in_group(
        COMMAND_GROUP,
        # Roles name people: private chats only.
        CommandHandler("grant", private_only(grant_command)),
        CommandHandler("revoke", private_only(revoke_command)),
        CallbackQueryHandler(private_only(on_grant_button), pattern=GRANT_BUTTONS.pattern),
        CallbackQueryHandler(private_only(on_revoke_button), pattern=REVOKE_BUTTONS.pattern),
        CallbackQueryHandler(
            private_only(coadmin_invite.on_invite_button),
            pattern=coadmin_invite.INVITE_BUTTONS.pattern,
        ),
    ),
    flows=FLOWS,
    commands=COMMANDS,
    start_payloads=(coadmin_invite.on_start_payload,),
)
