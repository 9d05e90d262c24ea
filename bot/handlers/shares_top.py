"""/top: leaderboards of propagation volume — the station's informants and the area's
recognised stations, this week or this month; buttons switch board and period."""

from __future__ import annotations

import datetime as dt
import html
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot.handlers.callbacks import TopBoard, TopBoardCode, answer_invalid
from bot.handlers.commands import command
from bot.handlers.common import is_unchanged, reply, requires
from bot.i18n import N_, Translator
from bot.runtime.context import KepuContext
from bot.services import access, share_stats
from bot.services import shares as share_service
from bot.services.share_stats import Board
from storage import regions as region_store
from storage.models import Station

ROLES = ("informant", "station_admin", "coordinator")

COMMANDS = (command("top", N_("Leaderboards of propagation volume"), *ROLES, order=25),)


class Scope:
    """What the viewer may rank: a station (its informants) and an area (its stations)."""

    def __init__(
        self,
        station: Station | None,
        informant_id: int | None,
        area_prefix: str | None,
        area_code: str | None,
    ) -> None:
        self.station = station
        self.informant_id = informant_id
        self.area_prefix = area_prefix
        self.area_code = area_code


async def _scope(context: KepuContext) -> Scope:
    session, grants = context.session, context.scope.roles
    person = context.person
    informant = await share_service.informant_for(
        session=session, person_id=person.id if person is not None else None
    )
    station_id = informant.station_id if informant else None
    if station_id is None:
        admin_of = access.administered_station_ids(grants)
        station_id = admin_of[0] if admin_of else None
    station = await session.get(Station, station_id) if station_id is not None else None
    area_code: str | None = None
    coordinated = access.coordinator_regions(grants)
    if coordinated:
        area_code = coordinated[0]
    elif station is not None and station.region_code:
        area_code = station.region_code
    prefix = access.region_prefix(area_code) if area_code else None
    if prefix is None and access.is_admin(grants):
        prefix = ""  # the whole country
    return Scope(station, informant.informant_id if informant else None, prefix, area_code)


async def _area_name(context: KepuContext, scope: Scope) -> str:
    if not scope.area_code:
        return context.t("all regions")
    region = await region_store.get_region(session=context.session, code=scope.area_code)
    return region.name if region is not None else scope.area_code


def _period_text(t: Translator, board: Board) -> str:
    last = board.end.toordinal() - 1
    span = t.span(board.start, dt.date.fromordinal(last))
    return (
        t("this week ({span})", span=span)
        if board.period == "week"
        else t("this month ({span})", span=span)
    )


def render_board(t: Translator, board: Board, title: str, me: int | None, me_label: str) -> str:
    """Return a leaderboard as HTML text: top ten, and the viewer's row if lower."""
    lines = [f"🏆 <b>{html.escape(title)}</b>", _period_text(t, board), ""]
    if not board.rows:
        lines.append(t("Nobody to rank yet."))
        return "\n".join(lines)
    shown = board.rows[: share_stats.BOARD_SIZE]
    mine = board.row_of(me) if me is not None else None
    for row in shown:
        lines.append(_row_text(t, row, me_label if row.key == me else None))
    if mine is not None and mine not in shown:
        lines += ["…", _row_text(t, mine, me_label)]
    lines += [
        "",
        t("Propagation volume counts shares, reach and verified visits to tracked links."),
    ]
    return "\n".join(lines)


def _row_text(t: Translator, row: share_stats.Ranked, mine: str | None) -> str:
    name = mine or row.name
    text = t(
        "{rank}. {name} — {volume} (shares {shares}, visits {visits})",
        rank=row.rank,
        name=html.escape(name),
        volume=share_stats._plain(row.volume),
        shares=row.figures.shares,
        visits=row.figures.visits,
    )
    return f"👉 <b>{text}</b>" if mine else text


def _markup(t: Translator, scope: Scope, board: TopBoardCode, period: str) -> InlineKeyboardMarkup:
    def mark(label: str, on: bool) -> str:
        return f"• {label} •" if on else label

    rows: list[list[InlineKeyboardButton]] = []
    kinds: list[tuple[TopBoardCode, str]] = []
    if scope.station is not None:
        kinds.append(("s", t("This station")))
    if scope.area_prefix is not None:
        kinds.append(("a", t("This area")))
    if len(kinds) > 1:
        rows.append(
            [
                InlineKeyboardButton(
                    mark(label, code == board), callback_data=TopBoard(code, period).encode()
                )
                for code, label in kinds
            ]
        )
    rows.append(
        [
            InlineKeyboardButton(
                mark(t("This week"), period == "week"),
                callback_data=TopBoard(board, "week").encode(),
            ),
            InlineKeyboardButton(
                mark(t("This month"), period == "month"),
                callback_data=TopBoard(board, "month").encode(),
            ),
        ]
    )
    return InlineKeyboardMarkup(rows)


async def _render(context: KepuContext, scope: Scope, board: str, period: str) -> str:
    runtime, t, session = context.runtime, context.t, context.session
    if board == "s" and scope.station is not None and scope.station.id is not None:
        result = await share_stats.station_board(
            session=session,
            settings=runtime.settings,
            station_id=scope.station.id,
            period=period,
            today=runtime.today(),
        )
        title = t("Informants of {station}", station=scope.station.name)
        text = render_board(t, result, title, scope.informant_id, t("you"))
        if scope.station.status != "recognised":
            text += "\n" + t(
                "This station is not recognised yet, so it is not ranked among stations."
            )
        return text
    assert scope.area_prefix is not None
    result = await share_stats.area_board(
        session=session,
        settings=runtime.settings,
        region_prefix=scope.area_prefix,
        period=period,
        today=runtime.today(),
    )
    title = t("Recognised stations in {area}", area=await _area_name(context, scope))
    me = scope.station.id if scope.station else None
    return render_board(t, result, title, me, t("your station"))


@requires(*ROLES)
async def top(update: Update, context: KepuContext) -> None:
    """Show the viewer's default leaderboard (station, this month)."""
    scope = await _scope(context)
    if scope.station is None and scope.area_prefix is None:
        await reply(update, context.t("There is no leaderboard for you yet."))
        return
    board: TopBoardCode = "s" if scope.station is not None else "a"
    text = await _render(context, scope, board, "month")
    await reply(update, text, reply_markup=_markup(context.t, scope, board, "month"))


@requires(*ROLES)
async def on_top_button(update: Update, context: KepuContext) -> None:
    """Switch board or period in place."""
    query = update.callback_query
    assert query is not None
    button = TopBoard.decode(query.data)
    if button is None or button.period not in share_stats.PERIODS:
        await answer_invalid(update, context)
        return
    await query.answer()
    scope = await _scope(context)
    board, period = button.board, button.period
    if board == "s" and scope.station is None:
        board = "a"
    if board == "a" and scope.area_prefix is None:
        return
    text = await _render(context, scope, board, period)
    try:
        await query.edit_message_text(text, reply_markup=_markup(context.t, scope, board, period))
    except BadRequest as exc:  # the same board pressed twice
        if not is_unchanged(exc):
            raise


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """Return the /top handlers (group 0)."""
    return [
        CommandHandler("top", top),
        CallbackQueryHandler(on_top_button, pattern=TopBoard.pattern),
    ]
