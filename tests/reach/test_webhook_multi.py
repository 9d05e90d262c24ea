"""Webhook mode behind several processes: two bots, one PostgreSQL, a proxy alternating.

The sandbox delivers updates to one URL, a round-robin proxy (the reverse proxy of the
README) passes them alternately to two running bots, each with its own runtime, engine
and web server. Every update is processed once, and each user's updates one after the
other in order, whichever process took them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from collections.abc import Sequence
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlmodel import col

from bot.runtime import web as web_module
from bot.runtime.context import Runtime
from bot.runtime.inbox import BatchResult, InboxProcessor
from bot.runtime.web import SECRET_HEADER, start_site
from bot.sandbox import Sandbox
from bot.sandbox.harness import running_bot, sandbox_settings
from storage import inbox as inbox_store
from storage.db import create_engine, session_factory
from storage.models import InboxUpdate
from tests.conftest import FixedClock
from tests.foundation.test_inbox import message_update

SECRET = "multi_process-secret"
PATH = "/telegram/webhook"


class RoundRobin:
    """A reverse proxy that passes each webhook call to the next bot in turn."""

    def __init__(self) -> None:
        self.targets: list[str] = []
        self.calls: list[int] = []  # which bot got each call
        self._next = itertools.count()

    async def handle(self, request: web.Request) -> web.Response:
        turn = next(self._next) % len(self.targets)
        self.calls.append(turn)
        async with (
            aiohttp.ClientSession() as client,
            client.post(
                self.targets[turn] + PATH,
                data=await request.read(),
                headers={
                    SECRET_HEADER: request.headers.get(SECRET_HEADER, ""),
                    "Content-Type": "application/json",
                },
            ) as response,
        ):
            return web.Response(status=response.status, text=await response.text())


async def test_two_webhook_processes_process_every_update_once_in_order_per_user(
    sandbox: Sandbox, db_url: str, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("several processes share one PostgreSQL database")
    proxy = RoundRobin()
    app = web.Application()
    app.router.add_post(PATH, proxy.handle)
    proxy_runner, proxy_port = await start_site(app, "127.0.0.1", 0)
    # Event log across both processes (one event loop, so a true order): when each
    # update's processing starts, and when the batch holding it has committed.
    events: list[tuple[str, int]] = []
    real_one = InboxProcessor._process_one
    real_batch = InboxProcessor._process_batch
    gate = asyncio.Event()

    async def one(self: InboxProcessor, session: Any, update_id: int, *rest: Any) -> Any:
        events.append(("start", update_id))
        self.__dict__.setdefault("r3_batch", []).append(update_id)
        return await real_one(self, session, update_id, *rest)

    async def batch(self: InboxProcessor) -> BatchResult:
        await gate.wait()  # both processes start claiming at once, with every update stored
        self.__dict__["r3_batch"] = []
        result = await real_batch(self)
        events.extend(("commit", u) for u in self.__dict__["r3_batch"])
        return result

    monkeypatch.setattr(InboxProcessor, "_process_one", one)
    monkeypatch.setattr(InboxProcessor, "_process_batch", batch)
    settings = sandbox_settings(
        sandbox,
        db_url,
        telegram={
            "mode": "webhook",
            "webhook_url": f"http://127.0.0.1:{proxy_port}{PATH}",
            "webhook_secret": SECRET,
            "webhook_path": PATH,
        },
        limits={"inbox_batch_size": 4},
    )
    users = [sandbox.user(f"用户{i}", started=True) for i in range(6)]
    try:
        async with (
            running_bot(sandbox, settings, clock=clock) as a,
            running_bot(sandbox, settings, clock=clock) as b,
        ):
            assert a.runtime.engine is not b.runtime.engine
            proxy.targets = [a.web_url, b.web_url]
            for round_ in range(5):
                for user in users:
                    await user.send(f"/help 第{round_}次")
            await sandbox.wait_idle(timeout=30)
            async with a.runtime.sessions() as session:
                stored = await session.execute(select(func.count()).select_from(InboxUpdate))
                assert stored.scalar_one() == 30
            gate.set()
            for bot in (a, b, a, b):
                await bot.settle(timeout=30)
            async with a.runtime.sessions() as session:
                stored = await session.execute(
                    select(col(InboxUpdate.status), func.count()).group_by(col(InboxUpdate.status))
                )
                assert dict(stored.all()) == {"done": 30}
                ids = await session.execute(
                    select(col(InboxUpdate.update_id), col(InboxUpdate.user_id))
                )
                by_user: dict[int, list[int]] = {}
                for update_id, user_id in ids.all():
                    by_user.setdefault(int(user_id), []).append(int(update_id))
    finally:
        await proxy_runner.cleanup()
    # Both processes got webhook calls, alternately.
    assert proxy.calls[:30] == [0, 1] * 15
    commits = [u for kind, u in events if kind == "commit"]
    assert sorted(commits) == sorted(u for ids in by_user.values() for u in ids)  # once each
    position = {("commit", u): i for i, (kind, u) in enumerate(events) if kind == "commit"}
    starts: dict[int, list[int]] = {}
    for i, (kind, u) in enumerate(events):
        if kind == "start":
            starts.setdefault(u, []).append(i)
    for ids_of_user in by_user.values():
        _in_order(sorted(ids_of_user), position, starts)
    # Every /help was answered once, in the order asked.
    for user in users:
        assert len(user.messages) == 5


def _in_order(
    ids: Sequence[int], position: dict[tuple[str, int], int], starts: dict[int, list[int]]
) -> None:
    """Each update of a user started only after the user's previous one committed."""
    for earlier, later in itertools.pairwise(ids):
        assert position[("commit", earlier)] < min(starts[later]), (earlier, later)


async def test_webhook_calls_arriving_together_share_one_commit(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime.settings.telegram.mode = "webhook"
    runtime.settings.telegram.webhook_secret = SecretStr(SECRET)
    stores: list[int] = []
    real_store = web_module.store_and_notify

    async def counted(rt: Runtime, processor: Any, payloads: list[dict[str, Any]]) -> int:
        stores.append(len(payloads))
        return await real_store(rt, processor, payloads)

    monkeypatch.setattr(web_module, "store_and_notify", counted)
    app = web_module.build_web_app(runtime, None, webhook=True)
    path = runtime.settings.telegram.webhook_path
    async with TestClient(TestServer(app)) as client:
        answers = await asyncio.gather(
            *(
                client.post(path, json=message_update(i), headers={SECRET_HEADER: SECRET})
                for i in range(1, 11)
            )
        )
        assert [a.status for a in answers] == [200] * 10
        assert sum(stores) == 10 and len(stores) < 10  # fewer commits than calls

        async def broken(*args: Any) -> int:
            raise OSError("database away")

        monkeypatch.setattr(web_module, "store_and_notify", broken)
        failed = await asyncio.gather(
            *(
                client.post(path, json=message_update(i), headers={SECRET_HEADER: SECRET})
                for i in range(20, 23)
            )
        )
        assert [a.status for a in failed] == [500] * 3  # not stored: Telegram sends again
    async with runtime.sessions() as session:
        stored = (await session.execute(select(col(InboxUpdate.update_id)))).scalars().all()
    assert sorted(stored) == list(range(1, 11))


async def test_a_claim_leaves_out_a_users_later_updates_held_elsewhere(db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("concurrent claims with SKIP LOCKED are PostgreSQL's")
    first, second = create_engine(db_url), create_engine(db_url)
    now = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)

    def update(update_id: int, user: int, kind: str = "message") -> dict[str, Any]:
        body = {"message_id": update_id, "from": {"id": user, "is_bot": False}, "text": "x"}
        return {"update_id": update_id, kind: body}

    try:
        async with session_factory(first)() as session, session.begin():
            await inbox_store.store_updates(
                session=session,
                payloads=[
                    update(1, 7),
                    update(2, 8),
                    update(3, 7, "chosen_inline_result"),
                    update(4, 7),
                    update(5, 8),
                ],
                now=now,
            )
        async with session_factory(first)() as a, a.begin():
            held = await inbox_store.claim_pending(session=a, now=now, limit=1)
            assert [u.update_id for u in held] == [1]  # A holds user 7's first update
            async with session_factory(second)() as b, b.begin():
                got = await inbox_store.claim_pending(
                    session=b, now=now, limit=10, unordered=("chosen_inline_result",)
                )
        # B skips 1 (locked), keeps user 8's and user 7's unordered share, leaves out 4.
        assert [u.update_id for u in got] == [2, 3, 5]
    finally:
        await first.dispose()
        await second.dispose()
