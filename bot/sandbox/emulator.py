"""HTTP face of the sandbox: Bot API routes on loopback, faults, webhook delivery."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

import aiohttp
from aiohttp import web

from bot.sandbox.api import BotApi
from bot.sandbox.limits import FaultInjector
from bot.sandbox.models import ApiError
from bot.sandbox.params import Params, Upload
from bot.sandbox.state import World

log = logging.getLogger(__name__)


def _json(body: dict[str, Any], status: int = 200) -> web.Response:
    """Return a JSON response the way the Bot API formats it."""
    return web.Response(
        status=status,
        body=json.dumps(body, ensure_ascii=False).encode(),
        content_type="application/json",
    )


class Emulator:
    """Serve the Bot API for one bot token on 127.0.0.1."""

    def __init__(self, world: World, api: BotApi, faults: FaultInjector) -> None:
        self.w = world
        self.api = api
        self.faults = faults
        self.app = web.Application(client_max_size=60 * 1024 * 1024)
        self.app.router.add_route("*", "/bot{token}/{method}", self.handle_method)
        self.app.router.add_get("/file/bot{token}/{path:.+}", self.handle_file)
        self._runner: web.AppRunner | None = None
        self.port = 0
        self._webhook_task: asyncio.Task[None] | None = None
        self._client: aiohttp.ClientSession | None = None
        self.webhook_retry_base = 0.05
        self.webhook_retry_max = 1.0

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Bind the server and start the webhook deliverer."""
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        # aiohttp keeps the bound socket on the private server; port 0 needs it.
        sockets = getattr(site._server, "sockets", None)
        assert sockets
        self.port = int(sockets[0].getsockname()[1])
        self._client = aiohttp.ClientSession()
        self._webhook_task = asyncio.create_task(self._deliver_webhooks())

    async def stop(self) -> None:
        """Stop delivering and close the server."""
        # Answer pending long polls now: the server's shutdown waits for open handlers.
        self.w.closing = True
        await self.w.notify()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            try:
                await self._webhook_task
            except asyncio.CancelledError:
                pass
        if self._client is not None:
            await self._client.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # --- requests ---------------------------------------------------------------------
    def _token_error(self, token: str) -> web.Response | None:
        """Return Telegram's answer to a wrong token, or None if it is right."""
        if token == self.w.token:
            return None
        if ":" not in token:  # a malformed token is "not found" on real Telegram
            return _json({"ok": False, "error_code": 404, "description": "Not Found"}, 404)
        return _json({"ok": False, "error_code": 401, "description": "Unauthorized"}, 401)

    async def _params(self, request: web.Request) -> Params:
        """Read parameters from the query string and a JSON, form or multipart body."""
        values: dict[str, Any] = dict(request.query)
        uploads: dict[str, Upload] = {}
        if request.method != "POST" or not request.can_read_body:
            return Params(values)
        ctype = request.content_type
        if ctype == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                values.update(body)
        elif ctype == "multipart/form-data":
            reader = await request.multipart()
            async for part in reader:
                if not isinstance(part, aiohttp.BodyPartReader) or part.name is None:
                    continue
                if part.filename is not None:
                    data = await part.read()
                    ctype_part = part.headers.get(aiohttp.hdrs.CONTENT_TYPE)
                    uploads[part.name] = Upload(bytes(data), part.filename, ctype_part)
                else:
                    values[part.name] = await part.text()
        else:
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    uploads[key] = Upload(value.file.read(), value.filename, value.content_type)
                else:
                    values[key] = value
        return Params(values, uploads)

    async def handle_method(self, request: web.Request) -> web.StreamResponse:
        """Serve one Bot API call."""
        bad_token = self._token_error(request.match_info["token"])
        if bad_token is not None:
            return bad_token
        found = self.api.lookup(request.match_info["method"])
        if found is None:
            return _json({"ok": False, "error_code": 404, "description": "Not Found"}, 404)
        name, handler = found
        self.w.stats.calls[name] += 1
        polling = name == "getUpdates"
        if not polling:
            self.w.inflight += 1
        try:
            return await self._serve(request, name, handler)
        finally:
            if not polling:
                self.w.inflight -= 1
            await self.w.notify()

    async def _serve(self, request: web.Request, name: str, handler: Any) -> web.StreamResponse:
        """Apply faults around the method and wrap its answer."""
        fault = None
        if self.faults.applies_to(name):
            delay = self.faults.latency()
            if delay > 0:
                await asyncio.sleep(delay)
            fault = self.faults.draw()
        if fault == "error":
            assert self.faults.faults is not None
            self.w.stats.faults["error"] += 1
            code = self.faults.faults.error_code
            desc = self.faults.faults.error_description
            return _json({"ok": False, "error_code": code, "description": desc}, code)
        drop_after = bool(self.faults.faults and self.faults.faults.drop_after_apply)
        if fault == "drop" and not drop_after:
            return self._drop(request)
        try:
            params = await self._params(request)
            result = await handler(params)
        except ApiError as err:
            self.w.stats.errors[err.code] += 1
            return _json(err.payload(), err.code)
        except (ValueError, json.JSONDecodeError):
            self.w.stats.errors[400] += 1
            return _json(
                {"ok": False, "error_code": 400, "description": "Bad Request: invalid request"},
                400,
            )
        if fault == "drop":
            return self._drop(request)
        return _json({"ok": True, "result": result})

    def _drop(self, request: web.Request) -> web.StreamResponse:
        """Close the connection without an answer; the client sees a network error."""
        self.w.stats.faults["drop"] += 1
        if request.transport is not None:
            request.transport.close()
        raise asyncio.CancelledError  # aiohttp treats this as "handler gave up, no reply"

    async def handle_file(self, request: web.Request) -> web.StreamResponse:
        """Serve a file download."""
        if request.match_info["token"] != self.w.token:
            return web.Response(status=404, text="Not Found")
        stored = self.w.files.by_path(request.match_info["path"])
        if stored is None:
            return web.Response(status=404, text="Not Found")
        self.w.stats.calls["file_download"] += 1
        return web.Response(body=stored.data, content_type="application/octet-stream")

    # --- webhook ----------------------------------------------------------------------
    async def _deliver_webhooks(self) -> None:
        """POST queued updates one by one to the webhook, retrying with backoff."""
        w = self.w
        failures = 0

        def has_work() -> bool:
            return bool(w.webhook.url and w.updates)

        while True:
            await w.wait_for(has_work, None)
            hook = w.webhook
            update = w.updates[0]
            if not w.allowed(update, hook.allowed_updates):
                w.updates.popleft()
                w.fetched_upto = max(w.fetched_upto, update["update_id"])
                continue
            ok = await self._post_update(hook.url, hook.secret_token, update)
            if ok:
                failures = 0
                if w.updates and w.updates[0] is update:
                    w.updates.popleft()
                w.fetched_upto = max(w.fetched_upto, update["update_id"])
                w.stats.updates_delivered += 1
                await w.notify()
                continue
            failures += 1
            delay = min(self.webhook_retry_max, self.webhook_retry_base * 2 ** (failures - 1))
            await asyncio.sleep(delay)

    async def _post_update(self, url: str, secret: str | None, update: dict[str, Any]) -> bool:
        """Send one update; return True on HTTP 200."""
        assert self._client is not None
        headers = {"Content-Type": "application/json"}
        if secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        try:
            async with self._client.post(
                url,
                data=json.dumps(update, ensure_ascii=False).encode(),
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=10),
            ) as resp:
                if resp.status == 200:
                    return True
                message = f"Wrong response from the webhook: {resp.status} {resp.reason}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            message = f"Connection failed: {exc.__class__.__name__}"
        self.w.webhook.last_error_date = int(time.time())
        self.w.webhook.last_error_message = message
        self.w.stats.faults["webhook_failure"] += 1
        return False
