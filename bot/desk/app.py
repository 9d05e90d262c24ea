"""Install the desk into the bot's web server: the shell, static files, every route module.

``ROUTE_MODULES`` is the one list of desk route modules; each exports ``routes()`` returning
its ``DeskRoute``s (``bot.desk.web.desk_page`` / ``desk_action``).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType

from aiohttp import web

from bot.desk import campaigns, dashboard, exports, home, people, stations
from bot.desk import queues as desk_queues
from bot.desk.photos import install_photo_routes
from bot.desk.web import HEADERS, PREFIX, DeskRoute, render_text, wrap
from bot.i18n import get_translator, normalize_locale
from bot.reports.chart import warm_up
from bot.runtime.context import Runtime

STATIC = Path(__file__).parent / "static"

# Every module with desk pages or actions, in menu order. D2/D3 add theirs here.
ROUTE_MODULES: tuple[ModuleType, ...] = (
    home,
    dashboard,
    stations,
    desk_queues,
    exports,
    people,
    campaigns,
)

SHELL_HEADERS = {
    **HEADERS,
    # Inline SVG charts need inline styles; scripts only from us and Telegram.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self' https://telegram.org; "
        "style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
        "base-uri 'none'; form-action 'self'; object-src 'none'"
    ),
}


def _static_version() -> str:
    digest = hashlib.sha256()
    for path in sorted(STATIC.iterdir()):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def all_routes(modules: Sequence[ModuleType] = ROUTE_MODULES) -> list[DeskRoute]:
    """Return every desk route of ``modules``; refuse two claims on one method and path."""
    found: dict[tuple[str, str], DeskRoute] = {}
    for module in modules:
        for route in module.routes():
            key = (route.method, route.path)
            if key in found:
                raise ValueError(f"desk route {route.method} {route.path} is declared twice")
            found[key] = route
    return list(found.values())


def install_desk(app: web.Application, runtime: Runtime) -> None:
    """Add the desk's routes to ``app`` (a ``RouteInstaller``); nothing when disabled."""
    if not runtime.settings.desk.enabled:
        return
    install_routes(app, runtime, all_routes())

    async def warm_charts(_app: web.Application) -> None:
        # Import matplotlib and register the CJK font in a worker thread at start, so the
        # first chart a coordinator opens does not pay for it.
        asyncio.get_running_loop().run_in_executor(None, warm_up)

    app.on_startup.append(warm_charts)


def desk_installer(
    modules: Sequence[ModuleType],
) -> Callable[[web.Application, Runtime], None]:
    """Return an installer of the shell with only ``modules``' routes (tests)."""

    def install(app: web.Application, runtime: Runtime) -> None:
        install_routes(app, runtime, all_routes(modules))

    return install


def install_routes(app: web.Application, runtime: Runtime, routes: Sequence[DeskRoute]) -> None:
    """Add the shell, the static files, the photo route and ``routes`` to ``app``."""
    version = _static_version()
    default_locale = runtime.settings.i18n.default_locale

    async def shell(request: web.Request) -> web.Response:
        # The shell holds no data and needs no credential; its language follows the browser.
        first = request.headers.get("Accept-Language", "").split(",")[0].split(";")[0]
        translator = get_translator(normalize_locale(first.strip() or None, default_locale))
        body = render_text("base.html", translator, lang=translator.locale, version=version)
        return web.Response(text=body, content_type="text/html", headers=SHELL_HEADERS)

    async def to_shell(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(f"{PREFIX}/")

    app.router.add_get(f"{PREFIX}/", shell)
    app.router.add_get(PREFIX, to_shell)
    app.router.add_static(f"{PREFIX}/static/", STATIC, append_version=False)
    install_photo_routes(app, runtime)
    for route in routes:
        app.router.add_route(route.method, route.url, wrap(runtime, route))
    # Plain aiohttp routes outside /desk/p/ (e.g. one-time downloads, which Telegram's
    # client fetches itself, without initData): a module's ``web_routes(runtime)``.
    for module in ROUTE_MODULES:
        extra = getattr(module, "web_routes", None)
        if extra is not None:
            app.router.add_routes(extra(runtime))
