"""Stations: who sees which, search, filters, paging, and one station's page."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from bot.i18n import get_translator
from bot.sandbox.factories import make_station
from storage.models import AuditLog
from tests.desk import world as w
from tests.desk.conftest import DeskClient

LINK = re.compile(r'href="/desk/p/stations/(\d+)"')


def listed(text: str) -> set[int]:
    return {int(i) for i in LINK.findall(text)}


async def test_each_role_lists_its_scope(desk: DeskClient, seeded: w.World) -> None:
    everyone = {seeded.xihu, seeded.xihu_idle, seeded.binjiang, seeded.haishu, seeded.pending}
    expected = {
        w.ADMIN: everyone,
        w.PROVINCE: everyone,
        w.CITY: everyone - {seeded.haishu},
        w.NINGBO: {seeded.haishu},
        w.COUNTY: {seeded.xihu, seeded.xihu_idle, seeded.pending},
        w.STATION_ADMIN: {seeded.xihu},
    }
    for user, ids in expected.items():
        page = await desk.get("stations", user=user)
        assert page.status == 200, (user, page.text)
        assert listed(page.text) == ids, user
    for user in (w.CURATOR, w.NOBODY, w.INFORMANT):
        assert (await desk.get("stations", user=user)).status == 403


async def test_search_filters_and_order(desk: DeskClient, seeded: w.World) -> None:
    async def ids(**params: str) -> set[int]:
        page = await desk.get("stations", user=w.PROVINCE, params=params)
        assert page.status == 200, page.text
        return listed(page.text)

    assert await ids(q="西湖") == {seeded.xihu, seeded.xihu_idle, seeded.pending}
    assert await ids(q=str(seeded.haishu)) == {seeded.haishu}
    assert await ids(q="100%_") == set()
    assert await ids(status="submitted") == {seeded.pending}
    assert await ids(region="330108") == {seeded.binjiang}
    # Idle: nothing in the last 28 days (Binjiang shared 14 days ago, so it is not idle).
    assert await ids(idle="1") == {seeded.xihu_idle, seeded.pending}
    assert await ids(flagged="1") == {seeded.xihu}
    page = await desk.get("stations", user=w.PROVINCE, params={"order": "volume"})
    order = [int(i) for i in LINK.findall(page.text)]
    assert order[0] == seeded.xihu
    bad = await desk.get("stations", user=w.PROVINCE, params={"status": "nonsense"})
    assert bad.status == 400 and "未知状态" in bad.text
    outside = await desk.get("stations", user=w.COUNTY, params={"region": "330200"})
    assert outside.status == 403


async def test_paging(desk: DeskClient, seeded: w.World) -> None:
    async with desk.runtime.sessions() as s, s.begin():
        for n in range(60):
            await make_station(s, name=f"宁波测试站{n:02d}", county="330203")
    first = await desk.get("stations", user=w.NINGBO)
    assert len(listed(first.text)) == 50 and "第 1 页，共 2 页" in first.text
    assert "page=2" in first.text
    second = await desk.get("stations", user=w.NINGBO, params={"page": "2"})
    assert len(listed(second.text)) == 11 and "第 2 页，共 2 页" in second.text
    assert listed(first.text).isdisjoint(listed(second.text))
    beyond = await desk.get("stations", user=w.NINGBO, params={"page": "9"})
    assert beyond.status == 200 and "没有符合条件的e站" in beyond.text
    assert (await desk.get("stations", user=w.NINGBO, params={"page": "x"})).status == 400


async def test_station_page(desk: DeskClient, seeded: w.World) -> None:
    page = await desk.get(f"stations/{seeded.xihu}", user=w.COUNTY)
    assert page.status == 200, page.text
    text = page.text
    assert "西湖区文化站" in text and "西湖区" in text and "已认定" in text
    assert "本周（2026年11月23日—11月29日）" in text
    assert "<svg" in text
    assert "垃圾分类讲座" in text and "参与人数 45" in text
    assert re.search(
        r'<img loading="lazy" src="/desk/photo/\d+\?e=\d+&amp;v=611&amp;s=[0-9a-f]+"', text
    )
    assert "防范电信诈骗" in text and "受众人数 60" in text
    assert "现有信息员 1 名" in text
    assert get_translator("zh_CN")("unusually many participants") in text
    assert "待核查" in text  # the open finding's status
    assert "实地核查通过" in text  # the county review
    assert "市级科协复核认定" in text and "复核通过" in text  # the audit log's decision


async def test_station_page_scope(desk: DeskClient, seeded: w.World) -> None:
    assert (await desk.get(f"stations/{seeded.xihu}", user=w.STATION_ADMIN)).status == 200
    refused = await desk.get(f"stations/{seeded.haishu}", user=w.STATION_ADMIN)
    assert refused.status == 403 and "海曙区科技馆" not in refused.text
    assert (await desk.get(f"stations/{seeded.haishu}", user=w.CITY)).status == 403
    assert (await desk.get(f"stations/{seeded.haishu}", user=w.NINGBO)).status == 200
    assert (await desk.get("stations/999999", user=w.ADMIN)).status == 404
    async with desk.runtime.sessions() as s:
        entries = (
            (await s.execute(select(AuditLog).where(AuditLog.action == "desk:station")))
            .scalars()
            .all()
        )
    assert {(e.subject_id, e.allowed) for e in entries} == {(seeded.haishu, False)}
    assert len(entries) == 2


@pytest.mark.parametrize("user", [w.ADMIN, w.PROVINCE])
async def test_english_station_page(desk: DeskClient, seeded: w.World, user: int) -> None:
    async with desk.runtime.sessions() as s, s.begin():
        person = await desk.person(s, 990 + user % 10, role="admin", language="en")
    page = await desk.get(f"stations/{seeded.xihu}", user=person.telegram_id)
    assert page.status == 200
    assert "Weekly history" in page.text and "Recognised by the city" in page.text
