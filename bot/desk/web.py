"""The desk's request pipeline: initData → ``Viewer`` → page or action → HTML fragment.

A page is ``async def page(request, viewer) -> str | web.StreamResponse`` registered with
``desk_page(path, page)`` (GET ``/desk/p/<path>``); an action, ``desk_action(path, act)``
(POST ``/desk/p/<path>``, form-urlencoded, its body carrying ``_init_data``). There are no
cookies: the signed initData is the credential of every request, in the
``X-Telegram-Init-Data`` header for GET and in the body for POST, so another site cannot
make a browser send a valid request (CSRF) and a GET never changes anything.

Each request runs in one database transaction; the handler reads and writes through
``viewer.session``. A refusal the handler returns (``forbidden``) is audited in it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from aiohttp import web
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from bot.desk.auth import InitData, InitDataRefused, validate_init_data
from bot.i18n import N_, Translator, get_translator, normalize_locale
from bot.runtime.context import Runtime
from bot.services.access import audit_refusal, desk_roles
from storage import people as people_store
from storage import roles as roles_store
from storage.models import Person, RoleGrant

log = logging.getLogger(__name__)

PREFIX = "/desk"
PAGE_PREFIX = f"{PREFIX}/p/"
INIT_HEADER = "X-Telegram-Init-Data"
INIT_FIELD = "_init_data"
LIVE_CACHE_KEY = "desk_live_figures"
TEMPLATES = Path(__file__).parent / "templates"
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Robots-Tag": "noindex",
}

UNAUTHORISED = N_("This desk link is not valid or has expired. Open the desk again from the bot.")
NO_ACCESS = N_("The desk is for station admins, coordinators and curators. You have no role yet.")
FORBIDDEN = N_("Sorry, you are not allowed to see this.")
NOT_FOUND = N_("Not found.")
BAD_INPUT = N_("That request is not valid: {detail}")
FAILED = N_("Something went wrong; nothing was changed. Please try again.")


@dataclass
class Viewer:
    """Who is looking at the desk, in this request."""

    telegram_id: int
    person: Person
    grants: Sequence[RoleGrant]
    roles: frozenset[str]
    translator: Translator
    lang: str
    now: dt.datetime
    session: AsyncSession
    runtime: Runtime
    init_data: InitData
    raw_init_data: str
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def person_id(self) -> int:
        """Return the viewer's person id."""
        assert self.person.id is not None
        return self.person.id

    @property
    def today(self) -> dt.date:
        """Return today's date in the configured timezone."""
        return self.now.astimezone(self.runtime.settings.scheduler.tz).date()

    @property
    def cache(self) -> dict[Any, Any]:
        """Return the process's cache of live figures (``bot.services.desk.live_week``)."""
        found: dict[Any, Any] = self.runtime.extras.setdefault(LIVE_CACHE_KEY, {})
        return found

    def time_text(self, at: dt.datetime) -> str:
        """Return an instant as the viewer reads it (local time, short)."""
        local = at.astimezone(self.runtime.settings.scheduler.tz)
        return f"{self.translator.date(local.date())} {local:%H:%M}"

    def local_date(self, at: dt.datetime) -> dt.date:
        """Return the local day (``scheduler.timezone``) of an instant."""
        return at.astimezone(self.runtime.settings.scheduler.tz).date()

    def t(self, message: str, /, **kwargs: object) -> str:
        """Translate ``message`` for the viewer."""
        return self.translator(message, **kwargs)


Handler = Callable[[web.Request, Viewer], Awaitable["str | web.StreamResponse"]]


@dataclass(frozen=True)
class DeskRoute:
    """One page (GET) or action (POST) under ``/desk/p/``."""

    method: str
    path: str
    handler: Handler
    roles: frozenset[str] | None = None  # None: anyone with a desk role

    @property
    def url(self) -> str:
        """Return the route's URL path (aiohttp syntax, ``{id:\\d+}`` allowed)."""
        return PAGE_PREFIX + self.path


def desk_page(path: str, handler: Handler, *, roles: Sequence[str] | None = None) -> DeskRoute:
    """Register ``handler`` as the GET page ``/desk/p/<path>``."""
    return DeskRoute("GET", path, handler, frozenset(roles) if roles is not None else None)


def desk_action(path: str, handler: Handler, *, roles: Sequence[str] | None = None) -> DeskRoute:
    """Register ``handler`` as the POST action ``/desk/p/<path>``."""
    return DeskRoute("POST", path, handler, frozenset(roles) if roles is not None else None)


class DeskProblem(Exception):
    """Raise in a handler to answer a localised refusal (``status``, message id, params)."""

    def __init__(self, status: int, message: str, **params: object) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.params = params


def bad_input(detail: str) -> DeskProblem:
    """Return the 400 problem for bad query or form input (``detail`` already translated)."""
    return DeskProblem(400, BAD_INPUT, detail=detail)


# --- templates ---------------------------------------------------------------------------

_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=jinja2.select_autoescape(("html",), default=True),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def environment() -> jinja2.Environment:
    """Return the desk's Jinja environment (for filters a route module adds)."""
    return _ENV


def page_url(path: str, query: Mapping[str, object] | None = None) -> str:
    """Return the fragment URL of page ``path`` with ``query`` (None/"" values left out)."""
    url = PAGE_PREFIX + path.lstrip("/")
    kept = {k: v for k, v in (query or {}).items() if v not in (None, "", False)}
    return f"{url}?{urlencode(kept)}" if kept else url


def render_text(template: str, translator: Translator, **context: Any) -> str:
    """Render ``template`` with the translator as ``_``/``t`` and the desk helpers."""
    tmpl = _ENV.get_template(template)
    return tmpl.render(
        _=translator,
        t=translator,
        tr=translator,
        url=page_url,
        svg=lambda text: Markup(text or ""),  # our own matplotlib output, never user input
        **context,
    )


def render(viewer: Viewer, template: str, **context: Any) -> str:
    """Render a fragment for ``viewer``."""
    return render_text(
        template,
        viewer.translator,
        viewer=viewer,
        local=viewer.local_date,
        clock=viewer.time_text,
        **context,
    )


def fragment(text: str, status: int = 200) -> web.Response:
    """Return an HTML fragment response."""
    return web.Response(text=text, status=status, content_type="text/html", headers=HEADERS)


def problem(translator: Translator, status: int, message: str, **params: object) -> web.Response:
    """Return a localised refusal fragment."""
    body = render_text(
        "problem.html", translator, status=status, message=translator(message, **params)
    )
    return fragment(body, status)


async def forbidden(
    viewer: Viewer,
    *,
    action: str,
    reason: str = "out_of_scope",
    subject_type: str | None = None,
    subject_id: int | None = None,
    region_code: str | None = None,
    detail: Mapping[str, object] | None = None,
) -> web.Response:
    """Audit a refused desk request and return the 403 fragment."""
    await audit_refusal(
        session=viewer.session,
        actor_id=viewer.person_id,
        action=f"desk:{action}",
        reason=reason,
        now=viewer.now,
        subject_type=subject_type,
        subject_id=subject_id,
        region_code=region_code,
        detail={**(detail or {}), "via": "desk"},
    )
    return problem(viewer.translator, 403, FORBIDDEN)


# --- the pipeline ---------------------------------------------------------------------------


def _max_age(runtime: Runtime) -> dt.timedelta:
    return dt.timedelta(minutes=runtime.settings.desk.init_data_max_age_minutes)


def _token(runtime: Runtime) -> str:
    token = runtime.settings.telegram.token
    return token.get_secret_value() if token is not None else ""


async def _raw_init_data(request: web.Request) -> str | None:
    if request.method == "GET":
        return request.headers.get(INIT_HEADER)
    # POST: only a form body counts (a cross-site form cannot know the signed data).
    if request.content_type != "application/x-www-form-urlencoded":
        return None
    form = await request.post()
    value = form.get(INIT_FIELD)
    return value if isinstance(value, str) else None


def wrap(
    runtime: Runtime, route: DeskRoute
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """Return the aiohttp handler that authenticates, builds the viewer and runs ``route``."""
    default = get_translator(runtime.settings.i18n.default_locale)

    async def handle(request: web.Request) -> web.StreamResponse:
        now = runtime.now()
        raw = await _raw_init_data(request)
        try:
            init = validate_init_data(
                raw, bot_token=_token(runtime), now=now, max_age=_max_age(runtime)
            )
        except InitDataRefused as exc:
            log.info(
                "desk request refused: %s",
                exc.reason,
                extra={"path": request.path, "remote": request.remote},
            )
            return problem(default, 401, UNAUTHORISED)
        assert raw is not None
        translator = default
        try:
            async with runtime.sessions() as session, session.begin():
                person = await people_store.get_person_by_telegram_id(
                    session=session, telegram_id=init.user_id
                )
                grants: Sequence[RoleGrant] = ()
                if person is not None and person.id is not None:
                    grants = await roles_store.roles_of(session=session, person_id=person.id)
                locale = (person.language if person is not None else None) or normalize_locale(
                    init.language_code, runtime.settings.i18n.default_locale
                )
                translator = get_translator(locale)
                roles = desk_roles(grants)
                if person is None or not roles:
                    # No role: nothing at all is shown (not even the menu).
                    return problem(translator, 403, NO_ACCESS)
                viewer = Viewer(
                    telegram_id=init.user_id,
                    person=person,
                    grants=grants,
                    roles=roles,
                    translator=translator,
                    lang=translator.locale,
                    now=now,
                    session=session,
                    runtime=runtime,
                    init_data=init,
                    raw_init_data=raw,
                )
                if route.roles is not None and not (roles & route.roles):
                    return await forbidden(viewer, action=route.path, reason="role")
                # A refusal the handler returns is committed (its audit row with it); a
                # DeskProblem it raises rolls back whatever it had written.
                result = await route.handler(request, viewer)
                if route.method == "POST":
                    # An action may change what the cached figures and lists show.
                    runtime.extras.pop(LIVE_CACHE_KEY, None)
        except DeskProblem as exc:
            if exc.status >= 500:
                raise
            return problem(translator, exc.status, exc.message, **exc.params)
        return fragment(result) if isinstance(result, str) else result

    async def guarded(request: web.Request) -> web.StreamResponse:
        try:
            return await handle(request)
        except web.HTTPException:
            raise
        except Exception:
            log.exception("desk request failed", extra={"path": request.path})
            return problem(default, 500, FAILED)

    return guarded
