"""Tests for finding dates and times in Chinese and numeric text."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from datetime import date, time, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bot.core.zh_dates import (
    FUTURE_WINDOW_DAYS,
    DateError,
    find_bad_date,
    infer_year,
    looks_like_date,
    parse_date,
    parse_time,
    parse_upcoming,
    read_date,
    read_upcoming,
)

TODAY = date(2026, 11, 29)  # a Sunday
_CN = "零一二三四五六七八九"


def cn_small(n: int) -> str:
    """Render 1..31 in Chinese numerals (十二, 二十一)."""
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else _CN[tens] + "十")
    return head + (_CN[ones] if ones else "")


def cn_year(year: int) -> str:
    """Render a year digit by digit (二〇二六)."""
    return "".join("〇" if d == "0" else _CN[int(d)] for d in str(year))


@pytest.mark.parametrize(
    ("text", "expected", "form"),
    [
        ("今天", date(2026, 11, 29), "relative"),
        ("今日", date(2026, 11, 29), "relative"),
        ("昨天", date(2026, 11, 28), "relative"),
        ("昨日", date(2026, 11, 28), "relative"),
        ("前天", date(2026, 11, 27), "relative"),
        ("大前天", date(2026, 11, 26), "relative"),
        ("Yesterday", date(2026, 11, 28), "relative"),
        ("3月12日", date(2026, 3, 12), "month_day"),
        ("3月12号", date(2026, 3, 12), "month_day"),
        ("3月12 讲座", date(2026, 3, 12), "month_day"),
        ("三月十二日", date(2026, 3, 12), "month_day"),
        ("十一月二十号", date(2026, 11, 20), "month_day"),
        ("１１月２０日", date(2026, 11, 20), "month_day"),
        ("2026年3月12日", date(2026, 3, 12), "ymd"),
        ("26年3月12日", date(2026, 3, 12), "ymd"),
        ("二〇二六年三月十二日", date(2026, 3, 12), "ymd"),
        ("2026-03-12", date(2026, 3, 12), "ymd"),
        ("2026/3/12", date(2026, 3, 12), "ymd"),
        ("2026.3.12", date(2026, 3, 12), "ymd"),
        ("2025-12-31", date(2025, 12, 31), "ymd"),
        ("3/12", date(2026, 3, 12), "month_day"),  # month/day, as Chinese users write it
        ("11/28", date(2026, 11, 28), "month_day"),
        ("11.20", date(2026, 11, 20), "month_day"),
        ("11-20", date(2026, 11, 20), "month_day"),
        ("1/12", date(2026, 1, 12), "month_day"),
        ("11/20日", date(2026, 11, 20), "month_day"),
        ("周三", date(2026, 11, 25), "weekday"),
        ("星期三", date(2026, 11, 25), "weekday"),
        ("礼拜天", date(2026, 11, 29), "weekday"),
        ("周日", date(2026, 11, 29), "weekday"),
        ("上周三", date(2026, 11, 18), "weekday"),
        ("上个星期五", date(2026, 11, 20), "weekday"),
        ("本周一", date(2026, 11, 23), "weekday"),
        ("下周一", date(2026, 11, 30), "weekday"),
    ],
)
def test_date_forms(text: str, expected: date, form: str) -> None:
    found = parse_date(text, today=TODAY)
    assert found is not None
    assert (found.value, found.form, found.start) == (expected, form, 0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12月1日", date(2026, 12, 1)),  # two days ahead: this year's, flagged later as future
        ("12月29日", date(2026, 12, 29)),  # exactly FUTURE_WINDOW_DAYS ahead
        ("12月30日", date(2025, 12, 30)),  # one day beyond the window: last year's
        ("12月31日", date(2025, 12, 31)),
        ("1月5日", date(2026, 1, 5)),
        ("2月29日", date(2024, 2, 29)),  # the latest year that has it
    ],
)
def test_year_inference(text: str, expected: date) -> None:
    found = parse_date(text, today=TODAY)
    assert found is not None and found.value == expected


def test_year_inference_crosses_new_year() -> None:
    assert infer_year(12, 28, today=date(2027, 1, 5)) == date(2026, 12, 28)
    assert infer_year(1, 20, today=date(2026, 12, 28)) == date(2027, 1, 20)
    assert infer_year(13, 1, today=TODAY) is None


@pytest.mark.parametrize(
    "text",
    ["2月30日", "2026年2月29日", "2026-13-01", "4/31", "26/11", "0月5日", "3月0日", "3月",
     "3月 45人", "3月12人", "一周一次", "活动报告", "", "12/3/2026", "11-20人", "1.5万",
     "体温36.5度", "2.5小时"],
)  # fmt: skip
def test_not_a_date(text: str) -> None:
    assert parse_date(text, today=TODAY) is None


def test_invalid_dates_still_look_like_dates() -> None:
    assert looks_like_date("2月30日")
    assert looks_like_date("26/11")
    assert not looks_like_date("防范电信诈骗 45人")


@pytest.mark.parametrize(
    ("text", "written"),
    [("#活动 2月30日 防范电信诈骗", "2月30日"), ("4/31 讲座", "4/31"), ("26/11", "26/11"),
     ("2026年2月29日", "2026年2月29日"), ("4.31", "4.31")],
)  # fmt: skip
def test_bad_dates_are_named(text: str, written: str) -> None:
    bad = find_bad_date(text)
    assert bad is not None and bad.written == written
    assert text[bad.start : bad.end].strip() == written
    with pytest.raises(DateError) as caught:
        read_date(text, today=TODAY)
    assert caught.value.code == "impossible" and caught.value.params["written"] == written


@pytest.mark.parametrize("text", ["体温36.5度", "1.5万人", "11-20人", "讲座"])
def test_no_bad_date_in_ordinary_numbers(text: str) -> None:
    assert find_bad_date(text) is None


def test_span_points_into_original_text() -> None:
    text = "#活动 讲座 2026年３月１２日 下午3点 45人"
    found = parse_date(text, today=TODAY)
    assert found is not None
    assert text[found.start : found.end] == "2026年３月１２日 下午3点"
    assert found.time == time(15, 0)


def test_earliest_date_wins() -> None:
    found = parse_date("昨天补报：3月12日的讲座", today=TODAY)
    assert found is not None and found.value == date(2026, 11, 28)


def test_range_keeps_first_day_and_spans_the_range() -> None:
    text = "3月12日-14日 科普展"
    found = parse_date(text, today=TODAY)
    assert found is not None
    assert (found.value, text[found.start : found.end]) == (date(2026, 3, 12), "3月12日-14日")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("下午3点", time(15, 0)),
        ("14:30", time(14, 30)),
        ("１４：３０", time(14, 30)),
        ("上午九点半", time(9, 30)),
        ("晚上7点15分", time(19, 15)),
        ("下午三点一刻", time(15, 15)),
        ("15时30分", time(15, 30)),
        ("中午12点", time(12, 0)),
        ("中午1点", time(13, 0)),
        ("凌晨12点", time(0, 0)),
        ("3pm", time(15, 0)),
        ("9:00 am", time(9, 0)),
        ("9:00-11:00", time(9, 0)),
        ("十点", time(10, 0)),
        ("3点开始", time(15, 0)),  # a bare 1..6 o'clock is read as afternoon
        ("凌晨3点", time(3, 0)),
        ("7点", time(7, 0)),
        ("03:00", time(3, 0)),  # the colon form is a 24-hour clock
    ],
)
def test_time_forms(text: str, expected: time) -> None:
    found = parse_time(text)
    assert found is not None and found.value == expected


@pytest.mark.parametrize("text", ["多一点", "提出3点建议", "25:00", "9:75", "今天", "24点"])
def test_not_a_time(text: str) -> None:
    assert parse_time(text) is None


def test_minutes_never_swallow_a_head_count() -> None:
    found = parse_time("3点 45人")
    assert found is not None and (found.value, found.end) == (time(15, 0), 2)


def test_evening_relative_word_sets_pm() -> None:
    found = parse_date("昨晚7点 直播", today=TODAY)
    assert found is not None and (found.value, found.time) == (date(2026, 11, 28), time(19, 0))


Render = Callable[[date], str]
_WINDOW = st.dates(TODAY - timedelta(days=365), TODAY + timedelta(days=365))
_YEAR_FORMS: list[Render] = [
    lambda d: f"{d.year}年{d.month}月{d.day}日",
    lambda d: f"{d:%Y-%m-%d}",
    lambda d: f"{d.year}/{d.month}/{d.day}",
    lambda d: f"{d.year}.{d.month}.{d.day}",
    lambda d: f"{cn_year(d.year)}年{cn_small(d.month)}月{cn_small(d.day)}日",
    lambda d: f"{d.year % 100}年{d.month}月{d.day}号",
]
_YEARLESS_FORMS: list[Render] = [
    lambda d: f"{d.month}月{d.day}日",
    lambda d: f"{d.month}月{d.day}号",
    lambda d: f"{cn_small(d.month)}月{cn_small(d.day)}日",
    lambda d: f"{d.month}/{d.day}",
    lambda d: f"{d.month}.{d.day}",
    lambda d: f"{d.month}-{d.day}",
    lambda d: f"{d.month:02d}/{d.day:02d}",
]


@given(_WINDOW, st.sampled_from(_YEAR_FORMS), st.sampled_from(["", "#活动 ", "讲座，"]))
def test_dated_forms_round_trip(day: date, render: Render, prefix: str) -> None:
    text = f"{prefix}{render(day)} 防范电信诈骗 45人"
    found = parse_date(text, today=TODAY)
    assert found is not None
    assert found.value == day
    assert text[found.start : found.end] == render(day)


@given(_WINDOW, st.sampled_from(_YEARLESS_FORMS))
def test_yearless_forms_round_trip_inside_the_window(day: date, render: Render) -> None:
    limit = TODAY + timedelta(days=FUTURE_WINDOW_DAYS)
    assume(limit - timedelta(days=365) < day <= limit)
    found = parse_date(f"#活动 {render(day)} 讲座", today=TODAY)
    assert found is not None and found.value == day


@given(st.integers(0, 6))
def test_relative_and_weekday_forms_round_trip(back: int) -> None:
    day = TODAY - timedelta(days=back)
    weekday = "一二三四五六日"[day.weekday()]
    for text in (f"周{weekday}", f"星期{weekday}"):
        found = parse_date(text, today=TODAY)
        assert found is not None and found.value == day
    if back <= 3:
        word = ("今天", "昨天", "前天", "大前天")[back]
        found = parse_date(word, today=TODAY)
        assert found is not None and found.value == day


@given(st.times())
def test_times_round_trip(moment: time) -> None:
    clock = time(moment.hour, moment.minute)
    found = parse_time(f"活动 {clock:%H:%M} 开始")
    assert found is not None and found.value == clock
    if 13 <= clock.hour <= 17:
        found = parse_time(f"下午{clock.hour - 12}点{clock.minute}分")
        assert found is not None and found.value == clock


@given(st.text(max_size=200), st.dates())
def test_never_raises(text: str, today: date) -> None:
    found = parse_date(text, today=today)
    if found is not None:
        assert 0 <= found.start < found.end <= len(text)
    parse_time(text)
    looks_like_date(text)


NOW = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-02 09:30", dt.datetime(2026, 12, 2, 9, 30)),
        ("2026/12/5 08:00", dt.datetime(2026, 12, 5, 8, 0)),
        ("12月3日 下午3点", dt.datetime(2026, 12, 3, 15, 0)),
        ("下周三 10:00", dt.datetime(2026, 12, 9, 10, 0)),
        # Passed this year and written without a year: next year's.
        ("11月20日 9:30", dt.datetime(2027, 11, 20, 9, 30)),
        # A written year is taken as written, even in the past (the caller refuses it).
        ("2026-12-01 09:30", dt.datetime(2026, 12, 1, 9, 30)),
    ],
)
def test_upcoming_moments_for_schedules(text: str, expected: dt.datetime) -> None:
    found = parse_upcoming(text, now=NOW)
    assert found is not None
    assert found.replace(tzinfo=None) == expected and found.utcoffset() == NOW.utcoffset()


@pytest.mark.parametrize("text", ["12月3日", "hello", "", "2月30日 10:00"])
def test_no_upcoming_moment_without_a_valid_date_and_time(text: str) -> None:
    assert parse_upcoming(text, now=NOW) is None


_NOW = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


@given(
    st.dates(date(2026, 12, 2), date(2027, 11, 30)),
    st.sampled_from(_YEARLESS_FORMS),
    st.sampled_from(["", " 下午3点", " 9:30"]),
)
def test_schedules_mean_the_next_such_day(day: date, render: Render, clock: str) -> None:
    moment = read_upcoming(render(day) + clock, now=_NOW)
    assert moment.date() == day and moment > _NOW
    assert moment.time() == {"": time(9), " 下午3点": time(15), " 9:30": time(9, 30)}[clock]


@given(st.integers(2020, 2030), st.integers(1, 12), st.integers(1, 3))
def test_a_day_past_the_end_of_its_month_is_named(year: int, month: int, past: int) -> None:
    first_of_next = date(year + month // 12, month % 12 + 1, 1)
    bad_day = (first_of_next - timedelta(days=1)).day + past
    forms = [f"{year}年{month}月{bad_day}日"]
    if (month, bad_day) != (2, 29):  # 2月29日 without a year is the last leap day
        forms += [f"{month}月{bad_day}日"] + ([f"{month}/{bad_day}"] if bad_day <= 31 else [])
    for written in forms:
        with pytest.raises(DateError) as caught:
            read_date(written, today=TODAY)
        assert caught.value.code == "impossible" and caught.value.params["written"] == written
