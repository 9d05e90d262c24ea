"""Tests for Arabic and Chinese numeral parsing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.zh_numbers import Quantity, parse_number, parse_quantity

_DIGITS = "零一二三四五六七八九"
_UNITS = ((10_000, "万"), (1000, "千"), (100, "百"), (10, "十"), (1, ""))


def render_chinese(n: int, *, liang: bool = False, yi_shi: bool = False) -> str:
    """Render 0..99999 the way it is written in Chinese (一百零五, 一万零一十)."""
    if n == 0:
        return "零"
    out: list[str] = []
    started = pending_zero = False
    for value, name in _UNITS:
        digit = n // value % 10
        if digit == 0:
            pending_zero = started
            continue
        if pending_zero:
            out.append("零")
            pending_zero = False
        if digit == 1 and value == 10 and not started and not yi_shi:
            out.append("十")
        else:
            out.append(("两" if liang and digit == 2 and value >= 100 else _DIGITS[digit]) + name)
        started = True
    return "".join(out)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("45", 45),
        ("４５", 45),
        (" 120 ", 120),
        ("1,200", 1200),
        ("1.5万", 15000),
        ("3万", 30000),
        ("0", 0),
        ("零", 0),
        ("十", 10),
        ("十五", 15),
        ("二十", 20),
        ("四十五", 45),
        ("一百二十", 120),
        ("一百零五", 105),
        ("两千三百", 2300),
        ("一千零一十", 1010),
        ("一万二", 12000),
        ("两千三", 2300),
        ("一百二", 120),
        ("一万零二", 10002),
        ("一万二千三", 12300),
        ("二〇二六", 2026),
        ("三亿五千万", 350_000_000),
        ("贰拾伍", 25),
    ],
)
def test_parse_number_exact(text: str, expected: int) -> None:
    assert parse_number(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "  ", "abc", "百", "三十多", "约120", "1.5", "1.55", "十十", "一二三十", "1,2,3",
     "四十五人", "9" * 65, "一百千", "万", "零万"],
)  # fmt: skip
def test_parse_number_rejects(text: str) -> None:
    assert parse_number(text) is None


@pytest.mark.parametrize(
    ("text", "value", "approx"),
    [
        ("45", 45, False),
        ("四十五", 45, False),
        ("三十多", 30, True),
        ("三十余", 30, True),
        ("十几", 10, True),
        ("100多", 100, True),
        ("约120", 120, True),
        ("大约120", 120, True),
        ("120左右", 120, True),
        ("近百", 100, True),
        ("上百", 100, True),
        ("百余", 100, True),
        ("上千", 1000, True),
        ("100+", 100, True),
        ("～200", 200, True),
    ],
)
def test_parse_quantity(text: str, value: int, approx: bool) -> None:
    assert parse_quantity(text) == Quantity(value=value, approx=approx)


@pytest.mark.parametrize("text", ["", "多", "约", "百", "几", "约多", "40-30"])
def test_parse_quantity_rejects(text: str) -> None:
    assert parse_quantity(text) is None


@given(st.integers(0, 99_999), st.booleans(), st.booleans())
def test_chinese_numerals_round_trip(n: int, liang: bool, yi_shi: bool) -> None:
    assert parse_number(render_chinese(n, liang=liang, yi_shi=yi_shi)) == n


@given(
    st.integers(1, 9),
    st.integers(1, 9),
    st.sampled_from([(100, "百"), (1000, "千"), (10**4, "万")]),
)
def test_elided_trailing_digit_means_next_lower_unit(
    lead: int, tail: int, unit: tuple[int, str]
) -> None:
    value, name = unit
    text = f"{_DIGITS[lead]}{name}{_DIGITS[tail]}"
    assert parse_number(text) == lead * value + tail * value // 10


@given(st.integers(0, 10**12), st.booleans())
def test_arabic_round_trip(n: int, full_width: bool) -> None:
    text = str(n)
    if full_width:
        text = text.translate({ord(d): 0xFF10 + int(d) for d in "0123456789"})
    assert parse_number(text) == n
    assert parse_number(f"{n:,}") == n


@given(st.text(max_size=80))
def test_never_raises(text: str) -> None:
    value = parse_number(text)
    quantity = parse_quantity(text)
    assert value is None or value >= 0
    assert quantity is None or quantity.value >= 0
    if value is not None:
        assert quantity == Quantity(value=value, approx=False)
