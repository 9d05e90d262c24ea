"""/printpack end to end: the week's posters as one A4 PDF, Chinese text and QR codes.

The PDF comes as a document through the outbox; pypdf reads it back: every page is A4,
the Chinese title, summary and station name are extractable text in an embedded Noto
Sans CJK face, and each page's QR code (decoded with zxing-cpp) holds the page's tracked
link, which is also written under it and is the admin's link of channel "print".
"""

from __future__ import annotations

import io
import re
import zlib

import pypdf
import zxingcpp
from PIL import Image, ImageOps
from sqlalchemy import select

from bot.sandbox.factories import make_station
from bot.sandbox.harness import RunningBot
from storage.models import ContentItem, Station, TrackedLink
from tests.content_originals.test_originals_e2e import import_pack
from tests.content_push.conftest import grant, seed_world

A4 = (595.28, 841.89)


def fonts_of(page: pypdf.PageObject) -> list[dict]:
    fonts = page["/Resources"]["/Font"]
    out = []
    for ref in fonts.values():
        font = ref.get_object()
        descendant = font["/DescendantFonts"][0].get_object()
        out.append(
            {
                "name": str(font["/BaseFont"]),
                "embedded": "/FontFile2" in descendant["/FontDescriptor"].get_object(),
                "to_unicode": "/ToUnicode" in font,
            }
        )
    return out


def unpredict(data: bytes, row_bytes: int, rows: int) -> bytes:
    """Undo the PNG predictors of a flate stream (one filter byte a row, 1 byte a pixel)."""
    out, prev = bytearray(), bytearray(row_bytes)
    for y in range(rows):
        start = y * (row_bytes + 1)
        kind, row = data[start], bytearray(data[start + 1 : start + 1 + row_bytes])
        for i in range(row_bytes):
            a = row[i - 1] if i else 0
            b, c = prev[i], (prev[i - 1] if i else 0)
            if kind == 1:
                row[i] = (row[i] + a) & 255
            elif kind == 2:
                row[i] = (row[i] + b) & 255
            elif kind == 3:
                row[i] = (row[i] + (a + b) // 2) & 255
            elif kind == 4:
                p, guess = a + b - c, a
                if abs(p - a) > abs(p - b) or abs(p - a) > abs(p - c):
                    guess = b if abs(p - b) <= abs(p - c) else c
                row[i] = (row[i] + guess) & 255
        out += row
        prev = row
    return bytes(out)


def qr_links(page: pypdf.PageObject) -> list[str]:
    """Decode the page's QR codes: its square two-colour images.

    matplotlib stores a two-colour picture as a 1-bit indexed image with PNG predictors,
    which pypdf 7 unpacks wrongly, so the stream is inflated and unpacked here.
    """
    found = []
    # matplotlib shares one resource dictionary between pages: keep the images drawn here.
    drawn = set(re.findall(rb"/(\w+) Do", page.get_contents().get_data()))
    for name, ref in page["/Resources"]["/XObject"].items():
        if name[1:].encode() not in drawn:
            continue
        xobject = ref.get_object()
        width, height = int(xobject["/Width"]), int(xobject["/Height"])
        if xobject["/BitsPerComponent"] != 1 or abs(width - height) > 2:
            continue
        row_bytes = (width + 7) // 8
        pixels = unpredict(zlib.decompress(xobject._data), row_bytes, height)
        bits = Image.frombytes("1", (width, height), pixels)
        palette = bytes(xobject["/ColorSpace"][3])  # index 0, then 1, as RGB
        picture = bits.convert("L")
        if palette[:1] == b"\xff":  # index 0 is white: PIL shows bit 0 as black
            picture = ImageOps.invert(picture)
        found += [code.text for code in zxingcpp.read_barcodes(picture)]
    return found


async def test_station_admin_gets_the_weeks_posters_as_an_a4_pdf(any_bot: RunningBot) -> None:
    bot = any_bot
    sb = bot.sandbox
    await import_pack(bot)
    admin = sb.user("站点管理员小周", started=True)
    [informant_id] = await seed_world(bot.runtime, [admin])
    async with bot.runtime.sessions() as session:
        station = (await session.execute(select(Station))).scalar_one()
        posters = list(
            (
                await session.execute(
                    select(ContentItem)
                    .where(ContentItem.kind == "poster")
                    .order_by(ContentItem.publish_at, ContentItem.id)
                )
            ).scalars()
        )
    await grant(bot.runtime, admin.id, "station_admin", station_id=station.id)

    admin.mark_seen()
    await admin.command("printpack")
    ack = await admin.wait_for_message()
    assert "站点330106" in (ack.text or "") and f"{len(posters)}张挂图海报" in (ack.text or "")
    assert "2026年" in (ack.text or "")  # the window, said in the glossary's way
    doc = await admin.wait_for_message(timeout=60, predicate=lambda m: m.document is not None)
    assert doc.filename and doc.filename.endswith(".pdf")
    assert doc.raw["document"]["mime_type"] == "application/pdf"
    assert "打印包" in (doc.caption or "")

    reader = pypdf.PdfReader(io.BytesIO(doc.document_bytes() or b""))
    assert len(reader.pages) == len(posters)
    async with bot.runtime.sessions() as session:
        links = {
            link.content_id: link
            for link in (await session.execute(select(TrackedLink))).scalars()
            if link.channel == "print"
        }
    for page, poster in zip(reader.pages, posters, strict=True):
        box = page.mediabox
        assert abs(float(box.width) - A4[0]) < 0.5 and abs(float(box.height) - A4[1]) < 0.5
        text = page.extract_text()
        assert "站点330106" in text
        assert poster.title[:8] in text.replace("\n", "")
        assert poster.summary[:12] in text.replace("\n", "")
        assert "扫码阅读全文" in text
        link = links[poster.id]
        assert link.informant_id == informant_id
        url = f"http://kepu.test/s/{link.code}"
        assert url in text
        assert qr_links(page) == [url]
        fonts = fonts_of(page)
        assert fonts and all("NotoSansCJKsc" in f["name"] for f in fonts)
        assert all(f["embedded"] and f["to_unicode"] for f in fonts)
    # The posters with a picture show it (the print-size original), next to the QR code.
    handwash = next(i for i, p in enumerate(posters) if p.guid == "starter-health-003")
    page = reader.pages[handwash]
    drawn = set(re.findall(rb"/(\w+) Do", page.get_contents().get_data()))
    sizes = [
        (int(x["/Width"]), int(x["/Height"]))
        for name, x in ((n, r.get_object()) for n, r in page["/Resources"]["/XObject"].items())
        if name[1:].encode() in drawn
    ]
    assert (990, 1400) in sizes  # originals/handwash.png (2480×3508), 1400 px high


async def test_printpack_is_for_station_admins(bot_env) -> None:  # type: ignore[no-untyped-def]
    bot: RunningBot = bot_env
    reader = bot.sandbox.user("王秀英", started=True)
    await seed_world(bot.runtime, [reader])
    await import_pack(bot)
    reader.mark_seen()
    await reader.command("printpack")
    answer = await reader.wait_for_message()
    assert answer.document is None and "打印包" not in (answer.text or "")
    assert bot.sandbox.stats.calls.get("sendDocument", 0) == 0


async def test_admin_of_two_stations_picks_one_and_an_empty_week_says_so(
    bot_env: RunningBot,
    clock,  # type: ignore[no-untyped-def]
) -> None:
    bot = bot_env
    sb = bot.sandbox
    await import_pack(bot)
    admin = sb.user("县里的管理员", started=True)
    await seed_world(bot.runtime, [admin])
    async with bot.runtime.sessions() as session, session.begin():
        second = await make_station(session, name="第二个站点", county="330203")
        first = (
            await session.execute(select(Station).where(Station.id != second.id))
        ).scalar_one()
    await grant(bot.runtime, admin.id, "station_admin", station_id=first.id)
    await grant(bot.runtime, admin.id, "station_admin", station_id=second.id)

    admin.mark_seen()
    await admin.command("printpack")
    ask = await admin.wait_for_message()
    assert ask.text == "要为哪个科普e站生成打印包？"
    assert sorted(b.text for row in ask.buttons for b in row) == sorted(
        ["站点330106", "第二个站点"]
    )
    await admin.press(ask, "第二个站点")
    ack = await admin.wait_for_message()
    assert "第二个站点" in (ack.text or "") and "张挂图海报" in (ack.text or "")
    doc = await admin.wait_for_message(timeout=60, predicate=lambda m: m.document is not None)
    assert (
        "第二个站点"
        in pypdf.PdfReader(io.BytesIO(doc.document_bytes() or b"")).pages[0].extract_text()
    )

    # Eight days on, nothing was published in the last seven: no pack, and the window said.
    clock.advance(days=8)
    await admin.command("printpack")
    ask = await admin.wait_for_message()
    await admin.press(ask, "站点330106")
    empty = await admin.wait_for_message()
    assert "没有面向站点330106发布的挂图海报" in (empty.text or "")
    assert "2026年" in (empty.text or "")
    assert sb.stats.calls["sendDocument"] == 1
