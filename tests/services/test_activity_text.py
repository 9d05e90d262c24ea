"""Tests for the one-message activity report parser."""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.services.activity_text import (
    ACTIVITY_TYPES,
    CAMPAIGNS,
    MAX_TEXT_CHARS,
    MAX_TITLE_CHARS,
    REQUIRED_FIELDS,
    ActivityParse,
    parse_activity_text,
)

TODAY = date(2026, 11, 29)  # a Sunday
ERROR_CODES = {
    "date_in_future",
    "date_too_old",
    "date_invalid",
    "participants_zero",
    "participants_too_many",
    "participants_negative",
    "text_too_long",
}


def draft(**fields: Any) -> ActivityParse:
    """Build the expected parse: an activity with nothing found unless given."""
    values: dict[str, Any] = {
        "is_activity": True,
        "type": None,
        "held_on": None,
        "held_at_time": None,
        "participants": None,
        "participants_approx": False,
        "title": None,
        "campaign": None,
        "place": None,
        "errors": (),
    } | fields
    names = {"type": "type", "held_on": "held_on", "participants": "participants"}
    values["missing"] = tuple(
        name for name in REQUIRED_FIELDS if values[names.get(name, name)] is None
    )
    return ActivityParse(**values)


D = date
EXAMPLES: list[tuple[str, ActivityParse]] = [
    # The canonical example, dated in March: parsed, but flagged as too old to report now.
    ("#活动 3月12日 讲座 防范电信诈骗 45人",
     draft(type="lecture", held_on=D(2026, 3, 12), participants=45, title="防范电信诈骗",
           errors=("date_too_old",))),
    ("#活动 11月28日 讲座 防范电信诈骗 45人",
     draft(type="lecture", held_on=D(2026, 11, 28), participants=45, title="防范电信诈骗")),
    ("＃活动　11月25日　讲座　防范电信诈骗　四十五人",
     draft(type="lecture", held_on=D(2026, 11, 25), participants=45, title="防范电信诈骗")),
    ("活动：昨天 在社区活动室开展防诈骗知识竞赛，参与80人",
     draft(type="competition", held_on=D(2026, 11, 28), participants=80,
           title="防诈骗知识竞赛", place="社区活动室")),
    ("#activity 2026-11-20 lecture: Staying safe online, about 120 people",
     draft(type="lecture", held_on=D(2026, 11, 20), participants=120, participants_approx=True,
           title="Staying safe online")),
    ("#活动\n时间：2026年11月20日 下午3点\n类型：展览\n主题：《垃圾分类》科普展\n"
     "参加人数：200\n地点：幸福社区广场",
     draft(type="exhibition", held_on=D(2026, 11, 20), held_at_time=time(15), participants=200,
           title="《垃圾分类》科普展", place="幸福社区广场")),
    ("📢#活动 #全国科普日 11/26 义诊 健康咨询进社区 约60人 👍",
     draft(type="consultation", held_on=D(2026, 11, 26), participants=60,
           participants_approx=True, title="健康咨询进社区", campaign="science_day")),
    ("#活动 上周三 直播 科学防疫 线上观看1.2万人次",
     draft(type="online_live", held_on=D(2026, 11, 18), participants=12000,
           title="科学防疫 线上观看")),
    ("#活动 昨天 防诈骗讲座",
     draft(type="lecture", held_on=D(2026, 11, 28), title="防诈骗讲座")),
    ("#活动 前天 其他 0人",
     draft(type="other", held_on=D(2026, 11, 27), participants=0,
           errors=("participants_zero",))),
    ("#活动 【科技活动周】 科普讲座 11月27日 群众近百人参加",
     draft(type="lecture", held_on=D(2026, 11, 27), participants=100, participants_approx=True,
           title="科普讲座", campaign="st_week")),
    ("#活动 11/12 培训 老年人智能手机培训班 25人 （第二期）",
     draft(type="lecture", held_on=D(2026, 11, 12), participants=25,
           title="老年人智能手机培训班 （第二期）")),
    ("#活动 2月30日 讲座 急救知识 5人",
     draft(type="lecture", participants=5, title="急救知识", errors=("date_invalid",),
           bad_date="2月30日")),
    # 26/11 is month 26 under the month/day rule: refused and named, not guessed.
    ("#活动 26/11 展板 垃圾分类 30人",
     draft(type="exhibition", participants=30, title="垃圾分类", errors=("date_invalid",),
           bad_date="26/11")),
    ("#活动 1/12 讲座 垃圾分类 30人",
     draft(type="lecture", held_on=D(2026, 1, 12), participants=30, title="垃圾分类",
           errors=("date_too_old",))),
    ("#活动 11/26 展板 垃圾分类 -45人",
     draft(type="exhibition", held_on=D(2026, 11, 26), title="垃圾分类",
           errors=("participants_negative",))),
    ("#活动 2026年11月20日 下午3点 科普展览 120人",
     draft(type="exhibition", held_on=D(2026, 11, 20), held_at_time=time(15), participants=120,
           title="科普展览")),
    ("#活动 二〇二六年十一月二十日 上午九点半 讲座 反邪教宣传 一百二十人",
     draft(type="lecture", held_on=D(2026, 11, 20), held_at_time=time(9, 30), participants=120,
           title="反邪教宣传")),
    ("#活动 十一月二十日 咨询 心理健康 三十多人",
     draft(type="consultation", held_on=D(2026, 11, 20), participants=30,
           participants_approx=True, title="心理健康")),
    ("#活动 2026/11/21 quiz 垃圾分类知识竞答 50 people",
     draft(type="competition", held_on=D(2026, 11, 21), participants=50,
           title="垃圾分类知识竞答")),
    ("#活动 2026.11.22 比赛 青少年机器人 参加人数：80",
     draft(type="competition", held_on=D(2026, 11, 22), participants=80, title="青少年机器人")),
    ("#活动 今天 14:30 直播 天宫课堂观看 200人",
     draft(type="online_live", held_on=D(2026, 11, 29), held_at_time=time(14, 30),
           participants=200, title="天宫课堂观看")),
    ("#活动 周三 讲座 防溺水安全 约50人左右",
     draft(type="lecture", held_on=D(2026, 11, 25), participants=50, participants_approx=True,
           title="防溺水安全")),
    ("#活动 10月30日 讲座 防诈骗 40人",  # exactly 30 days ago: still fine
     draft(type="lecture", held_on=D(2026, 10, 30), participants=40, title="防诈骗")),
    ("#活动 10月29日 讲座 防诈骗 40人",
     draft(type="lecture", held_on=D(2026, 10, 29), participants=40, title="防诈骗",
           errors=("date_too_old",))),
    ("#活动 12月1日 讲座 防诈骗 40人",
     draft(type="lecture", held_on=D(2026, 12, 1), participants=40, title="防诈骗",
           errors=("date_in_future",))),
    ("#活动 12月31日 讲座 防诈骗 40人",  # beyond the 30-day window: last year's
     draft(type="lecture", held_on=D(2025, 12, 31), participants=40, title="防诈骗",
           errors=("date_too_old",))),
    ("#活动", draft()),
    ("今天讲座，防范电信诈骗，来了45人",
     draft(is_activity=False, type="lecture", held_on=D(2026, 11, 29), participants=45,
           title="防范电信诈骗")),
    ("#活动 #科普日 昨天 展示 科普知识 100+人",
     draft(type="exhibition", held_on=D(2026, 11, 28), participants=100,
           participants_approx=True, title="科普知识", campaign="science_day")),
    ("#Activity yesterday training: First aid basics, 35 participants",
     draft(type="lecture", held_on=D(2026, 11, 28), participants=35, title="First aid basics")),
    ("#activity 2026-11-27 talk Climate change 40 attendees, place: Town library",
     draft(type="lecture", held_on=D(2026, 11, 27), participants=40, title="Climate change",
           place="Town library")),
    ("#活动\n\n11月20日\n讲座\n\n主题：科学育儿\n人数：60人\n\n本次讲座邀请了市妇幼保健院医生……",
     draft(type="lecture", held_on=D(2026, 11, 20), participants=60, title="科学育儿")),
    ("#活动 11月20日 讲座 防范电信诈骗 45人 🔥🔥",
     draft(type="lecture", held_on=D(2026, 11, 20), participants=45, title="防范电信诈骗")),
    ("#活动 11月20日 讲座 🚒消防安全进校园 300人",
     draft(type="lecture", held_on=D(2026, 11, 20), participants=300, title="消防安全进校园")),
    ("#活动 11月20日 讲座 《防范电信诈骗》 45人",
     draft(type="lecture", held_on=D(2026, 11, 20), participants=45, title="《防范电信诈骗》")),
    ("#活动 11月20日 讲座 防范电信诈骗 150000人",
     draft(type="lecture", held_on=D(2026, 11, 20), participants=150000, title="防范电信诈骗",
           errors=("participants_too_many",))),
    ("#活动 星期天 义诊 重阳节健康义诊 上百人",
     draft(type="consultation", held_on=D(2026, 11, 29), participants=100,
           participants_approx=True, title="重阳节健康义诊")),
    ("#活动 上午九点半 讲座 急救培训 20人",
     draft(type="lecture", held_at_time=time(9, 30), participants=20, title="急救培训")),
    ("#活动 昨晚7点 直播 观星科普 1,200人",
     draft(type="online_live", held_on=D(2026, 11, 28), held_at_time=time(19), participants=1200,
           title="观星科普")),
    ("#活动 2026-11-20 讲座 防范电信诈骗 讲师2人 听众45人",  # the labelled count wins
     draft(type="lecture", held_on=D(2026, 11, 20), participants=45,
           title="防范电信诈骗 讲师2人")),
    ("#活动 11月20日 线上讲座 防范电信诈骗 45人",  # strong word 讲座 beats weak 线上
     draft(type="lecture", held_on=D(2026, 11, 20), participants=45,
           title="线上讲座 防范电信诈骗")),
    ("#活动 11月20日 科普讲座：走近人工智能，地点：县图书馆，参与120人。",
     draft(type="lecture", held_on=D(2026, 11, 20), participants=120,
           title="科普讲座：走近人工智能", place="县图书馆")),
    ("#活动 11/20 exhibition Robots at the station 20人",
     draft(type="exhibition", held_on=D(2026, 11, 20), participants=20,
           title="Robots at the station")),
    ("讲座 防范电信诈骗 45人 昨天",
     draft(is_activity=False, type="lecture", held_on=D(2026, 11, 28), participants=45,
           title="防范电信诈骗")),
    ("#活动 11.20 科技周 网课 趣味物理 八十人",
     draft(type="online_live", held_on=D(2026, 11, 20), participants=80, title="趣味物理",
           campaign="st_week")),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), EXAMPLES, ids=[t[:24] for t, _ in EXAMPLES])
def test_examples(text: str, expected: ActivityParse) -> None:
    assert parse_activity_text(text, today=TODAY) == expected


def test_example_table_is_large_and_varied() -> None:
    assert len(EXAMPLES) >= 30
    assert {e.type for _, e in EXAMPLES} >= set(ACTIVITY_TYPES)
    assert {e.campaign for _, e in EXAMPLES} >= set(CAMPAIGNS)


def test_missing_lists_codes_in_a_fixed_order() -> None:
    result = parse_activity_text("#活动 随便说点什么", today=TODAY)
    assert result.missing == ("type", "held_on", "participants")
    assert result.title == "随便说点什么"
    assert not result.is_complete
    assert parse_activity_text("", today=TODAY).missing == REQUIRED_FIELDS


@pytest.mark.parametrize(
    "trigger", ["#活动", "＃活动", "#activity", "#ACTIVITY", "活动：", "活动:"]
)
def test_triggers(trigger: str) -> None:
    assert parse_activity_text(f"{trigger} 昨天 讲座 防诈骗 5人", today=TODAY).is_activity


@pytest.mark.parametrize("text", ["活动报告 昨天", "#活动周", "#activitylog", "今天的活动：讲座"])
def test_not_triggers(text: str) -> None:
    assert not parse_activity_text(text, today=TODAY).is_activity


def test_huge_input_is_capped() -> None:
    result = parse_activity_text("#活动 昨天 讲座 防诈骗 5人 " + "很" * 1_000_000, today=TODAY)
    assert result.errors == ("text_too_long",)
    assert result.participants == 5
    assert result.title is not None and len(result.title) <= MAX_TITLE_CHARS


_PIECES = [
    "#活动", "＃活动", "#activity", "活动：", "讲座", "展览", "咨询", "竞赛", "直播", "其他",
    "quiz", "3月12日", "十二月三十一号", "2026-03-12", "12/3", "31/4", "昨天", "上周三",
    "下午3点", "14:30",
    "45人", "四十五人", "三十多人", "约", "近百", "人", "人数：", "1,200", "万", "零", "十",
    "在", "举办", "地点：", "#科普日", "科技活动周", "【", "】", "《", "）", "，", "：", ":", " ",
    "\n", "\t", "　", "🔥", "\u200d", "\ufe0f", "\ud800", "\x00", "a", "Z", "防诈骗", "people",
]  # fmt: skip
_MESSAGES = st.one_of(
    st.text(max_size=300),
    st.text(st.characters(codec=None, exclude_categories=()), max_size=200),
    st.lists(st.sampled_from(_PIECES), max_size=40).map("".join),
)


def _check_invariants(result: ActivityParse) -> None:
    """Assert what holds for every parse, whatever the input."""
    found = {
        "type": result.type,
        "held_on": result.held_on,
        "participants": result.participants,
        "title": result.title,
    }
    assert result.missing == tuple(k for k in REQUIRED_FIELDS if found[k] is None)
    assert result.is_complete or result.missing
    assert set(result.errors) <= ERROR_CODES
    assert result.type is None or result.type in ACTIVITY_TYPES
    assert result.campaign is None or result.campaign in CAMPAIGNS
    assert result.participants is None or result.participants >= 0
    assert result.participants_approx <= (result.participants is not None)
    if result.title is not None:
        assert result.title == result.title.strip() and 0 < len(result.title) <= MAX_TITLE_CHARS


@settings(max_examples=300)
@given(_MESSAGES, st.dates(date(2000, 1, 1), date(2099, 12, 31)))
def test_never_raises_and_is_complete_or_says_what_is_missing(text: str, today: date) -> None:
    _check_invariants(parse_activity_text(text, today=today))


@settings(deadline=None)  # 4 KB texts: timing varies on a loaded machine
@given(st.text(max_size=50), st.integers(MAX_TEXT_CHARS - 10, MAX_TEXT_CHARS + 10))
def test_length_cap_boundary(tail: str, size: int) -> None:
    text = ("讲" * size + tail)[:size]
    result = parse_activity_text(text, today=TODAY)
    assert ("text_too_long" in result.errors) == (size > MAX_TEXT_CHARS)
    _check_invariants(result)


_TYPE_WORD = st.sampled_from(
    [("讲座", "lecture"), ("培训", "lecture"), ("展览", "exhibition"), ("义诊", "consultation"),
     ("竞赛", "competition"), ("直播", "online_live"), ("其他", "other"), ("lecture", "lecture"),
     ("quiz", "competition")]
)  # fmt: skip
_TITLE = st.lists(
    st.sampled_from(
        ["防范", "电信", "诈骗", "垃圾", "分类", "健康", "急救", "节水", "环保", "天文"]
    ),
    min_size=1,
    max_size=4,
).map("".join)
_DATE_FORM = st.sampled_from(
    [lambda d: f"{d.month}月{d.day}日", lambda d: f"{d:%Y-%m-%d}", lambda d: f"{d.month}/{d.day}",
     lambda d: f"{d.year}年{d.month}月{d.day}号"]
)  # fmt: skip


@given(
    st.integers(0, 30),
    _DATE_FORM,
    _TYPE_WORD,
    _TITLE,
    st.integers(1, 9999),
    st.permutations(range(4)),
    st.sampled_from([" ", "，", "\n", "　"]),
)
def test_composed_messages_parse_back(
    back: int,
    render: Any,
    type_word: tuple[str, str],
    title: str,
    count: int,
    order: list[int],
    separator: str,
) -> None:
    held_on = TODAY - timedelta(days=back)
    parts = [render(held_on), type_word[0], title, f"{count}人"]
    text = "#活动 " + separator.join(parts[i] for i in order)
    result = parse_activity_text(text, today=TODAY)
    assert (result.type, result.held_on, result.participants) == (type_word[1], held_on, count)
    assert result.errors == ()
    if separator != "\n" or order[0] == 2:
        assert result.title == title  # with line breaks only the first non-empty line is kept
