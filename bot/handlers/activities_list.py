"""/activities: a station's own activities, paginated, with edit and delete buttons."""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest

from bot.core.callback_data import CallbackData
from bot.core.text_fit import fit_text
from bot.handlers.activities_form import _close, start_edit
from bot.handlers.activities_view import activity_line, error_text
from bot.handlers.callbacks import (
    ACTIVITIES_LIST,
    ActivitiesPage,
    ActivityButton,
    ActivityKeep,
    answer_invalid,
)
from bot.handlers.common import esc, refuse, reply, requires
from bot.runtime.context import KepuContext
from bot.services import activities as service
from bot.services.access import can_admin_station
from bot.services.activities import ActivityError

log = logging.getLogger(__name__)

PER_PAGE = 5


def _button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=data.encode())


@requires("station_admin")
async def list_command(update: Update, context: KepuContext) -> None:
    """Show the station's activities (pick the station first when there are several)."""
    t = context.t
    stations = await service.admin_stations(session=context.session, grants=context.scope.roles)
    if not stations:
        await reply(
            update,
            t(
                "You do not administer any station yet, so there is nothing to "
                "register activities for."
            ),
        )
        return
    if len(stations) > 1:
        buttons = [
            [_button(s.name[:40], ActivitiesPage(s.id, 0))]
            for s in stations[:20]
            if s.id is not None
        ]
        await reply(
            update, t("Which station's activities?"), reply_markup=InlineKeyboardMarkup(buttons)
        )
        return
    assert stations[0].id is not None
    text, markup = await _page(context, stations[0].id, stations[0].name, 0)
    await reply(update, text, reply_markup=markup)


async def _page(
    context: KepuContext, station_id: int, station_name: str, page: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    t = context.t
    result = await service.station_page(
        session=context.session, station_id=station_id, page=page, per_page=PER_PAGE
    )
    if not result.total:
        return t(
            "{station} has no activities registered yet. Register one with /activity, "
            "or send a photo with a caption starting with #活动.",
            station=esc(station_name),
        ), None
    rules = context.runtime.settings.activities
    now = context.runtime.now()
    header = t(
        "Activities of {station} — {total} in all, page {page} of {pages}:",
        station=esc(station_name),
        total=t.number(result.total),
        page=result.page + 1,
        pages=result.pages,
    )
    lines, rows = [header], []
    for number, activity in enumerate(result.items, start=1 + result.page * PER_PAGE):
        lines.append(f"{number}. " + activity_line(t, activity))
        if activity.id is not None and service.can_edit(activity, now=now, rules=rules):
            rows.append(
                [
                    _button(t("✏️ Edit {n}", n=number), ActivityButton("e", activity.id)),
                    _button(t("🗑 Delete {n}", n=number), ActivityButton("d", activity.id)),
                ]
            )
    if result.items and len(rows) < len(result.items):
        lines.append(
            t("Activities older than {days} days can no longer be changed.", days=rules.edit_days)
        )
    nav = []
    if result.page > 0:
        nav.append(_button("◀", ActivitiesPage(station_id, result.page - 1)))
    if result.page + 1 < result.pages:
        nav.append(_button("▶", ActivitiesPage(station_id, result.page + 1)))
    if nav:
        rows.append(nav)
    # Edited in place on page turns, so not through reply(): fit it here.
    return fit_text("\n\n".join(lines)), InlineKeyboardMarkup(rows) if rows else None


async def on_button(update: Update, context: KepuContext) -> None:
    """Handle ALS: buttons (pages, edit, delete and its confirmation)."""
    query = update.callback_query
    assert query is not None
    button = ACTIVITIES_LIST.decode(query.data)
    if button is None:
        await answer_invalid(update, context)
        return
    t = context.t
    grants = context.scope.roles
    if isinstance(button, ActivitiesPage):
        station_id, page = button.station_id, button.page
        if not can_admin_station(grants, station_id):
            await refuse(
                update,
                context,
                error_text(t, ActivityError("not_station_admin")),
                reason="not_station_admin",
                action="activity.list",
                subject_type="station",
                subject_id=station_id,
            )
            return
        stations = await service.admin_stations(session=context.session, grants=grants)
        name = next((s.name for s in stations if s.id == station_id), str(station_id))
        await query.answer()
        text, markup = await _page(context, station_id, name, page)
        try:
            await query.edit_message_text(text, reply_markup=markup, parse_mode="HTML")
        except BadRequest as exc:
            log.debug("page not changed", extra={"error": str(exc)})
        return
    if isinstance(button, ActivityKeep):
        await query.answer()
        await _close(query, t("Kept; nothing was deleted."))
        return
    activity_id = button.activity_id
    if button.action == "e":
        await query.answer()
        await start_edit(update, context, activity_id)
    elif button.action == "d":
        await query.answer()
        try:
            activity = await service.editable_activity(
                session=context.session,
                activity_id=activity_id,
                grants=grants,
                actor_id=_actor(context),
                now=context.runtime.now(),
                rules=context.runtime.settings.activities,
                action="activity.delete",
            )
        except ActivityError as exc:
            await reply(update, error_text(t, exc))
            return
        await reply(
            update,
            t("Delete “{title}”? This cannot be undone.", title=esc(activity.title)),
            reply_markup=InlineKeyboardMarkup(
                [
                    [
                        _button(t("Yes, delete"), ActivityButton("dy", activity_id)),
                        _button(t("Keep it"), ActivityKeep()),
                    ]
                ]
            ),
        )
    else:  # dy: the deletion is confirmed
        await query.answer()
        try:
            activity = await service.delete_activity(
                session=context.session,
                activity_id=activity_id,
                grants=grants,
                actor_id=_actor(context),
                now=context.runtime.now(),
                rules=context.runtime.settings.activities,
            )
        except ActivityError as exc:
            await _close(query, error_text(t, exc))
            return
        await _close(query, t("Deleted “{title}”.", title=esc(activity.title)))


def _actor(context: KepuContext) -> int | None:
    return context.person.id if context.person is not None else None
