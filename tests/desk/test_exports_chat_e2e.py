""" "Send to my chat" end to end: the desk's POST, the outbox, the sandbox chat's document."""

from __future__ import annotations

import csv
import datetime as dt
import io

from aiohttp.test_utils import TestClient, TestServer

from bot.desk.app import install_desk
from bot.desk.web import INIT_FIELD
from bot.runtime.web import build_web_app
from bot.sandbox.factories import make_activity, make_region_tree, make_station
from bot.sandbox.harness import RunningBot
from bot.sandbox.webapp import sign_init_data
from bot.services import roles as role_service
from tests.desk.conftest import TOKEN
from tests.informants.helpers import last


async def test_export_arrives_as_a_document_after_the_commit(bot_env: RunningBot) -> None:
    runtime = bot_env.runtime
    coordinator = bot_env.sandbox.user("杭州市科协", language_code="zh-hans")
    await coordinator.send("你好")  # the bot knows them (a private chat exists)
    await bot_env.settle()
    async with runtime.sessions() as s, s.begin():
        await make_region_tree(s)
        station = await make_station(s)
        assert station.id is not None
        await make_activity(
            s, station_id=station.id, held_on=dt.date(2026, 11, 12), title="讲座甲"
        )
        await role_service.grant(
            session=s,
            telegram_id=coordinator.id,
            role="coordinator",
            region_code="330100",
            now=runtime.now(),
        )
    init = sign_init_data(
        TOKEN,
        {"id": coordinator.id, "first_name": "杭州市科协", "language_code": "zh-hans"},
        auth_date=runtime.now(),
    )
    app = build_web_app(runtime, installers=[install_desk])
    async with TestClient(TestServer(app)) as client:
        form = {
            "kind": "activities",
            "date_from": "2026-11-01",
            "date_to": "2026-11-30",
            "status": "counted",
            "format": "csv",
            "deliver": "chat",
            INIT_FIELD: init,
        }
        async with client.post("/desk/p/exports", data=form) as response:
            assert response.status == 200
            assert "正在发送" in await response.text()
    message = await last(coordinator, bot_env)
    assert message.filename == "activities-all-20261101-20261130.csv"
    assert "2026年11月1日" in (message.caption or "")
    data = message.document_bytes()
    assert data is not None and data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert [r[5] for r in rows[1:]] == ["讲座甲"]
