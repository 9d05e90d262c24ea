"""Content use: /used (pick or search an item) and the "Used offline" button (USE:<id>).

Dialog ``content_use``: [station] → pick → kind → place → audience [→ size], then one
ContentUse row. An audience above ``activities.participants_flag_above`` is confirmed (是 /
改一下, or a new number) before anything is saved, as an activity's head count is.
"""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.content.cards import UseOffline
from bot.core.callback_data import CallbackData
from bot.handlers.activities_form import YES_WORDS, _close
from bot.handlers.activities_view import error_text
from bot.handlers.callbacks import (
    CONTENT_USE,
    UseItem,
    UseKind,
    UseSize,
    UseSkip,
    UseStation,
    answer_invalid,
)
from bot.handlers.common import esc, reply, requires
from bot.handlers.dialog import (
    Dialog,
    Flow,
    end_dialog,
    get_dialog,
    goto,
    input_hint,
    start_dialog,
)
from bot.i18n import N_, Translator
from bot.runtime.context import KepuContext
from bot.services import activities as activity_service
from bot.services import content_use as service
from bot.services.activity_labels import USE_KIND_LABELS
from bot.services.content_use import ContentUseError, ItemView

FLOW = "content_use"
KIND_LABELS = {
    "played": N_("▶️ Played the video"),
    "posted": N_("📌 Put up the poster"),
    "other": N_("Other use"),
}
SUMMARY_KINDS = USE_KIND_LABELS


def _button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=data.encode())


def _title(t: Translator, item: ItemView) -> str:
    return (item.title_en or item.title) if t.locale == "en" else item.title


@requires("station_admin")
async def used_command(update: Update, context: KepuContext) -> None:
    """/used [words]: record that the station used a catalogue item offline."""
    await _start(update, context, content_id=None, query=" ".join(context.args or []))


@requires("station_admin")
async def on_use_button(update: Update, context: KepuContext) -> None:
    """The "Used offline" button on a content card: USE:<content_id>."""
    query = update.callback_query
    assert query is not None
    button = UseOffline.decode(query.data)
    if button is None:
        await answer_invalid(update, context)
        return
    await query.answer()
    await _start(update, context, content_id=button.content_id, query="")


async def _start(
    update: Update, context: KepuContext, *, content_id: int | None, query: str
) -> None:
    t = context.t
    stations = await activity_service.admin_stations(
        session=context.session, grants=context.scope.roles
    )
    if not stations:
        await reply(
            update,
            t(
                "You do not administer any station yet, so there is nothing to "
                "register activities for."
            ),
        )
        return
    if content_id is not None:
        try:
            await service.get_item(session=context.session, content_id=content_id)
        except ContentUseError as exc:
            await reply(update, error_text(t, exc))
            return
    station_id = stations[0].id if len(stations) == 1 else None
    step = "station" if station_id is None else ("kind" if content_id else "pick")
    dialog = await start_dialog(
        update, context, FLOW, step, station_id=station_id, content_id=content_id, query=query
    )
    await _ask(update, context, dialog)


async def _ask(update: Update, context: KepuContext, dialog: Dialog) -> None:
    t = context.t
    step = dialog.step
    markup: InlineKeyboardMarkup | None = None
    if step == "station":
        stations = await activity_service.admin_stations(
            session=context.session, grants=context.scope.roles
        )
        text = t("Which station used it?")
        markup = InlineKeyboardMarkup(
            [[_button(s.name[:40], UseStation(s.id))] for s in stations[:20] if s.id is not None]
        )
    elif step == "pick":
        words = dialog.data.get("query") or ""
        items = await service.find_items(
            session=context.session, now=context.runtime.now(), query=words
        )
        if not items and words:
            text = t(
                "Nothing in the catalogue matches “{words}”. Send other words.", words=esc(words)
            )
            text += "\n" + input_hint(context)
        elif not items:
            text = t("The catalogue is empty for now.")
        else:
            text = (
                t("Which content did you use? Pick one, or send words to search.")
                if not words
                else t("Found for “{words}”:", words=esc(words))
                + "\n"
                + t("Pick one, or send other words to search.")
            )
            text += "\n" + input_hint(context)
            markup = InlineKeyboardMarkup(
                [[_button(_title(t, i)[:48], UseItem(i.id))] for i in items]
            )
    elif step == "kind":
        item = await service.get_item(
            session=context.session, content_id=dialog.data["content_id"]
        )
        text = t("How did you use “{title}”?", title=esc(_title(t, item)))
        suggested = service.default_kind(item.kind)
        # A poster is not played nor a video put up: its usual use and "other" only.
        order = [suggested] + [
            k for k in service.USE_KINDS if k != suggested and "other" in (k, suggested)
        ]
        markup = InlineKeyboardMarkup([[_button(t(KIND_LABELS[k]), UseKind(k))] for k in order])
    elif step == "place":
        text = t("Where? For example: 社区活动室, 村委会公告栏.") + "\n" + input_hint(context)
        markup = InlineKeyboardMarkup([[_button(t("Skip"), UseSkip())]])
    elif step == "size":
        text = _size_question(t, dialog.data, _bound(context)) + "\n" + input_hint(context)
        markup = InlineKeyboardMarkup(
            [[_button(t("Yes"), UseSize("yes")), _button(t("Change it"), UseSize("fix"))]]
        )
    else:
        text = t("About how many people saw it? A number such as 80 or 八十.")
        text += "\n" + input_hint(context)
    await context.bot.send_message(
        chat_id=dialog.chat_id, text=text, reply_markup=markup, parse_mode="HTML"
    )


async def step_pick(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Search words typed at the pick step."""
    message = update.effective_message
    words = (message.text or "").strip() if message is not None else ""
    await goto(context, dialog, "pick", query=words[:100])
    await _ask(update, context, dialog)


async def step_buttons_only(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """A typed message where buttons are expected: show them again."""
    await _ask(update, context, dialog)


async def step_place(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Read where it was used."""
    message = update.effective_message
    try:
        place = service.check_place((message.text or "") if message else "")
    except ContentUseError as exc:
        await reply(update, error_text(context.t, exc))
        return
    await goto(context, dialog, "audience", place=place)
    await _ask(update, context, dialog)


def _bound(context: KepuContext) -> int:
    return context.runtime.settings.activities.participants_flag_above


def _size_question(t: Translator, data: dict[str, Any], bound: int) -> str:
    """Ask whether an unusually large audience is meant (约5000人，确定吗？)."""
    n, limit = t.number(data["audience"]), t.number(bound)
    if data.get("audience_approx"):
        return t("About {n} people saw it — is that right? More than {bound} is rare.", n=n,
                 bound=limit)  # fmt: skip
    return t("{n} people saw it — is that right? More than {bound} is rare.", n=n, bound=limit)


async def step_audience(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Read how many saw it; a large number is confirmed first, then the use is stored."""
    message = update.effective_message
    try:
        quantity = service.read_audience((message.text or "") if message else "")
    except ContentUseError as exc:
        await reply(update, error_text(context.t, exc))
        return
    if service.needs_size_check(quantity.value, bound=_bound(context)):
        # Asked before anything is saved; the dialog stays, so a new number also works.
        await goto(
            context, dialog, "size", audience=quantity.value, audience_approx=quantity.approx
        )
        await _ask(update, context, dialog)
        return
    await _save(update, context, dialog, quantity.value)


async def step_size(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Typed text at the audience check: 是 keeps it, a number replaces it."""
    message = update.effective_message
    text = ((message.text or "") if message is not None else "").strip().lower()
    if text in YES_WORDS and isinstance(dialog.data.get("audience"), int):
        await _save(update, context, dialog, dialog.data["audience"])
        return
    await step_audience(update, context, dialog)


async def _save(update: Update, context: KepuContext, dialog: Dialog, audience: int) -> None:
    """Store the use and thank the sender."""
    t = context.t
    try:
        await service.record_use(
            session=context.session,
            station_id=dialog.data["station_id"],
            grants=context.scope.roles,
            actor_id=context.person.id if context.person is not None else None,
            content_id=dialog.data["content_id"],
            use_kind=dialog.data["kind"],
            place=dialog.data.get("place"),
            audience=audience,
            today=context.runtime.today(),
            now=context.runtime.now(),
        )
    except ContentUseError as exc:
        await reply(update, error_text(t, exc))
        if exc.code.startswith("audience"):
            return
        await end_dialog(update, context)
        return
    await end_dialog(update, context)
    item = await service.get_item(session=context.session, content_id=dialog.data["content_id"])
    await reply(
        update,
        t(
            "Recorded: “{title}” {kind}, seen by {n} people. Thank you!",
            title=esc(_title(t, item)),
            kind=t(SUMMARY_KINDS[dialog.data["kind"]]),
            n=t.number(audience),
        ),
    )


FLOWS: dict[str, Flow] = {
    FLOW: Flow.of(
        {
            "station": step_buttons_only,
            "pick": step_pick,
            "kind": step_buttons_only,
            "place": step_place,
            "audience": step_audience,
            "size": step_size,
        },
        N_("Left the content-use record; nothing was recorded."),
        commands=("used",),
    ),
}


# Which dialog step each button belongs to.
_BUTTON_STEPS: dict[type[CallbackData], str] = {
    UseStation: "station",
    UseItem: "pick",
    UseKind: "kind",
    UseSkip: "place",
    UseSize: "size",
}


async def on_button(update: Update, context: KepuContext) -> None:
    """Handle CU: buttons of the content-use dialog."""
    query = update.callback_query
    assert query is not None
    button = CONTENT_USE.decode(query.data)
    if button is None:
        await answer_invalid(update, context)
        return
    t = context.t
    dialog = await get_dialog(update, context)
    if dialog is None or dialog.flow != FLOW or dialog.step != _BUTTON_STEPS[type(button)]:
        await query.answer(t("This button is no longer active."), show_alert=True)
        return
    await query.answer()
    data: dict[str, Any] = {}
    if isinstance(button, UseStation):
        stations = await activity_service.admin_stations(
            session=context.session, grants=context.scope.roles
        )
        match = next((s for s in stations if s.id == button.station_id), None)
        if match is None:
            return
        data = {"station_id": match.id}
        step = "kind" if dialog.data.get("content_id") else "pick"
        await _close(query, t("Station: {name}", name=esc(match.name)))
    elif isinstance(button, UseItem):
        try:
            item = await service.get_item(session=context.session, content_id=button.content_id)
        except ContentUseError as exc:
            await reply(update, error_text(t, exc))
            return
        data, step = {"content_id": item.id}, "kind"
        await _close(query, "📄 " + esc(_title(t, item)))
    elif isinstance(button, UseKind) and button.kind in service.USE_KINDS:
        data, step = {"kind": button.kind}, "place"
        await _close(query, t(KIND_LABELS[button.kind]))
    elif isinstance(button, UseSkip):
        data, step = {"place": None}, "audience"
        await _close(query, None)
    elif isinstance(button, UseSize) and button.answer == "yes":
        if not isinstance(dialog.data.get("audience"), int):
            return
        await _close(query, t("Audience: {n}", n=t.number(dialog.data["audience"])))
        await _save(update, context, dialog, dialog.data["audience"])
        return
    elif isinstance(button, UseSize):
        data, step = {"audience": None}, "audience"
        await _close(query, None)
    else:
        return
    await goto(context, dialog, step, **data)
    await _ask(update, context, dialog)
