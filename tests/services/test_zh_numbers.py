"""Tests for Arabic and Chinese numeral parsing."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bot.core.zh_numbers import (
    Quantity,
    QuantityError,
    parse_number,
    parse_quantity,
    read_quantity,
)

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


_FULL_WIDTH = {ord(d): 0xFF10 + int(d) for d in "0123456789"} | {ord(","): ord("，")}
_HEDGES_BEFORE = ["约", "大约", "大概", "差不多", "将近", "接近"]
_HEDGES_AFTER = ["左右", "上下", "以上"]
_UNITS_WRITTEN = ["", "人", "个人", "名", "位", "人次"]


def _styles(n: int) -> list[str]:
    """Every way the corpus writes a count n (digits, grouped, full width, Chinese, 万)."""
    styles = [str(n), f"{n:,}", f"{n:,}".translate(_FULL_WIDTH), render_chinese(n)]
    if n % 1000 == 0 and n >= 10_000:
        styles.append(f"{n / 10_000:g}万")
    return styles


@given(
    st.integers(1, 99_999),
    st.data(),
    st.sampled_from(_UNITS_WRITTEN),
    st.sampled_from(["", " "]),
)
def test_read_quantity_round_trips_every_style(
    n: int, data: st.DataObject, unit: str, gap: str
) -> None:
    written = data.draw(st.sampled_from(_styles(n)))
    assert read_quantity(f"{written}{gap}{unit}") == Quantity(n, approx=False)


@given(
    st.integers(1, 99_999),
    st.data(),
    st.sampled_from(_HEDGES_BEFORE),
    st.sampled_from(_HEDGES_AFTER),
    st.sampled_from(["人", "名"]),
    st.booleans(),
)
def test_read_quantity_round_trips_hedged_counts(
    n: int, data: st.DataObject, before: str, after: str, unit: str, prefix: bool
) -> None:
    written = data.draw(st.sampled_from(_styles(n)))
    text = f"{before} {written} {unit}" if prefix else f"{written}{unit}{after}"
    assert read_quantity(text) == Quantity(n, approx=True)


@given(st.integers(1, 99_999), st.sampled_from(["-", "－", "负", "- "]), st.data())
def test_negative_counts_are_refused_never_flipped(n: int, sign: str, data: st.DataObject) -> None:
    written = data.draw(st.sampled_from(_styles(n)[:3]))
    with pytest.raises(QuantityError) as caught:
        read_quantity(f"{sign}{written}人")
    assert caught.value.code == "negative"


@given(st.integers(1, 9), st.sampled_from([(10, "十"), (100, "百"), (1000, "千")]))
def test_spoken_ranges_count_their_lower_end(low: int, unit: tuple[int, str]) -> None:
    value, name = unit
    assume(low < 9)
    text = f"{_DIGITS[low]}{_DIGITS[low + 1]}{name}人"
    assert read_quantity(text) == Quantity(low * value, approx=True)


@pytest.mark.parametrize(
    ("text", "code"),
    [("", "empty"), ("  ", "empty"), ("很多", "unreadable"), ("0", "zero"), ("零人", "zero"),
     ("-45人", "negative"), ("1.5", "unreadable")],
)  # fmt: skip
def test_read_quantity_refusals(text: str, code: str) -> None:
    with pytest.raises(QuantityError) as caught:
        read_quantity(text)
    assert caught.value.code == code


def test_read_quantity_limit() -> None:
    with pytest.raises(QuantityError) as caught:
        read_quantity("约100001人", limit=100_000)
    assert caught.value.code == "too_many" and caught.value.params["limit"] == 100_000
    assert read_quantity("约100000人", limit=100_000) == Quantity(100_000, approx=True)
