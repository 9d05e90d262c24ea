"""The invite poster carries a QR code that a real decoder reads back as the exact link."""

from __future__ import annotations

import io

import pytest
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from bot.reports.fonts import pil_font
from bot.reports.poster import PAGE_SIZE, render_invite_poster, wrap_text

from . import samples


def _decode(png: bytes) -> list[str]:
    with Image.open(io.BytesIO(png)) as image:
        assert image.size == PAGE_SIZE
        results = zxingcpp.read_barcodes(image.convert("RGB"))
    return [r.text for r in results if r.format == zxingcpp.BarcodeFormat.QRCode]


@pytest.mark.parametrize(
    ("station", "link"),
    [
        ("城关镇科普服务站", samples.INVITE_LINK),
        (samples.LONG_STATION, samples.INVITE_LINK),
        # The longest deep link Telegram allows: a 64-character payload.
        (samples.LONG_STATION * 3, f"https://t.me/kepu_estation_bot?start={'Zz9_-' * 12}abcd"),
    ],
    ids=["typical", "40-char-name", "max-payload-absurd-name"],
)
def test_qr_decodes_to_the_exact_link(station: str, link: str) -> None:
    png = render_invite_poster(
        station_name=station,
        link=link,
        heading=samples.HEADING,
        instructions=samples.INSTRUCTIONS,
        footer=samples.FOOTER,
    )
    assert _decode(png) == [link]


def test_long_station_name_wraps_within_the_page() -> None:
    font = pil_font(72)
    lines = wrap_text(samples.LONG_STATION, font, 1060)
    assert 2 <= len(lines) <= 3
    assert "".join(lines) == samples.LONG_STATION
    assert all(font.getlength(line) <= 1060 for line in lines)


def test_wrap_keeps_latin_words_whole_and_punctuation_off_line_starts() -> None:
    font = pil_font(36)
    text = "用微信扫描二维码，打开 Telegram 并点击开始。"
    for width in range(200, 700, 37):
        lines = wrap_text(text, font, width)
        assert all(not line.startswith(("，", "。")) for line in lines)
        assert sum(line.count("Telegram") for line in lines) == 1


@settings(max_examples=40, deadline=None)
@given(
    st.text(alphabet="科普中国信息员站点，。（）ab12 ", min_size=0, max_size=60),
    st.integers(min_value=60, max_value=800),
)
def test_wrap_loses_no_characters(text: str, width: int) -> None:
    lines = wrap_text(text, pil_font(30), width)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
