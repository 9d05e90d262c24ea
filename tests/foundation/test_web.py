"""The aiohttp server: webhook secret check, storage before 200, health and metrics."""

from __future__ import annotations

import asyncio
import json

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine as create_engine

from bot.runtime.context import Runtime
from bot.runtime.web import SECRET_HEADER, build_web_app
from storage.db import session_factory
from storage.models import InboxUpdate
from tests.foundation.test_inbox import message_update


def webhook_runtime(runtime: Runtime) -> Runtime:
    runtime.settings.telegram.mode = "webhook"
    runtime.settings.telegram.webhook_secret = type(runtime.settings.telegram.token)("s3cret_-x")  # type: ignore[misc]
    return runtime


async def test_webhook_checks_secret_and_stores_before_answering(runtime: Runtime) -> None:
    app = build_web_app(webhook_runtime(runtime), None, webhook=True)
    path = runtime.settings.telegram.webhook_path
    async with TestClient(TestServer(app)) as client:
        no_secret = await client.post(path, json=message_update(1))
        wrong = await client.post(path, json=message_update(1), headers={SECRET_HEADER: "nope"})
        assert (no_secret.status, wrong.status) == (403, 403)
        ok = await client.post(path, json=message_update(7), headers={SECRET_HEADER: "s3cret_-x"})
        assert ok.status == 200
        again = await client.post(
            path, json=message_update(7), headers={SECRET_HEADER: "s3cret_-x"}
        )
        assert again.status == 200  # a redelivery is acknowledged, stored once
        bad = await client.post(path, data=b"{not json", headers={SECRET_HEADER: "s3cret_-x"})
        not_update = await client.post(
            path, json={"hello": 1}, headers={SECRET_HEADER: "s3cret_-x"}
        )
        assert (bad.status, not_update.status) == (400, 400)
        health = await client.get("/healthz")
        assert health.status == 200
        assert (await health.json()) == {"status": "ok", "inbox": {"pending": 1}}
        metrics = await (await client.get("/metrics")).text()
        assert 'kepubot_inbox_updates{status="pending"} 1' in metrics
    async with runtime.sessions() as session:
        rows = (await session.execute(select(InboxUpdate.update_id))).scalars().all()
    assert rows == [7]


async def test_no_webhook_route_in_polling_mode(runtime: Runtime) -> None:
    app = build_web_app(runtime, None, webhook=False)
    async with TestClient(TestServer(app)) as client:
        response = await client.post(
            runtime.settings.telegram.webhook_path, json=message_update(1)
        )
        assert response.status in (404, 405)


async def test_health_reports_database_failure(runtime: Runtime) -> None:
    engine = create_engine("sqlite+aiosqlite:////proc/kepubot-no-such-dir/x.db")
    broken = Runtime(
        settings=runtime.settings,
        engine=engine,
        sessions=session_factory(engine),
        clock=runtime.clock,
    )
    try:
        async with TestClient(TestServer(build_web_app(broken, None))) as client:
            response = await client.get("/healthz")
            assert response.status == 503
            assert (await response.json())["status"] == "error"
    finally:
        await engine.dispose()


async def raw_status(client: TestClient, request: bytes) -> int:
    """Send ``request`` byte for byte (no client would encode it) and return the status."""
    reader, writer = await asyncio.open_connection(client.host, client.port)
    try:
        writer.write(request)
        await writer.drain()
        status_line = await reader.readline()
    finally:
        writer.close()
    return int(status_line.split()[1])


async def test_non_utf8_headers_are_refused_not_crashed(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    app = build_web_app(webhook_runtime(runtime), None, webhook=True)
    path = runtime.settings.telegram.webhook_path.encode()
    body = json.dumps(message_update(3)).encode()
    async with TestClient(TestServer(app)) as client:
        for header in (
            SECRET_HEADER.encode() + b": s3cret_\xff\xfe",
            b"User-Agent: Mozilla \xc3(",
        ):
            status = await raw_status(
                client,
                b"POST " + path + b" HTTP/1.1\r\nHost: kepu.test\r\n" + header + b"\r\n"
                b"Content-Type: application/json\r\n"
                b"Content-Length: "
                + str(len(body)).encode()
                + b"\r\nConnection: close\r\n\r\n"
                + body,
            )
            assert status == 400
        # Valid UTF-8 that is not ASCII is only a wrong secret.
        wrong = await client.post(
            runtime.settings.telegram.webhook_path,
            json=message_update(4),
            headers={SECRET_HEADER: "sécret"},
        )
        assert wrong.status == 403
    assert "a header is not UTF-8" in caplog.text
    async with runtime.sessions() as session:
        assert (await session.execute(select(InboxUpdate.update_id))).scalars().all() == []
