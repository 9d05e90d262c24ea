"""Webhook delivery: secret header, retry until 200, pending count."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web
from telegram import Bot

from bot.sandbox import Sandbox


async def test_webhook_delivers_with_secret_and_retries(sandbox: Sandbox, bot: Bot) -> None:
    received: list[tuple[str | None, dict[str, Any]]] = []
    failures = {"left": 2}
    got = asyncio.Event()

    async def hook(request: web.Request) -> web.Response:
        if failures["left"]:
            failures["left"] -= 1
            return web.Response(status=500)
        secret = request.headers.get("X-Telegram-Bot-Api-Secret-Token")
        received.append((secret, json.loads(await request.read())))
        got.set()
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        alice = sandbox.user("Alice")
        await alice.send("before")  # dropped by drop_pending_updates
        await bot.set_webhook(
            f"http://127.0.0.1:{port}/hook", secret_token="s3cr3t", drop_pending_updates=True
        )
        await alice.send("hello")
        await asyncio.wait_for(got.wait(), 5)
        await sandbox.wait_idle()
        assert [(s, u["message"]["text"]) for s, u in received] == [("s3cr3t", "hello")]
        info = await bot.get_webhook_info()
        assert info.pending_update_count == 0
        assert info.last_error_message and "500" in info.last_error_message
        assert sandbox.stats.faults["webhook_failure"] == 2
    finally:
        await bot.delete_webhook()
        await runner.cleanup()
