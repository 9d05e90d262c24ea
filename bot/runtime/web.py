"""The aiohttp server: Telegram webhook (secret-checked), health, and feature routes."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiohttp import web
from sqlalchemy import text

from bot.runtime.context import Runtime
from bot.runtime.inbox import InboxProcessor, store_and_notify
from storage import inbox as inbox_store

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
RUNTIME_KEY = web.AppKey("runtime", Runtime)
RouteInstaller = Callable[[web.Application, Runtime], None]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _undecodable_header(request: web.Request) -> str | None:
    """Return the name of the first header whose value is not UTF-8, or None."""
    for name, value in request.headers.items():
        # aiohttp keeps undecodable bytes as lone surrogates, which .encode() refuses.
        if not value.isascii():
            try:
                value.encode()
            except UnicodeEncodeError:
                return name
    return None


@web.middleware
async def refuse_undecodable_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer 400 to a request with a header that is not UTF-8, before any route reads it."""
    name = _undecodable_header(request)
    if name is not None:
        log.warning(
            "request refused: a header is not UTF-8",
            extra={"header": name, "path": request.path, "remote": request.remote},
        )
        return web.Response(status=400, text="bad header")
    return await handler(request)


class StoreBatcher:
    """Store webhook updates that arrive together in one transaction (a group commit).

    Telegram keeps up to 40 webhook connections open. Each call still gets its 200 only
    once its update is committed, but calls that arrive while a store is in flight are
    stored together by the next one: one commit for a burst instead of one per update.
    """

    def __init__(self, runtime: Runtime, processor: InboxProcessor | None) -> None:
        self.runtime = runtime
        self.processor = processor
        self._waiting: list[tuple[dict[str, Any], asyncio.Future[None]]] = []
        self._flushing: asyncio.Task[None] | None = None

    async def store(self, payload: dict[str, Any]) -> None:
        """Return once ``payload`` is committed to the inbox (raise if it could not be)."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((payload, future))
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush())
        await future

    async def _flush(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                await store_and_notify(self.runtime, self.processor, [p for p, _ in batch])
            except Exception as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for _, future in batch:
                if not future.done():
                    future.set_result(None)


def _webhook_handler(
    runtime: Runtime, processor: InboxProcessor | None, secret: str
) -> Callable[[web.Request], Awaitable[web.Response]]:
    batcher = StoreBatcher(runtime, processor)

    async def handle(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            log.warning("webhook call with a wrong secret", extra={"remote": request.remote})
            return web.Response(status=403, text="forbidden")
        try:
            payload = await request.json(loads=json.loads)
        except (ValueError, UnicodeDecodeError):
            return web.Response(status=400, text="bad json")
        if not isinstance(payload, dict) or not isinstance(payload.get("update_id"), int):
            return web.Response(status=400, text="not an update")
        try:
            await batcher.store(payload)
        except Exception:
            # Not stored: answer 500 so Telegram delivers it again.
            log.exception("could not store webhook update")
            return web.Response(status=500, text="storage unavailable")
        return web.Response(status=200, text="ok")

    return handle


async def _health(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME_KEY]
    try:
        async with runtime.sessions() as session:
            await session.execute(text("SELECT 1"))
            counts = await inbox_store.count_by_status(session=session)
    except Exception as exc:
        return web.json_response({"status": "error", "error": str(exc)}, status=503)
    return web.json_response({"status": "ok", "inbox": counts})


async def _metrics(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME_KEY]
    async with runtime.sessions() as session:
        counts = await inbox_store.count_by_status(session=session)
    lines = ["# TYPE kepubot_inbox_updates gauge"]
    lines += [f'kepubot_inbox_updates{{status="{k}"}} {v}' for k, v in sorted(counts.items())]
    return web.Response(text="\n".join(lines) + "\n", content_type="text/plain")


def build_web_app(
    runtime: Runtime,
    processor: InboxProcessor | None = None,
    *,
    webhook: bool = False,
    installers: Iterable[RouteInstaller] = (),
) -> web.Application:
    """Build the aiohttp application with health, optional webhook and feature routes."""
    app = web.Application(
        client_max_size=2 * 1024 * 1024, middlewares=[refuse_undecodable_headers]
    )
    app[RUNTIME_KEY] = runtime
    app.router.add_get("/healthz", _health)
    app.router.add_get("/metrics", _metrics)
    if webhook:
        secret = runtime.settings.telegram.webhook_secret
        if secret is None:
            raise ValueError("webhook mode needs telegram.webhook_secret")
        app.router.add_post(
            runtime.settings.telegram.webhook_path,
            _webhook_handler(runtime, processor, secret.get_secret_value()),
        )
    for install in installers:
        install(app, runtime)
    return app


async def start_site(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Start serving ``app``; return the runner and the bound port (port 0 picks one)."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    server: Any = site._server  # aiohttp exposes the bound socket only here
    bound = server.sockets[0].getsockname()[1] if server and server.sockets else port
    return runner, int(bound)
