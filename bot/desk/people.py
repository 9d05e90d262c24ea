"""The desk's people page: who holds a role in one's area; grant and withdraw roles below one's.

The rules are the bot's /grant and /revoke (``bot.services.roles.may_delegate``): a city
coordinator appoints county coordinators, a province coordinator city or county ones, any
coordinator station admins of stations in the region, a station admin co-admins of their
own station (picked from the station's informants, or by Telegram id or @username).
``POST /desk/p/people/grant`` and ``POST /desk/p/people/revoke`` go through
``grant_as``/``revoke_as``: audited, the person told through the outbox after the commit;
a refusal (above one's level, outside one's area) is a 403, audited.
``POST /desk/p/people/invite`` makes a one-time co-admin invite link for a station (shown
with its expiry and QR code; ``bot.services.coadmin_invites``), ``…/invite/revoke``
withdraws one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from aiohttp import web
from markupsafe import Markup

from bot.core.error_text import error_text
from bot.core.regions import region_prefix
from bot.desk.web import DeskRoute, Viewer, desk_action, desk_page, fragment, problem, render
from bot.reports.qr import qr_svg
from bot.services import coadmin_invites as invite_service
from bot.services import roles as role_service
from bot.services.access import administered_station_ids, coordinator_regions, is_admin
from bot.services.coadmin_invites import CoadminInvite, CoadminInviteError
from bot.services.roles import Actor, RoleError
from storage import exports as store
from storage import people as people_store
from storage import regions as region_store
from storage.models import Person

ROLES = ("coordinator", "admin", "station_admin")
REFUSED = frozenset({"outside_region", "above_you", "not_delegable", "own_role"})
_DIGITS = re.compile(r"^\d{1,15}$")
_USERNAME = re.compile(r"^@?([A-Za-z][A-Za-z0-9_]{3,31})$")
MAX_INFORMANTS = 200  # informants offered as co-admins


def actor_of(viewer: Viewer) -> Actor:
    """Return the viewer as the one who grants."""
    return Actor(viewer.person_id, tuple(viewer.grants))


async def _held(viewer: Viewer) -> list[dict[str, Any]]:
    """Return the roles in the viewer's area, each with whether the viewer may withdraw it."""
    grants = viewer.grants
    prefixes = (
        None if is_admin(grants) else [region_prefix(c) for c in coordinator_regions(grants)]
    )
    held = await store.roles_in_scope(
        session=viewer.session,
        prefixes=prefixes,
        station_ids=administered_station_ids(grants),
    )
    codes = sorted({h.grant.region_code for h in held if h.grant.region_code})
    regions = await region_store.get_regions(session=viewer.session, codes=codes)
    rows = []
    for item in held:
        grant = item.grant
        request = role_service.Delegation(grant.role, grant.region_code, grant.station_id)
        station_region = item.station.region_code if item.station else None
        revocable = grant.person_id != viewer.person_id and (
            role_service.may_delegate(grants, request, station_region) is None
        )
        if item.station is not None:
            scope = item.station.name
        elif grant.region_code:
            region = regions.get(grant.region_code)
            scope = region.name if region else grant.region_code
        else:
            scope = viewer.t("everywhere")
        rows.append(
            {
                "grant": grant,
                "name": role_service.person_label(item.person),
                "role": viewer.t(role_service.role_title(grant.role, grant.region_code)),
                "scope": scope,
                "granted_on": viewer.translator.date(
                    grant.granted_at.astimezone(viewer.runtime.settings.scheduler.tz).date()
                ),
                "revocable": revocable,
                "own": grant.person_id == viewer.person_id,
            }
        )
    return rows


async def _informant_choices(viewer: Viewer, station_ids: Sequence[int]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for station_id in station_ids:
        for informant, person in await store.station_informant_people(
            session=viewer.session, station_id=station_id
        ):
            if person.id is None:
                continue
            out.append(
                {
                    "person_id": person.id,
                    "label": f"{informant.real_name or role_service.person_label(person)}"
                    f" · #{station_id}",
                }
            )
            if len(out) >= MAX_INFORMANTS:
                return out
    return out


async def _page(
    viewer: Viewer,
    *,
    values: Mapping[str, str] | None = None,
    error: str | None = None,
    done: str | None = None,
    status: int = 200,
    created: CoadminInvite | None = None,
) -> web.Response:
    grants = viewer.grants
    kinds = role_service.kind_choices(grants)
    regions = {
        level: await role_service.delegable_regions(
            session=viewer.session, grants=grants, level=level
        )
        for level in kinds
        if level != "station"
    }
    stations = (
        await role_service.delegable_stations(session=viewer.session, grants=grants)
        if "station" in kinds
        else []
    )
    own = administered_station_ids(grants)
    informants = await _informant_choices(viewer, own) if own else []
    invites = await invite_service.active_invites(
        session=viewer.session,
        station_ids=[s.id for s in stations if s.id is not None],
        now=viewer.now,
        bot_username=viewer.runtime.bot_username,
    )
    body = render(
        viewer,
        "people_page.html",
        held=await _held(viewer),
        kinds=[(k, viewer.t(role_service.KIND_TITLES[k])) for k in kinds],
        regions=regions,
        stations=stations,
        informants=informants,
        values=values or {},
        error=error,
        done=done,
        invites=[_invite_row(viewer, i) for i in invites],
        created=_invite_row(viewer, created) if created is not None else None,
        created_qr=Markup(qr_svg(created.link)) if created is not None else None,
        invite_hours=viewer.runtime.settings.stations.coadmin_invite_hours,
    )
    return fragment(body, status)


def _invite_row(viewer: Viewer, invite: CoadminInvite) -> dict[str, Any]:
    return {
        "id": invite.invite_id,
        "station": invite.station_name,
        "link": invite.link,
        "until": invite_service.expiry_text(
            viewer.translator, invite.expires_at, viewer.runtime.settings.scheduler.tz
        ),
    }


async def page(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """The list of roles in the viewer's area, and the grant form."""
    return await _page(viewer)


async def _target(viewer: Viewer, form: Mapping[str, str]) -> Person | int | str:
    """Return the person picked, a Telegram id typed, or the message of bad input."""
    t = viewer.t
    picked = form.get("person", "").strip()
    if picked:
        if not picked.isdigit() or len(picked) > 9:
            return t("Please pick a person from the list.")
        person = await people_store.get_person(session=viewer.session, person_id=int(picked))
        return person if person is not None else t("Please pick a person from the list.")
    who = form.get("who", "").strip()
    if _DIGITS.match(who):
        return int(who)
    match = _USERNAME.match(who)
    if match is not None:
        person = await store.person_by_username(session=viewer.session, username=match.group(1))
        if person is None:
            return t(
                "I do not know @{name}: they must write to the bot first (or send "
                "their Telegram id).",
                name=match.group(1),
            )
        return person
    return t("Please send a Telegram id (digits only), an @username, or their contact card.")


async def grant(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Grant a role below the viewer's, to a person picked or named."""
    t = viewer.t
    raw = await request.post()
    form = {k: v for k, v in raw.items() if isinstance(v, str)}
    kind = form.get("kind", "")
    if kind not in role_service.KIND_TITLES:
        return await _page(viewer, values=form, error=t("Please pick the role."), status=400)
    region = form.get("region", "").strip() or None
    station_text = form.get("station", "").strip()
    station_id = int(station_text) if station_text.isdigit() and len(station_text) <= 9 else None
    if kind == "station" and station_id is None:
        return await _page(viewer, values=form, error=t("Please pick the station."), status=400)
    if kind != "station" and (region is None or not re.fullmatch(r"\d{6}", region)):
        return await _page(viewer, values=form, error=t("Please pick the region."), status=400)
    target = await _target(viewer, form)
    if isinstance(target, str):
        return await _page(viewer, values=form, error=target, status=400)
    telegram_id = target.telegram_id if isinstance(target, Person) else target
    try:
        result = await role_service.grant_as(
            session=viewer.session,
            actor=actor_of(viewer),
            telegram_id=telegram_id,
            request=role_service.request_of(kind, region, station_id),
            now=viewer.now,
            via="desk",
            default_locale=viewer.runtime.settings.i18n.default_locale,
        )
    except RoleError as exc:
        if exc.code in REFUSED:  # audited by the service, committed with this request
            return problem(viewer.translator, 403, error_text(exc, viewer.translator))
        return await _page(
            viewer, values=form, error=error_text(exc, viewer.translator), status=400
        )
    name = role_service.person_label(target) if isinstance(target, Person) else str(telegram_id)
    if result.changed:
        done = t(
            "✅ {name} is now {role}. I have told them.",
            name=name,
            role=t(role_service.KIND_TITLES[kind]),
        )
    else:
        done = t("{name} already holds that role.", name=name)
    return await _page(viewer, done=done)


async def revoke(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Withdraw a role below the viewer's."""
    t = viewer.t
    raw = await request.post()
    grant_text = raw.get("grant")
    if not isinstance(grant_text, str) or not grant_text.isdigit() or len(grant_text) > 9:
        return await _page(viewer, error=t("Please pick the role to withdraw."), status=400)
    try:
        _row, holder = await role_service.revoke_as(
            session=viewer.session,
            actor=actor_of(viewer),
            grant_id=int(grant_text),
            now=viewer.now,
            via="desk",
            default_locale=viewer.runtime.settings.i18n.default_locale,
        )
    except RoleError as exc:
        if exc.code in REFUSED:
            return problem(viewer.translator, 403, error_text(exc, viewer.translator))
        return await _page(viewer, error=error_text(exc, viewer.translator), status=400)
    return await _page(
        viewer, done=t("Withdrawn. I have told {name}.", name=role_service.person_label(holder))
    )


def _int_field(raw: Mapping[str, object], name: str) -> int | None:
    value = raw.get(name)
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 9:
        return int(value.strip())
    return None


async def create_invite(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Make a one-time co-admin invite link for a station; show it, its expiry and QR."""
    t = viewer.t
    station_id = _int_field(await request.post(), "station")
    if station_id is None:
        return await _page(viewer, error=t("Please pick the station."), status=400)
    try:
        invite = await invite_service.create(
            session=viewer.session,
            actor=actor_of(viewer),
            station_id=station_id,
            bot_username=viewer.runtime.bot_username,
            now=viewer.now,
            hours=viewer.runtime.settings.stations.coadmin_invite_hours,
            via="desk",
        )
    except RoleError as exc:  # audited by the service, committed with this request
        return problem(viewer.translator, 403, error_text(exc, viewer.translator))
    except CoadminInviteError as exc:
        return await _page(viewer, error=error_text(exc, viewer.translator), status=400)
    return await _page(viewer, created=invite)


async def revoke_invite(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Withdraw a co-admin invite link."""
    t = viewer.t
    invite_id = _int_field(await request.post(), "invite")
    if invite_id is None:
        return await _page(viewer, error=t("Please pick the link to withdraw."), status=400)
    try:
        invite = await invite_service.revoke(
            session=viewer.session,
            actor=actor_of(viewer),
            invite_id=invite_id,
            now=viewer.now,
            via="desk",
        )
    except RoleError as exc:
        return problem(viewer.translator, 403, error_text(exc, viewer.translator))
    except CoadminInviteError as exc:
        return await _page(viewer, error=error_text(exc, viewer.translator), status=400)
    return await _page(
        viewer,
        done=t(
            "The co-admin invite link of {station} was withdrawn: it no longer works.",
            station=invite.station_name,
        ),
    )


def routes() -> Sequence[DeskRoute]:
    """The pages and actions of this module."""
    return [
        desk_page("people", page, roles=ROLES),
        desk_action("people/grant", grant, roles=ROLES),
        desk_action("people/revoke", revoke, roles=ROLES),
        desk_action("people/invite", create_invite, roles=ROLES),
        desk_action("people/invite/revoke", revoke_invite, roles=ROLES),
    ]
