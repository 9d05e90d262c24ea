"""The desk's exports page: any window and filter, as XLSX or CSV, downloaded or sent to chat.

``GET /desk/p/exports`` shows the form (window, region inside one's scope, station, status,
kind, format); ``POST /desk/p/exports`` builds the file with the one definition of
``bot.reports.exports`` (the same as ``kepubot export …``) and either

* returns a one-time link ``/desk/download/<token>``: 32 random bytes, only their SHA-256
  stored, usable once, for ``desk.export_link_minutes``. The shell opens it with
  ``Telegram.WebApp.downloadFile`` (Bot API 8.0) when the client has it, else as a link.
  The file is built again when the link is opened, with the viewer's roles at that moment;
* or sends it as a document to the viewer's private chat through the outbox (after the
  commit of this request).

Every export is audited (``export.create``: who, what, window, filters, rows) and so is
every download (``export.download``); a region or station outside one's scope is refused
with 403 and audited.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InputFile

from bot.core.error_text import error_text
from bot.core.propagation import volume_over
from bot.core.regions import level_of, region_contains
from bot.core.zh_dates import DateError, read_date
from bot.desk.web import (
    PREFIX,
    DeskRoute,
    Viewer,
    desk_action,
    desk_page,
    forbidden,
    fragment,
    problem,
    render,
)
from bot.i18n import N_, Translator, get_translator
from bot.reports.exports import (
    FORMATS,
    KIND_NAMES,
    KINDS,
    STATUS_CHOICES,
    STATUS_COUNTED,
    ExportRequest,
    ExportScope,
    ExportTable,
    build_export,
    scope_for,
    status_text,
)
from bot.reports.exports import (
    render as render_file,
)
from bot.reports.windows import date_range
from bot.runtime.context import Runtime
from bot.runtime.effects import API_KIND, encode_call
from bot.services.access import administered_station_ids, coordinator_regions, is_admin
from storage import audit
from storage import exports as store
from storage import people as people_store
from storage import regions as region_store
from storage import roles as roles_store
from storage.figures import Window
from storage.models import Region, RoleGrant, Station
from storage.outbox import NewMessage, enqueue_one

ROLES = ("coordinator", "admin", "station_admin")
DOWNLOAD_PATH = f"{PREFIX}/download/"
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{40,64}$")
MAX_OPTIONS = 500  # regions or stations offered in one list
CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}
PRESETS = ("this_month", "last_month", "this_week", "last_week", "this_year", "last_year")
PRESET_NAMES = {
    "this_month": N_("this month"),
    "last_month": N_("last month"),
    "this_week": N_("this week"),
    "last_week": N_("last week"),
    "this_year": N_("this year"),
    "last_year": N_("last year"),
}
GONE = N_("This download link was already used or has expired. Export the file again on the desk.")


@dataclass(frozen=True)
class Choices:
    """What the viewer may pick: regions and stations inside their scope."""

    regions: list[Region]
    stations: list[Station]


def preset_window(preset: str, today: dt.date) -> Window:
    """Return the window a preset names, relative to ``today``."""
    if preset == "last_month":
        return Window.month_of(today.replace(day=1) - dt.timedelta(days=1))
    if preset == "this_week":
        return Window.week_of(today)
    if preset == "last_week":
        return Window.week_of(today - dt.timedelta(days=7))
    if preset == "this_year":
        return Window.year(today.year)
    if preset == "last_year":
        return Window.year(today.year - 1)
    return Window.month_of(today)


def read_day(text: str, today: dt.date) -> dt.date:
    """Return a typed day: 2026-11-01 (the date picker), or natural Chinese (11月1日, 昨天)."""
    text = text.strip()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        pass
    return read_date(text, today=today).value


def region_allowed(grants: Sequence[RoleGrant], code: str) -> bool:
    """Tell whether the person may export a region (admins everywhere, coordinators inside)."""
    return is_admin(grants) or any(region_contains(c, code) for c in coordinator_regions(grants))


def station_allowed(grants: Sequence[RoleGrant], station: Station) -> bool:
    """Tell whether the person may export a station: its admins and its region's."""
    if station.id is not None and station.id in administered_station_ids(grants):
        return True
    return station.region_code is not None and region_allowed(grants, station.region_code)


async def choices_for(
    session: AsyncSession, scope: ExportScope, grants: Sequence[RoleGrant]
) -> Choices:
    """Return the regions (with their cities and provinces) and stations inside the scope."""
    stations = await store.stations_in_scope(
        session=session, prefixes=scope.prefixes, station_ids=scope.station_ids
    )
    codes: set[str] = set()
    for station in stations:
        code = station.region_code
        if not code:
            continue
        for candidate in (code, code[:4] + "00", code[:2] + "0000"):
            if region_allowed(grants, candidate):
                codes.add(candidate)
    codes.update(c for c in coordinator_regions(grants))
    found = await region_store.get_regions(session=session, codes=sorted(codes))
    regions = sorted(found.values(), key=lambda r: r.code)[:MAX_OPTIONS]
    return Choices(regions, stations[:MAX_OPTIONS])


def _form_values(data: Mapping[str, Any], today: dt.date) -> dict[str, str]:
    window = preset_window(str(data.get("preset") or "this_month"), today)
    return {
        "kind": str(data.get("kind") or "activities"),
        "date_from": str(data.get("date_from") or window.start.isoformat()),
        "date_to": str(data.get("date_to") or window.end.isoformat()),
        "region": str(data.get("region") or ""),
        "station": str(data.get("station") or ""),
        "status": str(data.get("status") or STATUS_COUNTED),
        "format": str(data.get("format") or "xlsx"),
    }


def _form(
    viewer: Viewer, choices: Choices, values: Mapping[str, str], error: str | None = None
) -> str:
    t = viewer.translator
    return render(
        viewer,
        "exports_form.html",
        values=values,
        kinds=[(k, t(KIND_NAMES[k])) for k in KINDS],
        formats=FORMATS,
        statuses=[(s, status_text(t, s)) for s in STATUS_CHOICES],
        regions=choices.regions,
        stations=choices.stations,
        presets=[(p, t(PRESET_NAMES[p])) for p in PRESETS],
        error=error,
        minutes=viewer.runtime.settings.desk.export_link_minutes,
        level_of=level_of,
    )


async def page(request: web.Request, viewer: Viewer) -> str:
    """The export form (a preset window fills the dates)."""
    scope = scope_for(viewer.grants)
    choices = await choices_for(viewer.session, scope, viewer.grants)
    return _form(viewer, choices, _form_values(request.query, viewer.today))


class _Refused(Exception):
    def __init__(self, what: str, subject_type: str, subject_id: int | None, region: str | None):
        super().__init__(what)
        self.subject_type, self.subject_id, self.region = subject_type, subject_id, region


async def _request_of(
    session: AsyncSession,
    t: Translator,
    values: Mapping[str, str],
    grants: Sequence[RoleGrant],
    today: dt.date,
) -> ExportRequest:
    """Return the export request of the form; ValueError(text) on bad input, _Refused."""
    if values["kind"] not in KINDS:
        raise ValueError(t("Please pick what to export."))
    if values["format"] not in FORMATS:
        raise ValueError(t("Please pick XLSX or CSV."))
    if values["status"] not in STATUS_CHOICES:
        raise ValueError(t("Please pick a station status."))
    try:
        start = read_day(values["date_from"], today)
        end = read_day(values["date_to"], today)
    except DateError as exc:
        raise ValueError(t("The window: {problem}", problem=error_text(exc, t))) from exc
    if end < start:
        raise ValueError(t("The window ends before it starts: please check the two dates."))
    if (end - start).days > 3 * 366:
        raise ValueError(t("Please choose a window of at most three years."))
    region: Region | None = None
    if values["region"]:
        code = values["region"]
        if not re.fullmatch(r"\d{6}", code):
            raise ValueError(t("The region must be a 6-digit code, e.g. 330106."))
        if not region_allowed(grants, code):
            raise _Refused("region", "region", None, code)
        region = await region_store.get_region(session=session, code=code)
        if region is None:
            raise ValueError(t("No region with code {code}.", code=code))
    station: Station | None = None
    if values["station"]:
        if not values["station"].isdigit() or len(values["station"]) > 9:
            raise ValueError(t("The station must be given by its number."))
        station_id = int(values["station"])
        station = await session.get(Station, station_id)
        if station is None or not station_allowed(grants, station):
            raise _Refused("station", "station", station_id, None)
        if region is not None and not region_contains(region.code, station.region_code or ""):
            raise ValueError(t("That station is not in the chosen region."))
    return ExportRequest(
        kind=values["kind"],
        window=Window(start, end),
        region_code=region.code if region else None,
        region_name=region.name if region else None,
        station_id=station.id if station else None,
        station_name=station.name if station else None,
        status=values["status"],
    )


def _scope_name(t: Translator, choices: Choices, grants: Sequence[RoleGrant]) -> str:
    if is_admin(grants):
        return t("everywhere")
    names = [r.name for r in choices.regions if r.code in coordinator_regions(grants)]
    if not names and choices.stations:
        names = [s.name for s in choices.stations]
    return "、".join(names[:3]) + ("…" if len(names) > 3 else "")


async def _build(
    session: AsyncSession,
    runtime: Runtime,
    t: Translator,
    request: ExportRequest,
    grants: Sequence[RoleGrant],
    scope_name: str,
) -> ExportTable:
    return await build_export(
        session=session,
        t=t,
        request=request,
        scope=scope_for(grants),
        volume=volume_over(runtime.settings.propagation),
        tz=runtime.settings.scheduler.tz,
        scope_name=scope_name,
    )


def file_name(request: ExportRequest, fmt: str) -> str:
    """Return the file's name: what, where and which window (ASCII, any system keeps it)."""
    where = request.region_code or (f"s{request.station_id}" if request.station_id else "all")
    if request.station_id is not None:
        where = f"s{request.station_id}"
    return (
        f"{request.kind}-{where}-{request.window.start:%Y%m%d}-{request.window.end:%Y%m%d}.{fmt}"
    )


def _params(values: Mapping[str, str], request: ExportRequest, lang: str) -> dict[str, Any]:
    return {
        "kind": request.kind,
        "from": request.window.start.isoformat(),
        "to": request.window.end.isoformat(),
        "region": request.region_code,
        "station": request.station_id,
        "status": request.status,
        "format": values["format"],
        "lang": lang,
    }


async def create(request: web.Request, viewer: Viewer) -> str | web.StreamResponse:
    """Build the export: a one-time download link, or a document in the viewer's chat."""
    form = await request.post()
    t = viewer.translator
    values = _form_values({k: v for k, v in form.items() if isinstance(v, str)}, viewer.today)
    deliver = str(form.get("deliver") or "download")
    scope = scope_for(viewer.grants)
    choices = await choices_for(viewer.session, scope, viewer.grants)
    try:
        export = await _request_of(viewer.session, t, values, viewer.grants, viewer.today)
    except ValueError as exc:
        return fragment(_form(viewer, choices, values, str(exc)), 400)
    except _Refused as refused:
        return await forbidden(
            viewer,
            action="exports",
            subject_type=refused.subject_type,
            subject_id=refused.subject_id,
            region_code=refused.region,
        )
    table = await _build(
        viewer.session,
        viewer.runtime,
        t,
        export,
        viewer.grants,
        _scope_name(t, choices, viewer.grants),
    )
    fmt = values["format"]
    name = file_name(export, fmt)
    params = _params(values, export, viewer.lang)
    await audit.record(
        session=viewer.session,
        actor_id=viewer.person_id,
        action="export.create",
        now=viewer.now,
        subject_type="export",
        region_code=export.region_code,
        detail={**params, "rows": len(table.rows), "personal": table.personal, "deliver": deliver},
    )
    caption = t(
        "{what} · {window} · {n} rows",
        what=table.sheet.heading or t(KIND_NAMES[export.kind]),
        window=date_range(t, export.window.start, export.window.end),
        n=t.number(len(table.rows)),
    )
    if deliver == "chat":
        data = render_file(table, fmt)
        payload = {
            "method": "sendDocument",
            **encode_call(
                {
                    "chat_id": viewer.telegram_id,
                    "document": InputFile(data, filename=name),
                    "caption": caption[:1024],
                }
            ),
        }
        await enqueue_one(
            session=viewer.session,
            message=NewMessage(
                chat_id=viewer.telegram_id,
                kind=API_KIND,
                payload=payload,
                dedupe_key=f"desk:export:{viewer.telegram_id}:{secrets.token_hex(8)}",
                due_at=viewer.now,
            ),
            now=viewer.now,
        )
        return render(
            viewer,
            "exports_done.html",
            sent=True,
            caption=caption,
            link=None,
            name=name,
            minutes=0,
        )
    token = secrets.token_urlsafe(32)
    minutes = viewer.runtime.settings.desk.export_link_minutes
    await store.add_download(
        session=viewer.session,
        token_hash=token_hash(token),
        person_id=viewer.person_id,
        params=params,
        filename=name,
        now=viewer.now,
        expires_at=viewer.now + dt.timedelta(minutes=minutes),
    )
    return render(
        viewer,
        "exports_done.html",
        sent=False,
        caption=caption,
        link=DOWNLOAD_PATH + token,
        name=name,
        minutes=minutes,
    )


def token_hash(token: str) -> str:
    """Return the stored form of a download token (its SHA-256, hex)."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def _disposition(name: str) -> str:
    return f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}"


def download_handler(runtime: Runtime) -> Any:
    """Return the handler of ``GET /desk/download/<token>`` (no initData: Telegram fetches it)."""
    default = get_translator(runtime.settings.i18n.default_locale)

    async def download(request: web.Request) -> web.StreamResponse:
        token = request.match_info.get("token", "")
        if not _TOKEN_RE.match(token):
            return problem(default, 404, GONE)
        digest = token_hash(token)
        now = runtime.now()
        async with runtime.sessions() as session, session.begin():
            if request.method == "HEAD":  # a client checking the link: do not use it up
                row = await store.peek_download(session=session, token_hash=digest)
                if row is None or row.used_at is not None or row.expires_at <= now:
                    return problem(default, 410, GONE)
                fmt = str(row.params.get("format"))
                return web.Response(
                    status=200,
                    headers={
                        "Content-Type": CONTENT_TYPES.get(fmt, "application/octet-stream"),
                        "Content-Disposition": _disposition(row.filename),
                        "Cache-Control": "no-store",
                    },
                )
            row = await store.take_download(session=session, token_hash=digest, now=now)
            if row is None:
                return problem(default, 410, GONE)
            params = row.params
            t = get_translator(str(params.get("lang") or runtime.settings.i18n.default_locale))
            grants = await roles_store.roles_of(session=session, person_id=row.person_id)
            person = await people_store.get_person(session=session, person_id=row.person_id)
            scope = scope_for(grants)
            choices = await choices_for(session, scope, grants)
            values = {
                "kind": str(params["kind"]),
                "date_from": str(params["from"]),
                "date_to": str(params["to"]),
                "region": str(params.get("region") or ""),
                "station": str(params.get("station") or ""),
                "status": str(params.get("status") or STATUS_COUNTED),
                "format": str(params.get("format") or "xlsx"),
            }
            today = now.astimezone(runtime.settings.scheduler.tz).date()
            try:
                export = await _request_of(session, t, values, grants, today)
            except (ValueError, _Refused):
                # The roles changed since the link was made: what it named is not theirs now.
                await audit.record(
                    session=session,
                    actor_id=row.person_id,
                    action="export.download",
                    now=now,
                    allowed=False,
                    subject_type="export",
                    reason="out_of_scope",
                    detail=dict(params),
                )
                return problem(t, 403, N_("Sorry, you are not allowed to see this."))
            table = await _build(
                session, runtime, t, export, grants, _scope_name(t, choices, grants)
            )
            data = render_file(table, values["format"])
            await audit.record(
                session=session,
                actor_id=person.id if person else row.person_id,
                action="export.download",
                now=now,
                subject_type="export",
                subject_id=row.id,
                region_code=export.region_code,
                detail={**params, "rows": len(table.rows), "personal": table.personal},
            )
        return web.Response(
            body=data,
            headers={
                "Content-Type": CONTENT_TYPES[values["format"]],
                "Content-Disposition": _disposition(row.filename),
                "Cache-Control": "no-store",
                "Referrer-Policy": "no-referrer",
                "X-Content-Type-Options": "nosniff",
            },
        )

    return download


def web_routes(runtime: Runtime) -> list[web.RouteDef]:
    """The download route (outside /desk/p/: opened without initData)."""
    return [web.get(DOWNLOAD_PATH + "{token}", download_handler(runtime))]


def routes() -> Sequence[DeskRoute]:
    """The pages and actions of this module."""
    return [
        desk_page("exports", page, roles=ROLES),
        desk_action("exports", create, roles=ROLES),
    ]
