"""Find a Chinese or numeric date, and an optional time of day, inside free text.

Accepted date forms (the earliest one in the text wins; see docs/activity-message-format.md):

* relative: 今天/今日/今早/今晚/today, 昨天/昨日/昨晚/yesterday, 前天, 大前天; 明天, 后天
  (for schedules);
* weekday: 周三/星期三/礼拜三 (the latest such day on or before ``today``), 上周三 (last
  week's), 本周三/这周三 (this week's), 下周三 (next week's); weeks start on Monday;
* year-month-day: 2026年3月12日, 26年3月12日, 二〇二六年三月十二日, 2026-03-12, 2026/3/12,
  2026.3.12;
* month-day: 3月12日, 3月12号, 三月十二日, 3月12 (year inferred, see below);
* numeric month-day: ``11/20``, ``11.20`` and ``11-20`` are **month/day** as Chinese users
  write them (11月20日); not when a unit follows (``11-20人``, ``1.5万``, ``36.5度``).

Without a year, a date means the latest occurrence that is at most ``FUTURE_WINDOW_DAYS``
after ``today``: reports are about the past, yet a date a few days ahead is far more likely
this year's than one almost a year ago (the answer is then "that date is in the future",
not a silent jump to last year). A schedule (``read_upcoming``) means the next such date
instead. A time written right after the date (下午3点, 14:30, 上午九点半) is attached to it.
Impossible dates (2月30日, 4/31) are not dates; ``find_bad_date`` names them and
``read_date`` / ``read_upcoming`` refuse them with ``DateError("impossible")``.

Times: 下午/晚上/傍晚 add 12 hours; a bare 1..6点 means afternoon (3点 → 15:00, 凌晨3点 →
03:00); ``HH:MM`` is a 24-hour clock unless am/pm follows.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from bot.core.errors import DomainError
from bot.core.zh_numbers import fold_width, parse_number

FUTURE_WINDOW_DAYS = 30
MAX_TEXT_CHARS = 10_000

_CN_SMALL = "零〇一二两三四五六七八九十"
_NUM = rf"\d{{1,2}}|[{_CN_SMALL}]{{1,3}}"
_YEAR = r"\d{4}|\d{2}|[〇○零一二三四五六七八九]{4}"
_DAY_END = r"(?:[ \t]*[日号號]|(?![\d零〇一二两三四五六七八九十人名位个次场多余]))"
_RANGE_TAIL = rf"(?:[ \t]*[-~至到—–][ \t]*(?:(?:{_NUM})[ \t]*月[ \t]*)?(?:{_NUM})[ \t]*[日号號])?"

_RELATIVE_RE = re.compile(
    r"大前天|前天|前日|昨天|昨日|昨晚|昨早|今天|今日|今晚|今早|大后天|后天|明天|明日|明晚|明早"
    r"|(?<![A-Za-z])(?:today|yesterday)(?![A-Za-z])",
    re.IGNORECASE,
)
_WEEKDAY_RE = re.compile(
    r"(?<![一二三四五六七八九十两几每\d])(?:(?P<rel>上上|上|本|这|這|下)个?)?"
    r"(?:周|星期|礼拜|禮拜)(?P<wd>[一二三四五六日天])"
)
_YMD_CN_RE = re.compile(
    rf"(?<!\d)(?P<y>{_YEAR})[ \t]*年[ \t]*(?P<m>{_NUM})[ \t]*月[ \t]*(?P<d>{_NUM}){_DAY_END}"
)
_YMD_NUMERIC_RE = re.compile(
    r"(?<![\d.])(?P<y>\d{4})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})(?![\d])"
)
_MONTH_DAY_RE = re.compile(
    rf"(?<![\d年{_CN_SMALL}])(?P<m>{_NUM})[ \t]*月[ \t]*(?P<d>{_NUM}){_DAY_END}{_RANGE_TAIL}"
)
_MD_UNIT = (
    r"人|名|位|个|次|场|万|千|百|元|块|岁|期|届|年|点|时|小时|分|秒|米|公里|度|倍|%|号楼|楼|栋"
    r"|%"
)
_MD_NUMERIC_RE = re.compile(
    r"(?<![\d/.\-A-Za-z])(?P<m>\d{1,2})(?P<sep>[/.\-])(?P<d>\d{1,2})"
    # A unit right after it makes a count (11-20人), or after a space a lone 人 (11-20 人);
    # a word after a space is a title (11/29 分类讲座, 11/29 名师讲座).
    rf"(?![\d/.\-:A-Za-z])(?!(?:{_MD_UNIT}))(?![ \t]+(?:人|%)(?![\u4e00-\u9fff]))"
    r"(?:[ \t]*[日号號])?"
)
_LEAP_DAY = date(2024, 6, 1)
DEFAULT_SCHEDULE_TIME = time(9, 0)  # a schedule given as a bare date (11月20日) goes out at 9:00

_PERIOD = (
    r"(?:(?P<period>凌晨|清晨|早上|早晨|上午|中午|午后|下午|傍晚|晚上|夜里|夜间|晚间|早|晚)"
    r"[ \t]*)?"
)
_CLOCK_RE = re.compile(
    rf"{_PERIOD}(?<![\d:])(?P<h>\d{{1,2}}|[{_CN_SMALL}]{{1,3}})"
    r"[ \t]*(?:[点點][钟鐘]?|[时時])"
    rf"(?:(?P<half>半)|(?P<quarter>[一三])刻|(?P<m>\d{{1,2}}|[{_CN_SMALL}]{{1,3}})(?![\d人名位个])"
    r"[ \t]*分?)?"
)
_COLON_RE = re.compile(
    rf"{_PERIOD}(?<![\d:])(?P<h>\d{{1,2}}):(?P<m>\d{{2}})(?::\d{{2}})?(?![\d:])"
    r"(?:[ \t]*(?P<ampm>am|pm|a\.m\.|p\.m\.))?",
    re.IGNORECASE,
)
_AMPM_RE = re.compile(r"(?<![\d:])(?P<h>\d{1,2})[ \t]*(?P<ampm>am|pm)(?![A-Za-z])", re.I)
_TIME_TAIL_RE = re.compile(
    r"[ \t]*[-~至到—–][ \t]*(?:\d{1,2}:\d{2}|\d{1,2}[点时](?:半|\d{1,2}分?)?)"
)

_BARE_PERIOD_RE = re.compile(
    r"[ \t]*(?:凌晨|清晨|早上|早晨|上午|中午|下午|傍晚|晚上)"
    r"(?![ \t]*[\d零〇一二两三四五六七八九十])"
)
_PM_PERIODS = frozenset({"午后", "下午", "傍晚", "晚上", "夜里", "夜间", "晚间", "晚"})
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_WEEK_SHIFT = {"上上": -2, "上": -1, "本": 0, "这": 0, "這": 0, "下": 1}
_RELATIVE_DAYS = {"大前": 3, "前": 2, "昨": 1, "yesterday": 1, "今": 0, "today": 0, "大后": -3,
                  "后": -2, "明": -1}  # fmt: skip


class DateError(DomainError, area="date"):
    """A typed date that cannot be taken: ``unreadable``, ``impossible`` (2月30日) or ``past``."""


@dataclass(frozen=True)
class BadDate:
    """Something written like a date that is none (2月30日, 4/31), with its span."""

    written: str
    start: int
    end: int


@dataclass(frozen=True)
class TimeMatch:
    """A time of day found in text; ``start``/``end`` index the original text."""

    value: time
    start: int
    end: int


@dataclass(frozen=True)
class DateMatch:
    """A date (and the time written right after it) found in text, with its span."""

    value: date
    time: time | None
    start: int
    end: int
    form: str  # relative | weekday | ymd | month_day


Resolver = Callable[[re.Match[str], date], date | None]


def parse_date(text: str, *, today: date) -> DateMatch | None:
    """Return the earliest valid date in text (with an adjacent time), or None."""
    work = fold_width(text[:MAX_TEXT_CHARS])
    best: tuple[re.Match[str], date, str] | None = None
    for form, pattern, resolve in _RULES:
        for match in pattern.finditer(work):
            value = resolve(match, today)
            if value is None:
                continue
            if best is None or (match.start(), -match.end()) < (best[0].start(), -best[0].end()):
                best = (match, value, form)
            break
    if best is None:
        return None
    match, value, form = best
    end = match.end()
    evening = form == "relative" and match.group().endswith("晚")
    found = _time_at(work, end, evening=evening)
    if found is not None:
        return DateMatch(value, found.value, match.start(), found.end, form)
    period = _BARE_PERIOD_RE.match(work, end)  # 今天下午: part of the date, no clock to read
    return DateMatch(value, None, match.start(), period.end() if period else end, form)


def parse_time(text: str) -> TimeMatch | None:
    """Return the earliest valid time of day in text, or None."""
    work = fold_width(text[:MAX_TEXT_CHARS])
    best: TimeMatch | None = None
    for pattern in (_CLOCK_RE, _COLON_RE, _AMPM_RE):
        for match in pattern.finditer(work):
            found = _resolve_time(work, match, evening=False, adjacent=False)
            if found is not None:
                if best is None or (found.start, -found.end) < (best.start, -best.end):
                    best = found
                break
    return best


def looks_like_date(text: str) -> bool:
    """Tell whether text holds something written like a date, valid or not (2月30日)."""
    work = fold_width(text[:MAX_TEXT_CHARS])
    return any(pattern.search(work) for _, pattern, _ in _RULES)


def find_bad_date(text: str) -> BadDate | None:
    """Return the first thing written like a date that does not exist (2月30日, 4/31)."""
    work = fold_width(text[:MAX_TEXT_CHARS])
    best: BadDate | None = None
    for _, pattern, resolve in _RULES[:4]:
        for match in pattern.finditer(work):
            # Any leap-year day works as "today": only whether the date can exist matters.
            if not _date_shaped(match) or resolve(match, _LEAP_DAY) is not None:
                continue
            if best is None or match.start() < best.start:
                best = BadDate(text[match.start() : match.end()].strip(), *match.span())
            break
    return best


def read_date(text: str, *, today: date) -> DateMatch:
    """Return the date in a typed answer, or raise DateError naming what is wrong."""
    found = parse_date(text, today=today)
    if found is not None:
        return found
    bad = find_bad_date(text)
    if bad is not None:
        raise DateError("impossible", written=bad.written)
    raise DateError("unreadable")


def read_upcoming(
    text: str, *, now: datetime, default_time: time = DEFAULT_SCHEDULE_TIME
) -> datetime:
    """Return the future moment a typed schedule means (time optional), or raise DateError."""
    found = read_date(text, today=now.date())
    moment = parse_upcoming(text, now=now, default_time=default_time)
    if moment is None or moment <= now:
        raise DateError("past", written=text.strip()[:40] or found.form)
    return moment


def _date_shaped(match: re.Match[str]) -> bool:
    """Tell whether a failed date match is worth naming (4/31 yes, 体温36.5 no)."""
    groups = match.groupdict()
    if "sep" not in groups:
        return True  # 2月30日, 1月32日: written with 月 and 日, meant as a date
    month, day = _number(groups.get("m") or ""), _number(groups.get("d") or "")
    if groups.get("sep") in (".", "-") and "y" not in groups:
        return 1 <= month <= 12 and 1 <= day <= 31
    return 0 <= month <= 31 and 0 <= day <= 31


def infer_year(month: int, day: int, *, today: date) -> date | None:
    """Return the latest valid month/day at most FUTURE_WINDOW_DAYS after today."""
    limit = today + timedelta(days=FUTURE_WINDOW_DAYS)
    for year in range(limit.year, limit.year - 5, -1):
        candidate = _make_date(year, month, day)
        if candidate is not None and candidate <= limit:
            return candidate
    return None


def _make_date(year: int, month: int, day: int) -> date | None:
    """Return the date or None when it does not exist."""
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _number(token: str) -> int:
    """Return a date part as an int; -1 marks an unreadable part."""
    value = parse_number(token)
    return -1 if value is None else value


def _resolve_relative(match: re.Match[str], today: date) -> date | None:
    """Resolve 今天/昨天/前天 and friends."""
    word = match.group().lower()
    for prefix, days in _RELATIVE_DAYS.items():
        if word.startswith(prefix):
            return today - timedelta(days=days)
    return None


def _resolve_weekday(match: re.Match[str], today: date) -> date | None:
    """Resolve 周三 / 上周三 / 本周三 against today's Monday-start week."""
    weekday = _WEEKDAYS[match["wd"]]
    rel = match["rel"]
    if rel is None:
        return today - timedelta(days=(today.weekday() - weekday) % 7)
    monday = today - timedelta(days=today.weekday())
    return monday + timedelta(weeks=_WEEK_SHIFT[rel], days=weekday)


def _resolve_ymd(match: re.Match[str], today: date) -> date | None:
    """Resolve a date written with its year."""
    year = _number(match["y"])
    if len(match["y"]) == 2:
        year += 2000
    return _make_date(year, _number(match["m"]), _number(match["d"]))


def _resolve_month_day(match: re.Match[str], today: date) -> date | None:
    """Resolve 3月12日 / 3/12 without a year."""
    return infer_year(_number(match["m"]), _number(match["d"]), today=today)


_RULES: tuple[tuple[str, re.Pattern[str], Resolver], ...] = (
    ("ymd", _YMD_CN_RE, _resolve_ymd),
    ("ymd", _YMD_NUMERIC_RE, _resolve_ymd),
    ("month_day", _MONTH_DAY_RE, _resolve_month_day),
    ("month_day", _MD_NUMERIC_RE, _resolve_month_day),
    ("relative", _RELATIVE_RE, _resolve_relative),
    ("weekday", _WEEKDAY_RE, _resolve_weekday),
)


def _time_at(work: str, pos: int, *, evening: bool) -> TimeMatch | None:
    """Return a time that starts at pos (after blanks), or None."""
    while pos < len(work) and work[pos] in " \t":
        pos += 1
    for pattern in (_CLOCK_RE, _COLON_RE, _AMPM_RE):
        match = pattern.match(work, pos)
        if match is not None:
            found = _resolve_time(work, match, evening=evening, adjacent=True)
            if found is not None:
                return found
    return None


def _resolve_time(
    work: str, match: re.Match[str], *, evening: bool, adjacent: bool
) -> TimeMatch | None:
    """Turn a clock match into a TimeMatch, or None when it is not a real time."""
    groups = match.groupdict()
    period = groups.get("period") or ("晚" if evening else None)
    hour = _number(match["h"])
    minute = _clock_minute(groups)
    if match.re is _CLOCK_RE and not adjacent and not _bare_hour_is_time(work, match):
        return None
    if match.re is _CLOCK_RE and period is None and 1 <= hour <= 6:
        period = "下午"  # 3点开讲: activities are not held at 3 a.m.; 凌晨3点 says so
    hour = _to_24h(hour, period, (groups.get("ampm") or "").lower().replace(".", ""))
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    start = match.start() + len(match.group()) - len(match.group().lstrip())
    tail = _TIME_TAIL_RE.match(work, match.end())
    end = tail.end() if tail is not None else match.end()
    return TimeMatch(time(hour, minute), start, end)


def _clock_minute(groups: dict[str, str | None]) -> int:
    """Return the minute part of a clock match (半 = 30, 一刻 = 15)."""
    if groups.get("half"):
        return 30
    quarter = groups.get("quarter")
    if quarter:
        return 15 if quarter == "一" else 45
    minute = groups.get("m")
    return 0 if minute is None else _number(minute)


def _bare_hour_is_time(work: str, match: re.Match[str]) -> bool:
    """Tell whether 3点 / 一点 is a time, not a point as in 多一点 or 提出3点建议."""
    if match["period"] or match["half"] or match["quarter"] or match["m"]:
        return True
    before = work[match.start() - 1] if match.start() > 0 else " "
    return not before.isalnum()


def _to_24h(hour: int, period: str | None, ampm: str) -> int:
    """Convert a 12-hour reading to 24-hour using 下午/晚上 or am/pm."""
    if hour < 0:
        return hour
    if period in _PM_PERIODS or ampm == "pm":
        return hour + 12 if 1 <= hour < 12 else hour
    if period == "中午":
        return hour + 12 if 1 <= hour <= 3 else hour
    if (period == "凌晨" or ampm == "am") and hour == 12:
        return 0
    return hour


def parse_upcoming(
    text: str, *, now: datetime, default_time: time | None = None
) -> datetime | None:
    """Return the future moment a date and time in text mean (publishing, scheduling).

    The same forms as ``parse_date`` (2026-12-01 09:30, 12月1日 9:30, 下周三上午10点…). A
    time is required unless ``default_time`` is given. A date written without a year that
    has already passed this year means next year's: a schedule is about the future. ``now``
    is local and aware; the result carries its timezone. None when the text names no such
    moment.
    """
    found = parse_date(text, today=now.date())
    if found is None:
        return None
    clock = found.time
    if clock is None:
        rest = text[: found.start] + " " * (found.end - found.start) + text[found.end :]
        later = parse_time(rest)
        clock = later.value if later is not None else default_time
    if clock is None:
        return None
    moment = datetime.combine(found.value, clock, tzinfo=now.tzinfo)
    if moment <= now and found.form == "month_day":
        next_year = _make_date(found.value.year + 1, found.value.month, found.value.day)
        if next_year is not None:
            moment = datetime.combine(next_year, clock, tzinfo=now.tzinfo)
    return moment
