"""The desk's exports: XLSX and CSV with the window and filters, one-time links, scope."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import re

from openpyxl import load_workbook
from sqlalchemy import select

from bot.sandbox.factories import (
    make_activity,
    make_content,
    make_content_use,
    make_informant,
    make_region_tree,
    make_share,
    make_station,
)
from storage.models import AuditLog, OutboxMessage
from tests.conftest import FixedClock
from tests.desk.conftest import DeskClient

COORD, COUNTY, ADMIN, STATION_ADMIN = 801, 802, 803, 804
LINK = re.compile(r'href="(/desk/download/[A-Za-z0-9_-]+)"')


async def _world(desk: DeskClient) -> dict[str, int]:
    async with desk.runtime.sessions() as s, s.begin():
        await make_region_tree(s)
        west = await make_station(s, name="西湖区文化站")
        binjiang = await make_station(s, name="滨江科普站", county="330108")
        ningbo = await make_station(s, name="海曙科普站", county="330203")
        ids = {"west": west.id, "binjiang": binjiang.id, "ningbo": ningbo.id}
        assert all(ids.values())
        content = await make_content(s)
        assert content.id is not None
        for key, station_id in ids.items():
            informant = await make_informant(
                s,
                station_id=station_id,
                telegram_id=9000 + station_id,
                real_name={"west": "王秀英", "binjiang": "李四", "ningbo": "赵六"}[key],
                phone="+8613800000000",
            )
            assert informant.id is not None
            await make_share(
                s,
                informant_id=informant.id,
                station_id=station_id,
                content_id=content.id,
                day=dt.date(2026, 11, 10),
                channel="wechat_group",
                audience=40,
            )
            await make_share(  # outside the window of the tests
                s,
                informant_id=informant.id,
                station_id=station_id,
                content_id=content.id,
                day=dt.date(2026, 10, 10),
            )
            await make_activity(
                s, station_id=station_id, held_on=dt.date(2026, 11, 12), title=f"{key}讲座"
            )
            await make_content_use(
                s, station_id=station_id, content_id=content.id, used_on=dt.date(2026, 11, 14)
            )
        await desk.person(s, COORD, role="coordinator", region_code="330100")
        await desk.person(s, COUNTY, role="coordinator", region_code="330106")
        await desk.person(s, ADMIN, role="admin")
        await desk.person(s, STATION_ADMIN, role="station_admin", station_id=ids["west"])
    return ids


def _form(**fields: str) -> dict[str, str]:
    base = {
        "kind": "shares",
        "date_from": "2026-11-01",
        "date_to": "2026-11-30",
        "status": "counted",
        "format": "xlsx",
        "deliver": "download",
    }
    base.update(fields)
    return base


async def _download(desk: DeskClient, page_text: str) -> tuple[int, bytes, dict[str, str]]:
    match = LINK.search(page_text)
    assert match, page_text
    async with desk.client.get(match.group(1)) as response:
        return response.status, await response.read(), dict(response.headers)


async def test_form_offers_only_the_viewers_area(desk: DeskClient) -> None:
    await _world(desk)
    page = await desk.get("exports", user=COORD, params={"preset": "last_month"})
    assert page.status == 200
    assert "杭州市" in page.text and "西湖区文化站" in page.text
    assert "海曙科普站" not in page.text and "宁波市" not in page.text
    assert 'value="2026-10-01"' in page.text and 'value="2026-10-31"' in page.text


async def test_xlsx_has_window_filters_and_only_the_scope(desk: DeskClient) -> None:
    await _world(desk)
    done = await desk.post("exports", _form(kind="shares"), user=COORD)
    assert done.status == 200
    status, data, headers = await _download(desk, done.text)
    assert status == 200
    assert headers["Content-Disposition"].startswith("attachment;")
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert "2026年11月1日" in str(rows[0][0]) and "杭州市" in str(rows[0][0])
    assert "地区" in str(rows[1][0])
    header = rows[2]
    assert header[0] == "日期" and "站点" in header
    body = [r for r in rows[3:] if r[0] is not None]
    # Only Hangzhou's stations, only November: Ningbo and the October shares are left out.
    assert sorted(r[1] for r in body) == ["滨江科普站", "西湖区文化站"]
    assert all(r[5] == "微信群" and r[6] == 40 for r in body)


async def test_filters_region_station_and_the_other_kinds(desk: DeskClient) -> None:
    ids = await _world(desk)
    for kind, title_column, expected in (
        ("activities", 5, ["west讲座"]),
        ("uses", 1, ["西湖区文化站"]),
        ("stations", 1, ["西湖区文化站"]),
    ):
        done = await desk.post(
            "exports", _form(kind=kind, region="330106", format="xlsx"), user=COORD
        )
        assert done.status == 200, done.text
        _, data, _ = await _download(desk, done.text)
        rows = list(load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))  # type: ignore[union-attr]
        assert "西湖区" in str(rows[0][0])
        assert [r[title_column] for r in rows[3:] if r[0] is not None] == expected, kind
    done = await desk.post(
        "exports", _form(kind="stations", station=str(ids["binjiang"])), user=COORD
    )
    _, data, _ = await _download(desk, done.text)
    rows = list(load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))  # type: ignore[union-attr]
    station_row = [r for r in rows[3:] if r[0] is not None]
    assert [r[1] for r in station_row] == ["滨江科普站"]
    assert station_row[0][5] == 1  # its one November share (the figures' definition)


async def test_csv_starts_with_the_bom_and_parses(desk: DeskClient) -> None:
    await _world(desk)
    done = await desk.post("exports", _form(kind="activities", format="csv"), user=COUNTY)
    status, data, headers = await _download(desk, done.text)
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][0] == "活动编号"
    assert [r[5] for r in rows[1:]] == ["west讲座"]  # a county sees its own stations only


async def test_roster_personal_data_only_for_those_allowed(desk: DeskClient) -> None:
    await _world(desk)
    seen = {}
    for user in (COORD, STATION_ADMIN, ADMIN):
        done = await desk.post("exports", _form(kind="roster", format="csv"), user=user)
        assert done.status == 200, done.text
        _, data, _ = await _download(desk, done.text)
        seen[user] = data.decode("utf-8-sig")
    # The city coordinator and the station's admin see names and phones of their informants.
    assert "王秀英" in seen[COORD] and "李四" in seen[COORD] and "+8613800000000" in seen[COORD]
    assert "赵六" not in seen[COORD]
    assert "王秀英" in seen[STATION_ADMIN] and "李四" not in seen[STATION_ADMIN]
    # The system administrator is not in the privacy notice: the roster without names.
    admin_rows = list(csv.reader(io.StringIO(seen[ADMIN])))
    assert "姓名" not in admin_rows[0] and "手机号" not in admin_rows[0]
    assert len(admin_rows) == 4  # header + three informants, no personal columns
    assert not any(name in seen[ADMIN] for name in ("王秀英", "李四", "赵六", "+86138"))


async def test_download_link_is_single_use_and_expires(
    desk: DeskClient, clock: FixedClock
) -> None:
    await _world(desk)
    done = await desk.post("exports", _form(), user=COORD)
    link = LINK.search(done.text)
    assert link
    async with desk.client.head(link.group(1)) as head:  # a check does not use it up
        assert head.status == 200
    async with desk.client.get(link.group(1)) as first:
        assert first.status == 200
    async with desk.client.get(link.group(1)) as again:
        assert again.status == 410
        assert "已经使用过" in await again.text()
    async with desk.client.get("/desk/download/" + "A" * 43) as forged:
        assert forged.status == 410
    done = await desk.post("exports", _form(), user=COORD)
    late = LINK.search(done.text)
    assert late
    clock.advance(minutes=desk.runtime.settings.desk.export_link_minutes + 1)
    async with desk.client.get(late.group(1)) as expired:
        assert expired.status == 410
    async with desk.runtime.sessions() as s:
        actions = (
            (await s.execute(select(AuditLog.action).where(AuditLog.action.like("export.%"))))
            .scalars()
            .all()
        )
    assert actions.count("export.create") == 2 and actions.count("export.download") == 1


async def test_out_of_scope_is_refused_403_and_audited(desk: DeskClient) -> None:
    ids = await _world(desk)
    outside_region = await desk.post("exports", _form(region="330200"), user=COORD)
    outside_station = await desk.post("exports", _form(station=str(ids["ningbo"])), user=COUNTY)
    assert outside_region.status == 403 and outside_station.status == 403
    assert "/desk/download/" not in outside_region.text + outside_station.text
    async with desk.runtime.sessions() as s:
        refused = (
            await s.execute(
                select(AuditLog.action, AuditLog.subject_type).where(AuditLog.allowed.is_(False))
            )
        ).all()
    assert ("desk:exports", "region") in refused and ("desk:exports", "station") in refused


async def test_bad_input_keeps_the_form_with_a_clear_answer(desk: DeskClient) -> None:
    await _world(desk)
    bad = await desk.post("exports", _form(date_from="2月30日", date_to="2026-11-30"), user=COORD)
    assert bad.status == 400 and "2月30日" in bad.text and "不存在" in bad.text
    assert 'value="2026-11-30"' in bad.text  # what was typed is kept
    backwards = await desk.post(
        "exports", _form(date_from="2026-11-30", date_to="2026-11-01"), user=COORD
    )
    assert backwards.status == 400 and "结束" in backwards.text
    # Natural Chinese dates are read (relative to the desk's today, 2026-11-23).
    natural = await desk.post(
        "exports", _form(date_from="11月1日", date_to="今天", format="csv"), user=COORD
    )
    assert natural.status == 200 and "2026年11月1日" in natural.text


async def test_send_to_my_chat_goes_through_the_outbox(desk: DeskClient) -> None:
    await _world(desk)
    done = await desk.post("exports", _form(deliver="chat", format="csv"), user=COORD)
    assert done.status == 200 and "/desk/download/" not in done.text
    async with desk.runtime.sessions() as s:
        rows = (
            (await s.execute(select(OutboxMessage).where(OutboxMessage.chat_id == COORD)))
            .scalars()
            .all()
        )
    assert len(rows) == 1 and rows[0].payload["method"] == "sendDocument"
    upload = rows[0].payload["files"]["document"]
    assert upload["filename"].endswith(".csv")
    assert base64.b64decode(upload["content"]).startswith(b"\xef\xbb\xbf")
