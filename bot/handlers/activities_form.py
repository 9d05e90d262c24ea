"""The activity form: guided (/activity), one-message (#活动 …) and editing share one dialog.

The dialog ``activity`` keeps the draft in ``dialog.data["f"]`` (JSON only) and the steps
still to ask in ``dialog.data["queue"]``; when the queue is empty the confirmation screen is
shown. Nothing is written before Confirm. A photo album arrives as several messages with one
``media_group_id``: the first starts (or joins) the dialog and records the group id in
``data["albums"]``; the album's other messages are routed to the dialog and their photos are
added silently, refreshing the screen shown last (``data["screen"]``).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import ApplicationHandlerStop, filters

from bot.config import ActivitiesSettings
from bot.content.taxonomy import default_taxonomy
from bot.core.callback_data import CallbackData
from bot.core.zh_numbers import fold_width
from bot.handlers.activities_view import (
    FIELD_LABELS,
    FORM_CAMPAIGNS,
    TYPE_LABELS,
    campaign_label,
    error_text,
    summary,
)
from bot.handlers.callbacks import (
    ACTIVITY_FORM,
    ActivityAction,
    ActivityCampaign,
    ActivityDay,
    ActivityEdit,
    ActivityFormButton,
    ActivitySize,
    ActivitySkip,
    ActivityStation,
    ActivityType,
    answer_invalid,
)
from bot.handlers.common import button_rows, esc, refuse, reply
from bot.handlers.dialog import (
    Dialog,
    Flow,
    StepHandler,
    end_dialog,
    get_dialog,
    input_hint,
    save_dialog,
    start_dialog,
)
from bot.i18n import N_, Translator
from bot.runtime.context import KepuContext
from bot.services import activities as service
from bot.services import campaigns as campaign_service
from bot.services.activities import (
    FLAG_COMMERCIAL,
    FLAG_DUPLICATE,
    FLAG_PARTICIPANTS_HIGH,
    FLAG_PHOTO_REUSE,
    ActivityError,
)
from bot.services.activity_text import parse_activity_text
from storage import activities as store

log = logging.getLogger(__name__)

FLOW = "activity"
TRIGGER_RE = re.compile(r"\s*(?:#\s*活动(?!周)|#activity(?![A-Za-z0-9_])|活动\s*:)", re.I)
NONE_WORDS = frozenset({"无", "没有", "不是", "否", "none", "no", "-", "—"})
ERROR_STEP = {
    "date_in_future": "when", "date_too_old": "when", "date_unreadable": "when",
    "participants_zero": "participants", "participants_too_many": "participants",
    "participants_unreadable": "participants", "title_empty": "title",
    "title_too_long": "title", "photos_missing": "photos", "photos_too_many": "photos",
    "type_unknown": "type", "campaign_unknown": "campaign", "place_too_long": "place",
    "title_no_words": "title", "date_impossible": "when", "participants_negative": "participants",
}  # fmt: skip
YES_WORDS = frozenset({"是", "是的", "对", "对的", "确定", "没错", "yes", "y", "ok"})


# Steps that wait for something typed or sent (the others wait for a button press).
TYPED_STEPS = frozenset({"title", "when", "place", "participants", "photos"})


def is_trigger(text: str | None) -> bool:
    """Tell whether a text or caption starts with the activity trigger (#活动, 活动：…)."""
    return bool(text) and bool(TRIGGER_RE.match(fold_width(text or "")))


class _TriggerFilter(filters.MessageFilter):
    """Messages whose text or caption starts with the activity trigger (#活动 …)."""

    def filter(self, message: Message) -> bool:
        return is_trigger(message.text or message.caption)


TRIGGER = _TriggerFilter(name="activity_trigger")


def _photo_of(message: Message | None) -> list[str] | None:
    if message is None or not message.photo:
        return None
    largest = message.photo[-1]
    return [largest.file_id, largest.file_unique_id]


def _fields(dialog: Dialog) -> dict[str, Any]:
    fields: dict[str, Any] = dialog.data.setdefault("f", {})
    return fields


def _add_photo(dialog: Dialog, photo: list[str]) -> bool:
    photos: list[list[str]] = _fields(dialog).setdefault("photos", [])
    if any(p[1] == photo[1] for p in photos) or len(photos) >= service.MAX_PHOTOS:
        return False
    photos.append(photo)
    return True


def _rules(context: KepuContext) -> ActivitiesSettings:
    return context.runtime.settings.activities


# --- starting ---------------------------------------------------------------------------------
async def start_guided(update: Update, context: KepuContext) -> None:
    """/activity: walk through every field."""
    stations = await _stations(update, context)
    if stations is None:
        return
    queue = list(service.FIELDS)
    if len(stations) > 1:
        queue.insert(0, "station")
    dialog = await start_dialog(
        update,
        context,
        FLOW,
        queue[0],
        mode="guided",
        queue=queue,
        f={},
        station_id=stations[0][0] if len(stations) == 1 else None,
        albums=[],
    )
    await reply(
        update,
        context.t(
            "Let's register an activity. Send /cancel at any time to "
            "stop; nothing is saved before you confirm."
        ),
    )
    await ask(update, context, dialog)


async def start_from_message(
    update: Update, context: KepuContext, dialog: Dialog | None = None
) -> None:
    """A one-message report (or an uncaptioned photo): start or refill the dialog."""
    message = update.effective_message
    assert message is not None
    text = message.text or message.caption or ""
    photo = _photo_of(message)
    if dialog is None:
        stations = await _stations(update, context)
        if stations is None:
            return
        dialog = await start_dialog(
            update,
            context,
            FLOW,
            "confirm",
            mode="message",
            queue=[],
            f={},
            station_id=stations[0][0] if len(stations) == 1 else None,
            albums=[],
        )
    albums: list[str] = dialog.data.setdefault("albums", [])
    if message.media_group_id and message.media_group_id not in albums:
        albums.append(message.media_group_id)
    if photo is not None:
        _add_photo(dialog, photo)
    t = context.t
    problems: list[ActivityError] = []
    if text.strip():
        draft = service.draft_from_text(text, today=context.runtime.today(), rules=_rules(context))
        _fields(dialog).update(draft.fields)
        problems = draft.problems
    queue = service.missing_steps(_fields(dialog))
    for problem in problems:
        step = ERROR_STEP.get(problem.code)
        if step and step not in queue:
            queue.append(step)
    queue.sort(key=lambda s: service.FIELDS.index(s))
    if dialog.data.get("station_id") is None:
        queue.insert(0, "station")
    dialog.data["queue"] = queue
    dialog.step = queue[0] if queue else "confirm"
    await save_dialog(context, dialog)
    if not text.strip():
        await reply(
            update,
            t(
                "Photo received. Let's register the activity it shows — or "
                "describe it in one message, e.g. “#活动 今天 讲座 防范电信诈骗 "
                "45人”. Send /cancel to stop."
            ),
        )
    elif queue:
        lines = [t("Here is what I understood:"), await _summary(context, dialog)]
        lines += [error_text(t, p) for p in problems]
        lines.append(t("A few things are still needed."))
        await reply(update, "\n\n".join(lines))
    await ask(update, context, dialog)


async def start_edit(update: Update, context: KepuContext, activity_id: int) -> None:
    """Open an existing activity on the confirmation screen for changes."""
    try:
        activity = await service.editable_activity(
            session=context.session,
            activity_id=activity_id,
            grants=context.scope.roles,
            actor_id=_actor(context),
            now=context.runtime.now(),
            rules=_rules(context),
        )
    except ActivityError as exc:
        await reply(update, error_text(context.t, exc))
        return
    photos = await store.photos_of(session=context.session, activity_id=activity_id)
    refs = [store.PhotoRef(p.file_id, p.file_unique_id) for p in photos]
    dialog = await start_dialog(
        update,
        context,
        FLOW,
        "confirm",
        mode="edit",
        queue=[],
        albums=[],
        f=service.fields_from_activity(activity, refs),
        station_id=activity.station_id,
        activity_id=activity_id,
    )
    await ask(update, context, dialog)


async def _stations(update: Update, context: KepuContext) -> list[tuple[int, str]] | None:
    """Return the stations the sender may register for, or refuse and return None."""
    stations = await service.admin_stations(session=context.session, grants=context.scope.roles)
    if not stations:
        await reply(
            update,
            context.t(
                "You do not administer any station yet, so there is "
                "nothing to register activities for."
            ),
        )
        return None
    return [(s.id, s.name) for s in stations if s.id is not None]


def _actor(context: KepuContext) -> int | None:
    return context.person.id if context.person is not None else None


# --- prompts --------------------------------------------------------------------------------
def _button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=data.encode())


async def ask(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Send the prompt of the dialog's current step (or the confirmation screen)."""
    t = context.t
    step = dialog.step
    markup: InlineKeyboardMarkup | None = None
    if step == "station":
        stations = await _stations(update, context)
        if stations is None:
            return
        text = t("Which station is this activity for?")
        markup = InlineKeyboardMarkup(
            [[_button(name[:40], ActivityStation(sid))] for sid, name in stations[:20]]
        )
    elif step == "type":
        text = t("What kind of activity was it?")
        markup = InlineKeyboardMarkup(
            button_rows(
                [_button(t(label), ActivityType(code)) for code, label in TYPE_LABELS.items()], 2
            )
        )
    elif step == "title":
        text = t("What was its title or topic? For example: 防范电信诈骗")
    elif step == "when":
        text = t(
            "When was it held? Press a button or send a date such as 11月20日, 11/20, "
            "上周五 or 2026-11-20, with a time if you like (下午3点)."
        )
        markup = InlineKeyboardMarkup(
            [[_button(t("Today"), ActivityDay(0)), _button(t("Yesterday"), ActivityDay(1))]]
        )
    elif step == "place":
        text = t("Where was it held?")
        markup = InlineKeyboardMarkup([[_button(t("Skip"), ActivitySkip("place"))]])
    elif step == "participants":
        text = t("How many people took part? For example 45, 约80人 or 200人左右.")
    elif step == "campaign":
        text = t("Was it part of a national campaign?")
        markup = InlineKeyboardMarkup(
            button_rows(
                [
                    _button(campaign_label(t, code), ActivityCampaign(code))
                    for code in FORM_CAMPAIGNS
                ]
                + [_button(t("No campaign"), ActivityCampaign("none"))],
                2,
            )
        )
    elif step == "photos":
        count = len(_fields(dialog).get("photos") or [])
        if count:
            text = _photo_count_text(t, count)
            markup = InlineKeyboardMarkup(
                [[_button(t("All photos sent"), ActivityAction("done"))]]
            )
        else:
            text = t("Send at least one photo of the activity (an album is fine).")
    elif service.needs_size_check(_fields(dialog), _rules(context)):
        dialog.step = step = "size"  # confirmed before the confirmation screen, never after saving
        text, markup = _size_question(t, _fields(dialog), _rules(context))
        await save_dialog(context, dialog)
    else:
        dialog.step = "confirm"
        text = t("Please check the activity:") + "\n\n" + await _summary(context, dialog)
        markup = _confirm_markup(t, dialog)
    if dialog.step in TYPED_STEPS:
        text += "\n" + input_hint(context)
    sent = await context.bot.send_message(
        chat_id=dialog.chat_id, text=text, reply_markup=markup, parse_mode="HTML"
    )
    if step in ("photos", "confirm") or dialog.step == "confirm":
        dialog.data["screen"] = sent.message_id
        await save_dialog(context, dialog)


def _size_question(
    t: Translator, fields: dict[str, Any], rules: ActivitiesSettings
) -> tuple[str, InlineKeyboardMarkup]:
    """Ask whether an unusually high head count is meant (约100000人，确定吗？)."""
    n, bound = t.number(fields["participants"]), t.number(rules.participants_flag_above)
    if fields.get("participants_approx"):
        text = t("About {n} participants — is that right? More than {bound} is rare.", n=n,
                 bound=bound)  # fmt: skip
    else:
        text = t("{n} participants — is that right? More than {bound} is rare.", n=n, bound=bound)
    markup = InlineKeyboardMarkup(
        [[_button(t("Yes"), ActivitySize("yes")), _button(t("Change it"), ActivitySize("fix"))]]
    )
    return text, markup


def _photo_count_text(t: Translator, count: int) -> str:
    return t.plural(
        "{n} photo received. Send more, or press “All photos sent”.",
        "{n} photos received. Send more, or press “All photos sent”.",
        count,
    )


def _confirm_markup(t: Translator, dialog: Dialog) -> InlineKeyboardMarkup:
    edits = [_button("✏️ " + t(FIELD_LABELS[name]), ActivityEdit(name)) for name in service.FIELDS]
    rows = button_rows(edits, 3)
    # Seed article 12: no purely commercial activity at a station. One tap answers it.
    sales = _fields(dialog).get("commercial")
    rows.append(
        [
            _button(
                ("☑️ " if sales else "⬜ ") + t("Sales or sponsors involved"),
                ActivityAction("sales"),
            )
        ]
    )
    confirm = t("Save changes") if dialog.data.get("mode") == "edit" else t("Confirm")
    rows.append(
        [
            _button("✅ " + confirm, ActivityAction("ok")),
            _button(t("Cancel"), ActivityAction("no")),
        ]
    )
    return InlineKeyboardMarkup(rows)


async def _summary(context: KepuContext, dialog: Dialog) -> str:
    station_name = None
    station_id = dialog.data.get("station_id")
    if station_id is not None:
        stations = await store.stations_by_id(session=context.session, station_ids=[station_id])
        station_name = stations[station_id].name if station_id in stations else None
    return summary(context.t, _fields(dialog), station_name)


async def _refresh_screen(context: KepuContext, dialog: Dialog) -> None:
    """Update the last confirmation or photo-count message after album photos arrived."""
    screen = dialog.data.get("screen")
    if screen is None:
        return
    t = context.t
    if dialog.step == "confirm":
        text = t("Please check the activity:") + "\n\n" + await _summary(context, dialog)
        markup = _confirm_markup(t, dialog)
    elif dialog.step == "photos":
        text = _photo_count_text(t, len(_fields(dialog).get("photos") or []))
        markup = InlineKeyboardMarkup([[_button(t("All photos sent"), ActivityAction("done"))]])
    else:
        return
    try:
        await context.bot.edit_message_text(
            text, chat_id=dialog.chat_id, message_id=screen, reply_markup=markup, parse_mode="HTML"
        )
    except BadRequest as exc:  # "message is not modified" and the like are harmless
        log.debug("screen not refreshed", extra={"error": str(exc)})


# --- moving on ------------------------------------------------------------------------------
async def advance(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """The current step is answered: go to the next queued step or to confirmation."""
    queue: list[str] = dialog.data.get("queue", [])
    if dialog.step in queue:
        queue.remove(dialog.step)
    dialog.data["queue"] = queue
    dialog.step = queue[0] if queue else "confirm"
    await save_dialog(context, dialog)
    await ask(update, context, dialog)


async def _reask(update: Update, context: KepuContext, dialog: Dialog, exc: ActivityError) -> None:
    await reply(update, error_text(context.t, exc))


# --- steps fed by messages -------------------------------------------------------------------
def _step(handler: StepHandler) -> StepHandler:
    """Wrap a step: absorb album photos and new one-message reports first."""

    async def wrapped(update: Update, context: KepuContext, dialog: Dialog) -> None:
        message = update.effective_message
        if message is None:
            return
        photo = _photo_of(message)
        group = message.media_group_id
        if group and group in dialog.data.get("albums", []):
            if photo is not None:
                _add_photo(dialog, photo)
            if message.caption and not _fields(dialog).get("title"):
                await start_from_message(update, context, dialog)  # caption on a later item
                return
            await save_dialog(context, dialog)
            await _refresh_screen(context, dialog)
            return
        if is_trigger(message.text or message.caption):
            # A report in the form's own dialog fills it in (e.g. after a bare photo).
            await start_from_message(update, context, dialog)
            return
        if photo is not None and dialog.step != "photos":
            if group:
                dialog.data.setdefault("albums", []).append(group)
            added = _add_photo(dialog, photo)
            await save_dialog(context, dialog)
            if dialog.step == "confirm":
                await _refresh_screen(context, dialog)
            elif added:
                count = len(_fields(dialog)["photos"])
                await reply(
                    update,
                    context.t.plural(
                        "Photo added ({n} in total).", "Photo added ({n} in total).", count
                    ),
                )
            return
        await handler(update, context, dialog)

    return wrapped


def _text_of(update: Update) -> str:
    message = update.effective_message
    return (message.text or "") if message is not None else ""


async def step_station(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Typed text at the station step: show the buttons again."""
    await ask(update, context, dialog)


async def step_type(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Read a typed type word (讲座, 展览, lecture…)."""
    text = _text_of(update).strip()
    code = next((c for c, label in TYPE_LABELS.items()
                 if text in (label, context.t(label))), None)  # fmt: skip
    if code is None and text:
        code = parse_activity_text(text, today=context.runtime.today()).type
    if code is None:
        await reply(update, error_text(context.t, ActivityError("type_unknown")))
        await ask(update, context, dialog)
        return
    _fields(dialog)["type"] = code
    await advance(update, context, dialog)


def _checked_step(field: str, check: Callable[[str], Any], doc: str) -> StepHandler:
    """A step that stores ``check(text)`` in ``field``, or says why not and asks again."""

    async def step(update: Update, context: KepuContext, dialog: Dialog) -> None:
        try:
            _fields(dialog)[field] = check(_text_of(update))
        except ActivityError as exc:
            await _reask(update, context, dialog, exc)
            return
        await advance(update, context, dialog)

    step.__doc__ = doc
    return step


step_title = _checked_step("title", service.check_title, "Read the title.")
step_place = _checked_step("place", service.check_place, "Read the place.")


async def step_participants(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Read the head count (45, 四十五, 约120人, 200人左右) with the one quantity reader."""
    try:
        quantity = service.read_participants(_text_of(update))
    except ActivityError as exc:
        await _reask(update, context, dialog, exc)
        return
    fields = _fields(dialog)
    fields["participants"], fields["participants_approx"] = quantity.value, quantity.approx
    fields.pop("participants_confirmed", None)
    await advance(update, context, dialog)


async def step_size(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Typed text at the head-count check: 是 keeps it, a number replaces it."""
    if _text_of(update).strip().lower() in YES_WORDS:
        fields = _fields(dialog)
        fields["participants_confirmed"] = fields.get("participants")
        await advance(update, context, dialog)
        return
    await step_participants(update, context, dialog)


async def step_when(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Read a date (and time) in any accepted form."""
    try:
        day, clock = service.parse_when(
            _text_of(update), today=context.runtime.today(), rules=_rules(context)
        )
    except ActivityError as exc:
        await _reask(update, context, dialog, exc)
        return
    fields = _fields(dialog)
    fields["held_on"] = day.isoformat()
    fields.pop("held_at_time", None)
    if clock is not None:
        fields["held_at_time"] = clock.strftime("%H:%M")
    await advance(update, context, dialog)


async def step_campaign(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Read a typed campaign name, or 无 for none."""
    text = _text_of(update).strip()
    fields = _fields(dialog)
    if text.lower() in NONE_WORDS:
        fields["campaign"] = None  # answered "none": never tagged by a running campaign
        await advance(update, context, dialog)
        return
    code = parse_activity_text(text, today=context.runtime.today()).campaign if text else None
    if code is None:
        await reply(update, error_text(context.t, ActivityError("campaign_unknown")))
        await ask(update, context, dialog)
        return
    fields["campaign"] = code
    await advance(update, context, dialog)


async def step_photos(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Collect photos until Done."""
    message = update.effective_message
    photo = _photo_of(message)
    if photo is None:
        if _fields(dialog).get("photos"):
            await ask(update, context, dialog)
        else:
            await reply(update, context.t("Please send a photo of the activity."))
        return
    if message is not None and message.media_group_id:
        dialog.data.setdefault("albums", []).append(message.media_group_id)
    _add_photo(dialog, photo)
    await save_dialog(context, dialog)
    await ask(update, context, dialog)


async def step_confirm(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Typed text on the confirmation screen: show it again."""
    await reply(update, context.t("Please use the buttons to change a field or confirm."))
    await ask(update, context, dialog)


def _left(dialog: Dialog) -> str:
    if dialog.data.get("mode") == "edit":
        return N_("Left the changes; the activity stays as it was.")
    return N_("Left the activity form; the activity was not saved.")


FLOWS: dict[str, Flow] = {
    FLOW: Flow.of(
        {
            name: _step(handler)
            for name, handler in {
                "station": step_station,
                "type": step_type,
                "title": step_title,
                "when": step_when,
                "place": step_place,
                "participants": step_participants,
                "size": step_size,
                "campaign": step_campaign,
                "photos": step_photos,
                "confirm": step_confirm,
            }.items()
        },
        _left,
        # A report (or a photo captioned as one) leaves any other dialog; this form takes
        # it as the answer to all its questions at once.
        commands=("activity",),
        starts_on=TRIGGER,
    ),
}


# --- buttons -----------------------------------------------------------------------------
# Which dialog step each button belongs to (the others: see _step_of).
_BUTTON_STEPS: dict[type[CallbackData], str] = {
    ActivityStation: "station",
    ActivityType: "type",
    ActivityDay: "when",
    ActivityCampaign: "campaign",
    ActivityEdit: "confirm",
}


def _step_of(button: ActivityFormButton) -> str | None:
    """Return the step a form button belongs to, or None if it works at any step (Cancel)."""
    if isinstance(button, ActivitySkip):
        return button.step
    if isinstance(button, ActivitySize):
        return "size"
    if isinstance(button, ActivityAction):
        return {"done": "photos", "ok": "confirm", "sales": "confirm"}.get(button.action)
    return _BUTTON_STEPS[type(button)]


async def on_button(update: Update, context: KepuContext) -> None:
    """Handle every ACT: button of the form."""
    query = update.callback_query
    assert query is not None
    button = ACTIVITY_FORM.decode(query.data)
    if button is None:
        await answer_invalid(update, context)
        return
    dialog = await get_dialog(update, context)
    t = context.t
    if dialog is None or dialog.flow != FLOW:
        await query.answer(t("This button is no longer active."), show_alert=True)
        return
    expected = _step_of(button)
    if expected is not None and dialog.step != expected:
        await query.answer(t("This button is no longer active."), show_alert=True)
        return
    await query.answer()
    fields = _fields(dialog)
    if button == ActivityAction("no"):
        await end_dialog(update, context)
        await _close(query, t("Cancelled. Nothing was saved."))
        return
    if isinstance(button, ActivityStation):
        stations = dict(await _stations(update, context) or [])
        if button.station_id not in stations:
            await reply(update, error_text(t, ActivityError("not_station_admin")))
            return
        dialog.data["station_id"] = button.station_id
        await _close(query, t("Station: {name}", name=esc(stations[button.station_id])))
    elif isinstance(button, ActivityType) and button.code in TYPE_LABELS:
        fields["type"] = button.code
        await _close(query, t("Type: {value}", value=t(TYPE_LABELS[button.code])))
    elif isinstance(button, ActivityDay) and button.days_ago in (0, 1):
        day = context.runtime.today() - dt.timedelta(days=button.days_ago)
        fields["held_on"] = day.isoformat()
        fields.pop("held_at_time", None)
        await _close(query, t("Date: {value}", value=t.date(day, "long")))
    elif isinstance(button, ActivitySkip):
        fields.pop("place", None)
        await _close(query, t("Place: {value}", value="—"))
    elif isinstance(button, ActivityCampaign):
        if button.code == "none":
            fields["campaign"] = None  # answered "none": never tagged by a running campaign
        elif default_taxonomy().get_campaign(button.code) is not None:
            fields["campaign"] = button.code
        await _close(
            query, t("Campaign: {value}", value=campaign_label(t, fields.get("campaign")))
        )
    elif button == ActivityAction("done"):
        if not fields.get("photos"):
            await reply(update, error_text(t, ActivityError("photos_missing")))
            return
        await _close(query, None)
    elif isinstance(button, ActivityEdit) and button.field in service.FIELDS:
        arg = button.field
        await _close(query, None)
        dialog.step = arg
        dialog.data["queue"] = [arg]
        if arg == "photos":
            fields["photos"] = []
            await reply(update, t("Send the photos again; they replace the previous ones."))
        await save_dialog(context, dialog)
        await ask(update, context, dialog)
        return
    elif isinstance(button, ActivitySize):
        if button.answer == "fix":
            await _close(query, None)
            dialog.step, dialog.data["queue"] = "participants", ["participants"]
            await save_dialog(context, dialog)
            await ask(update, context, dialog)
            return
        fields["participants_confirmed"] = fields.get("participants")
        await _close(query, t("Participants: {value}", value=t.number(fields["participants"])))
    elif button == ActivityAction("ok"):
        await _confirm(update, context, dialog)
        return
    elif button == ActivityAction("sales"):
        fields["commercial"] = not fields.get("commercial")
        await save_dialog(context, dialog)
        await _refresh_screen(context, dialog)
        return
    else:
        return
    await advance(update, context, dialog)


async def _close(query: Any, text: str | None) -> None:
    """Remove a prompt's buttons, optionally replacing its text with the answer given."""
    try:
        if text is None:
            await query.edit_message_reply_markup(reply_markup=None)
        else:
            await query.edit_message_text(text, reply_markup=None, parse_mode="HTML")
    except BadRequest as exc:
        log.debug("prompt not closed", extra={"error": str(exc)})


async def _confirm(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Store the activity (or the changes) and tell what was flagged."""
    t = context.t
    query = update.callback_query
    rules = _rules(context)
    _fields(dialog).setdefault("commercial", False)  # the card asked; untouched is "no"
    if service.needs_size_check(_fields(dialog), rules):
        await ask(update, context, dialog)  # an unconfirmed high head count is asked first
        return
    if dialog.data.get("mode") != "edit" and "campaign" not in _fields(dialog):
        # issue #19: a report during one running campaign of the station's region is its.
        await campaign_service.tag_activity_fields(
            session=context.session,
            settings=context.runtime.settings,
            station_id=int(dialog.data["station_id"]),
            fields=_fields(dialog),
        )
    try:
        data = service.input_from_fields(_fields(dialog))
        kwargs: dict[str, Any] = dict(
            session=context.session,
            grants=context.scope.roles,
            actor_id=_actor(context),
            data=data,
            now=context.runtime.now(),
            today=context.runtime.today(),
            rules=rules,
            integrity=context.runtime.settings.integrity,
        )
        if dialog.data.get("mode") == "edit":
            saved = await service.update_activity(activity_id=dialog.data["activity_id"], **kwargs)
        else:
            saved = await service.register_activity(station_id=dialog.data["station_id"], **kwargs)
    except ActivityError as exc:
        step = ERROR_STEP.get(exc.code)
        await reply(update, error_text(t, exc))
        if step is None:
            await end_dialog(update, context)
            return
        dialog.step, dialog.data["queue"] = step, [step]
        await save_dialog(context, dialog)
        await ask(update, context, dialog)
        return
    await end_dialog(update, context)
    if query is not None:
        await _close(
            query, t("Please check the activity:") + "\n\n" + await _summary(context, dialog)
        )
    lines = [
        t("Changes saved.")
        if dialog.data.get("mode") == "edit"
        else t("Saved! The activity is registered (no. {id}).", id=saved.activity_id)
    ]
    if FLAG_PARTICIPANTS_HIGH in saved.new_flags:
        lines.append(
            t(
                "More than {bound} participants is unusual, so the coordinators will "
                "take a look — that is routine, nothing is wrong with registering it.",
                bound=t.number(saved.participants_bound),
            )
        )
    if FLAG_PHOTO_REUSE in saved.new_flags:
        lines.append(
            t(
                "A photo was already used as evidence elsewhere, so it was flagged for "
                "the coordinators to check. If that was a mistake, you can change the "
                "photos under /activities within {days} days.",
                days=rules.edit_days,
            )
        )
    if FLAG_DUPLICATE in saved.new_flags:
        lines.append(
            t(
                "An activity with the same date, type and title is already registered for "
                "this station, so the coordinators will check it is not a copy. If it is, "
                "delete one under /activities."
            )
        )
    if FLAG_COMMERCIAL in saved.new_flags:
        lines.append(
            t(
                "Stations may not host purely commercial activities, so the coordinators "
                "will look at this one. It is registered and counts unless they confirm "
                "a problem."
            )
        )
    if saved.closed_flags:
        lines.append(
            t.plural(
                "{n} earlier finding no longer holds and was closed.",
                "{n} earlier findings no longer hold and were closed.",
                saved.closed_flags,
            )
        )
    lines.append(t("See your station's activities with /activities."))
    await reply(update, "\n\n".join(lines))


async def refuse_non_admin(update: Update, context: KepuContext) -> None:
    """Politely refuse an activity report from someone who administers no station (audited)."""
    await refuse(
        update,
        context,
        context.t(
            "Only station administrators can register activities. If you run a station, ask your "
            "county science association to make you its administrator."
        ),
        reason="not_station_admin",
        action="activity.register",
        subject_type="activity",
    )
    raise ApplicationHandlerStop
