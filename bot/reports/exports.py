"""The exports, one definition each, used by the command line and the desk.

An export is a kind (activities, shares, content uses, stations, the informant roster), a
window of local days, a scope (the regions or stations the viewer may see) and filters
(a region inside the scope, a station, a station status). ``build_export`` returns one
table; ``render`` writes it as XLSX (``bot.reports.xlsx``) or CSV (UTF-8 with a BOM, so
Excel shows Chinese). Every table says its window and its filters in its heading and notes.

Figures (the stations sheet, the roster's shares) come from ``storage.figures``, so they
agree with the digest, the tally and the desk's pages. The roster's real names and phone
numbers appear only for rows the viewer may see them on (``bot.services.access
.may_see_personal``: the station's admins and the coordinators of its region, as the
privacy notice says); a viewer who may see none gets no such columns at all.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.content.taxonomy import Taxonomy
from bot.i18n import N_, Translator
from bot.reports.windows import date_range
from bot.reports.xlsx import (
    DATE_FORMAT,
    INTEGER_FORMAT,
    VOLUME_FORMAT,
    Sheet,
    make_columns,
    write_table_xlsx,
)
from bot.services.access import (
    administered_station_ids,
    is_admin,
    may_see_personal,
    region_prefix,
    visible_regions,
)
from bot.services.activity_labels import USE_KIND_LABELS, campaign_label, type_label
from bot.services.finding_text import KIND_NAMES as FINDING_KINDS
from bot.services.stations import STATE_NAMES
from storage import activities as activity_store
from storage import exports as store
from storage.activities import ExportRow
from storage.figures import COUNTED_STATES, VolumeSql, Window, informant_figures, station_figures
from storage.models import RoleGrant
from storage.regions import get_regions

KINDS: tuple[str, ...] = ("activities", "shares", "uses", "stations", "roster")
FORMATS: tuple[str, ...] = ("xlsx", "csv")
KIND_NAMES: dict[str, str] = {
    "activities": N_("Activities"),
    "shares": N_("Shares"),
    "uses": N_("Content uses"),
    "stations": N_("Stations and their figures"),
    "roster": N_("Informant roster"),
}
# Station status filter: "counted" (recognised or under rectification), "all", or one state.
STATUS_COUNTED = "counted"
STATUS_ALL = "all"
STATUS_CHOICES: tuple[str, ...] = (STATUS_COUNTED, STATUS_ALL, *STATE_NAMES)
CHANNEL_NAMES: dict[str, str] = {
    "telegram_inline": N_("Share button (Telegram)"),
    "telegram_forward": N_("Forward into a Telegram group"),
    "wechat_group": N_("WeChat group"),
    "wechat_moments": N_("WeChat Moments"),
    "qq_group": N_("QQ group"),
    "public_account": N_("public account"),
    "other": N_("other"),
}
# The bot's wording of a use (bot/handlers/activities_use.py).
ACTIVITY_HEADERS = [
    N_("Activity no."),
    N_("Station"),
    N_("County"),
    N_("Region code"),
    N_("Type"),
    N_("Title"),
    N_("Date"),
    N_("Time"),
    N_("Place"),
    N_("Participants"),
    N_("Campaign"),
    N_("Photos"),
    N_("Flags"),
]
NO_PERSONAL = N_(
    "Real names and phone numbers are shown only to the station's admins and to the "
    "coordinators of its region."
)


@dataclass(frozen=True)
class ExportScope:
    """What the viewer may export: region prefixes and/or stations (None = no limit).

    ``grants`` decide, row by row, whether the roster's personal data is shown.
    """

    prefixes: tuple[str, ...] | None
    station_ids: tuple[int, ...] | None
    grants: tuple[RoleGrant, ...] = ()

    @classmethod
    def everywhere(cls, grants: Sequence[RoleGrant] = ()) -> ExportScope:
        """Return the scope without limits (the command line, system administrators)."""
        return cls(None, None, tuple(grants))


@dataclass(frozen=True)
class ExportRequest:
    """One export: its kind, window and filters (already checked against the scope)."""

    kind: str
    window: Window
    region_code: str | None = None
    region_name: str | None = None
    station_id: int | None = None
    station_name: str | None = None
    status: str = STATUS_COUNTED


@dataclass(frozen=True)
class ExportTable:
    """The table an export writes: a sheet, and the stem of its file name."""

    kind: str
    sheet: Sheet
    headers: list[str]
    filename: str
    personal: bool = False  # it holds real names or phone numbers
    notes: list[str] = field(default_factory=list)

    @property
    def rows(self) -> list[list[object]]:
        """Return the data rows."""
        return self.sheet.rows


def statuses_of(status: str) -> tuple[str, ...] | None:
    """Return the station states a status filter keeps (None: every state)."""
    if status == STATUS_ALL:
        return None
    if status == STATUS_COUNTED:
        return COUNTED_STATES
    if status in STATE_NAMES:
        return (status,)
    raise ValueError(f"unknown station status filter: {status!r}")


def status_text(t: Translator, status: str) -> str:
    """Return the status filter as a person reads it."""
    if status == STATUS_ALL:
        return t("every status")
    if status == STATUS_COUNTED:
        return t("counted (recognised or under rectification)")
    return t(STATE_NAMES.get(status, status))


def to_csv(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    """Return CSV bytes in UTF-8 with a BOM, so Excel shows Chinese correctly."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow(
            [
                c.isoformat() if isinstance(c, dt.date | dt.time) else ("" if c is None else c)
                for c in row
            ]
        )
    return buf.getvalue().encode("utf-8-sig")


def render(table: ExportTable, fmt: str) -> bytes:
    """Return the table's file: ``xlsx`` (heading and notes above the header) or ``csv``.

    The CSV is the header row and the data only, so any tool reads it; its window is in
    its file name (``shares-20261101-20261130.csv``) and in the message it comes with.
    """
    if fmt == "csv":
        return to_csv(table.headers, table.rows)
    if fmt == "xlsx":
        return write_table_xlsx([table.sheet])
    raise ValueError(f"unknown export format: {fmt!r}")


def activity_table(
    t: Translator, rows: Sequence[ExportRow], taxonomy: Taxonomy | None = None
) -> tuple[list[str], list[list[object]]]:
    """Return the localised headers and the cells of every activity row.

    ``taxonomy`` names the campaigns (``taxonomy_with_campaigns``: curators' ones too).
    """
    body: list[list[object]] = []
    for row in rows:
        act = row.activity
        body.append(
            [
                act.id,
                row.station_name,
                row.county_name or "",
                row.region_code or "",
                type_label(t, act.type),
                act.title,
                act.held_on,
                act.held_at_time.strftime("%H:%M") if act.held_at_time else "",
                act.place or "",
                act.participants,
                campaign_label(t, act.campaign, taxonomy) if act.campaign else "",
                row.photo_count,
                "; ".join(t(FINDING_KINDS.get(kind, kind)) for kind in row.flag_kinds),
            ]
        )
    return [t(h) for h in ACTIVITY_HEADERS], body


def _filters(t: Translator, request: ExportRequest, scope_name: str) -> list[str]:
    parts = [t("Area: {area}", area=request.region_name or scope_name)]
    if request.station_id is not None:
        parts.append(t("Station: {station}", station=request.station_name or request.station_id))
    if request.kind != "roster" or request.status != STATUS_COUNTED:
        parts.append(t("Station status: {status}", status=status_text(t, request.status)))
    return parts


def _narrow(
    scope: ExportScope, request: ExportRequest
) -> tuple[list[str] | None, list[int] | None]:
    """Return the region prefixes and stations the rows come from (a prefix OR a station).

    A station filter keeps that station; a region filter that region; otherwise the scope.
    The caller has checked that the filters lie inside the scope.
    """
    if request.station_id is not None:
        return None, [request.station_id]
    if request.region_code:
        return [region_prefix(request.region_code)], None
    prefixes = list(scope.prefixes) if scope.prefixes is not None else None
    stations = list(scope.station_ids) if scope.station_ids is not None else None
    return prefixes, stations


def scope_for(grants: Sequence[RoleGrant]) -> ExportScope:
    """Return what a person may export: every region for admins, else the regions they
    coordinate and the stations they administer."""
    if is_admin(grants):
        return ExportScope.everywhere(grants)
    regions = visible_regions(grants) or ()
    return ExportScope(
        tuple(region_prefix(code) for code in regions),
        tuple(administered_station_ids(grants)),
        tuple(grants),
    )


def _row_lead(t: Translator) -> list[str]:
    """Return the first columns of a per-row export: the day, its station and content."""
    return [t("Date"), t("Station"), t("County"), t("Region code"), t("Content")]


def _cells_lead(row: store.ShareRow | store.UseRow, day: dt.date) -> list[Any]:
    """Return a row's cells under ``_row_lead``."""
    return [day, row.station_name, row.county_name, row.region_code, row.content_title]


async def build_export(
    *,
    session: AsyncSession,
    t: Translator,
    request: ExportRequest,
    scope: ExportScope,
    volume: VolumeSql,
    tz: dt.tzinfo,
    scope_name: str = "",
    taxonomy: Taxonomy | None = None,
) -> ExportTable:
    """Return the table of ``request`` inside ``scope`` (filters already checked).

    ``taxonomy`` names campaigns (``taxonomy_with_campaigns``: config and curators' ones).
    """
    if request.kind not in KINDS:
        raise ValueError(f"unknown export kind: {request.kind!r}")
    window = request.window
    prefixes, stations = _narrow(scope, request)
    statuses = statuses_of(request.status)
    window_text = date_range(t, window.start, window.end)
    area = request.region_name or scope_name or t("everywhere")
    if request.kind == "activities":
        heading = t("{region} activities · {window}", region=area, window=window_text)
    else:
        heading = t(
            "{what} · {area} · {window}",
            what=t(KIND_NAMES[request.kind]),
            area=area,
            window=window_text,
        )
    notes: list[str] = []
    formats: dict[int, str] = {}
    frozen = 2
    personal = False
    # The window and scope every per-row export reads (shares, content uses).
    window_scope: dict[str, Any] = {
        "date_from": window.start,
        "date_to": window.end,
        "prefixes": prefixes,
        "station_ids": stations,
        "statuses": statuses,
    }
    if request.kind == "activities":
        rows = await activity_store.export_rows(
            session=session,
            region_prefix="",
            prefixes=prefixes,
            station_ids=stations,
            date_from=window.start,
            date_to=window.end,
            station_statuses=statuses,
        )
        headers, body = activity_table(t, rows, taxonomy)
        formats = {6: DATE_FORMAT, 9: INTEGER_FORMAT, 11: INTEGER_FORMAT}
        if request.status == "recognised":
            notes.append(t("Rows by county, station and date; recognised stations only."))
        else:
            notes.append(t("Rows by county, station and date; deleted activities left out."))
    elif request.kind == "shares":
        shares = await store.share_rows(session=session, **window_scope)
        headers = [
            *_row_lead(t),
            t("Where shared"),
            t("Reach"),
            t("Informant no."),
            t("Flagged"),
        ]
        body = [
            [
                *_cells_lead(s, s.day),
                t(CHANNEL_NAMES.get(s.channel, s.channel)),
                s.audience,
                s.informant_id,
                t("has a finding") if s.flagged else "",
            ]
            for s in shares
        ]
        formats = {0: DATE_FORMAT, 6: INTEGER_FORMAT, 7: INTEGER_FORMAT}
        frozen = 1
        notes.append(
            t(
                "One row per recorded share, on the station it was recorded for; reach is "
                "the group's members or the audience the informant reported."
            )
        )
    elif request.kind == "uses":
        uses = await store.use_rows(session=session, **window_scope)
        headers = [*_row_lead(t), t("Use"), t("Place"), t("Audience")]
        body = [
            [
                *_cells_lead(u, u.used_on),
                t(USE_KIND_LABELS.get(u.use_kind, u.use_kind)),
                u.place,
                u.audience,
            ]
            for u in uses
        ]
        formats = {0: DATE_FORMAT, 7: INTEGER_FORMAT}
        frozen = 1
        notes.append(t("One row per offline use of content, by county, station and date."))
    elif request.kind == "stations":
        headers, body = await _stations(
            session, t, window, volume, prefixes, stations, statuses, tz
        )
        formats = {8: VOLUME_FORMAT, 12: DATE_FORMAT}
        notes.append(
            t(
                "Figures of the window as everywhere in the bot (docs/figures.md): counted "
                "activities have no confirmed finding; last active is on or before the "
                "window's last day."
            )
        )
    else:
        headers, body, personal, hidden = await _roster(
            session, t, window, volume, prefixes, stations, statuses, scope, tz
        )
        notes.append(
            t(
                "Current informants registered by the window's last day; shares and "
                "propagation volume of the window at their station."
            )
        )
        if hidden:
            notes.append(t(NO_PERSONAL))
    # The first note says how the rows are ordered and which filters made them.
    notes[0] = " · ".join([notes[0], *_filters(t, request, scope_name or t("everywhere"))])
    sheet = Sheet(
        title=t(KIND_NAMES[request.kind]),
        heading=heading,
        notes=notes,
        columns=make_columns(headers, formats),
        rows=body,
        frozen_columns=frozen,
    )
    filename = f"{request.kind}-{window.start:%Y%m%d}-{window.end:%Y%m%d}"
    return ExportTable(request.kind, sheet, headers, filename, personal, notes)


async def _stations(
    session: AsyncSession,
    t: Translator,
    window: Window,
    volume: VolumeSql,
    prefixes: list[str] | None,
    stations: list[int] | None,
    statuses: tuple[str, ...] | None,
    tz: dt.tzinfo,
) -> tuple[list[str], list[list[object]]]:
    if prefixes is not None and stations is not None:
        # Figures take a prefix AND station ids: turn "a prefix OR a station" into ids.
        found = await store.stations_in_scope(
            session=session, prefixes=prefixes, station_ids=stations
        )
        prefixes, stations = None, [s.id for s in found if s.id is not None]
    figures = await station_figures(
        session=session,
        window=window,
        volume=volume,
        states=statuses,
        prefixes=prefixes,
        station_ids=stations,
    )
    names = await get_regions(session=session, codes=sorted({f.region_code for f in figures}))
    figures.sort(key=lambda f: (f.region_code, f.name, f.station_id))
    headers = [
        t("Station no."),
        t("Station"),
        t("County"),
        t("Region code"),
        t("Status"),
        t("Shares"),
        t("Group member reach"),
        t("Reported reach"),
        t("Propagation volume"),
        t("Link visits"),
        t("Activities"),
        t("Participants"),
        t("Last active"),
        t("Content uses"),
        t("Recognised on"),
    ]
    body: list[list[object]] = []
    for f in figures:
        region = names.get(f.region_code)
        body.append(
            [
                f.station_id,
                f.name,
                region.name if region else "",
                f.region_code,
                t(STATE_NAMES.get(f.status, f.status)),
                f.shares,
                f.telegram_reach,
                f.reported_reach,
                f.volume,
                f.visits,
                f.activities,
                f.participants,
                f.last_active_on,
                f.content_uses,
                f.recognised_at.astimezone(tz).date() if f.recognised_at else None,
            ]
        )
    return headers, body


async def _roster(
    session: AsyncSession,
    t: Translator,
    window: Window,
    volume: VolumeSql,
    prefixes: list[str] | None,
    stations: list[int] | None,
    statuses: tuple[str, ...] | None,
    scope: ExportScope,
    tz: dt.tzinfo,
) -> tuple[list[str], list[list[object]], bool, bool]:
    """Return headers, rows, whether personal data is in them, whether some was hidden."""
    end = dt.datetime.combine(window.end + dt.timedelta(days=1), dt.time(), tzinfo=tz)
    entries = await store.roster_rows(
        session=session,
        prefixes=prefixes,
        station_ids=stations,
        statuses=statuses,
        joined_before=end,
    )
    figures = await informant_figures(
        session=session,
        window=window,
        volume=volume,
        informant_ids=[e.informant_id for e in entries],
    )
    allowed = [may_see_personal(scope.grants, e.station_id, e.region_code) for e in entries]
    show = any(allowed)
    hidden = not all(allowed) or not entries and not show
    headers = [t("Informant no."), t("Station"), t("County"), t("Region code")]
    if show:
        headers += [t("Real name"), t("Phone")]
    headers += [
        t("Joined"),
        t("Last active"),
        t("Pushes paused"),
        t("Shares"),
        t("Propagation volume"),
    ]
    body: list[list[object]] = []
    for entry, ok in zip(entries, allowed, strict=True):
        fig = figures.get(entry.informant_id)
        row: list[object] = [
            entry.informant_id,
            entry.station_name,
            entry.county_name,
            entry.region_code,
        ]
        if show:
            row += [entry.real_name or "", entry.phone or ""] if ok else ["—", "—"]
        row += [
            entry.joined_at.astimezone(tz).date(),
            entry.last_active_at.astimezone(tz).date() if entry.last_active_at else None,
            t("paused") if entry.paused else "",
            fig.shares if fig else 0,
            fig.volume if fig else 0.0,
        ]
        body.append(row)
    return headers, body, show, hidden
