"""Turn a one-message activity report (caption or text) into a structured draft.

Example: ``#活动 3月12日 讲座 防范电信诈骗 45人`` → lecture on 12 March, 45 participants,
title 防范电信诈骗. Fields are found in this order, each removed from the text before the
next is looked for: trigger, date (+ time), campaign, place, participant count, type; what
is left of the first non-empty line is the title. Missing fields and problems are codes,
never sentences: the bot localises them. Formats: docs/activity-message-format.md.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, time, timedelta

from bot.core.zh_dates import find_bad_date, parse_date, parse_time
from bot.core.zh_numbers import QUANTITY_PATTERN, fold_width, parse_quantity

MAX_TEXT_CHARS = 4096  # Telegram's own message limit; captions are shorter still
MAX_TITLE_CHARS = 100
MAX_AGE_DAYS = 30
MAX_PARTICIPANTS = 100_000

ACTIVITY_TYPES = (
    "lecture", "exhibition", "consultation", "competition", "online_live", "other",
)  # fmt: skip
CAMPAIGNS = ("science_day", "st_week")
REQUIRED_FIELDS = ("type", "held_on", "participants", "title")

ERR_DATE_IN_FUTURE = "date_in_future"
ERR_DATE_TOO_OLD = "date_too_old"
ERR_DATE_INVALID = "date_invalid"
ERR_PARTICIPANTS_ZERO = "participants_zero"
ERR_PARTICIPANTS_TOO_MANY = "participants_too_many"
ERR_PARTICIPANTS_NEGATIVE = "participants_negative"
ERR_TEXT_TOO_LONG = "text_too_long"

_TYPE_WORDS: dict[str, tuple[str, ...]] = {
    "lecture": tuple("讲座 培训 授课 课堂 报告 讲课 宣讲 lecture training talk".split()),
    "exhibition": tuple("展览 展示 展出 展板 exhibition".split()),
    "consultation": tuple("咨询 义诊 问诊 consultation".split()),
    "competition": tuple("知识竞答 竞答 竞赛 比赛 contest competition quiz".split()),
    "online_live": tuple("直播 线上 网课 live online".split()),
    "other": tuple("其他 其它 other".split()),
}
# Everyday words that name a type only when they stand alone (活动报告 is not a lecture).
_WEAK_TYPE_WORDS = frozenset({"报告", "课堂", "展示", "线上", "其他", "其它", "talk", "live",
                              "online", "other"})  # fmt: skip
_CAMPAIGN_WORDS: dict[str, tuple[str, ...]] = {
    "science_day": ("全国科普日", "科普日", "science day"),
    "st_week": (
        "科技活动周",
        "科技周",
        "s&t week",
        "sci-tech week",
        "science and technology week",
    ),
}
_WORD_TO_TYPE = {word: code for code, words in _TYPE_WORDS.items() for word in words}
_WORD_TO_CAMPAIGN = {
    word.replace(" ", ""): code for code, words in _CAMPAIGN_WORDS.items() for word in words
}


def _alternation(words: list[str]) -> str:
    """Build a longest-first alternation; Latin words must not touch other letters."""
    parts = []
    for word in sorted(words, key=len, reverse=True):
        body = re.escape(word).replace(r"\ ", r"[ \t]*")
        parts.append(rf"(?<![A-Za-z]){body}(?![A-Za-z])" if word.isascii() else body)
    return "|".join(parts)


_TRIGGER_RE = re.compile(r"#[ \t]*(?:活动(?!周)|activity(?![A-Za-z0-9_]))|^\s*活动[ \t]*:", re.I)
_TYPE_RE = re.compile(rf"#?(?P<word>{_alternation(list(_WORD_TO_TYPE))})", re.I)
_CAMPAIGN_RE = re.compile(
    rf"(?P<open>[【\[「])?(?P<tag>#)?"
    rf"(?P<word>{_alternation([w for ws in _CAMPAIGN_WORDS.values() for w in ws])})"
    r"(?(open)[】\]」])",
    re.I,
)
_PLACE_LABEL_RE = re.compile(
    r"(?:活动)?(?:地点|场地|地址|place|venue|location)[ \t]*:[ \t]*"
    r"(?P<place>[^\s,，;；。、]{1,40}(?:[ ](?=[A-Za-z])[^\s,，;；。、]{1,40}){0,5})",
    re.I,
)
_PLACE_AT_RE = re.compile(
    r"(?<![现正存实所好自])在(?P<place>[^\s,，;；。、!！?？:\d]{2,30}?)"
    r"(?:开展|举办|举行|组织|进行|召开)了?"
)
_COUNT_LEAD = (
    r"参与人数|参加人数|到场人数|出席人数|受众人数|受益人数|人数|参与者|参加者|参与|参加|到场"
    r"|出席|听众|观众|群众|受众|受益|共计|合计|总计|累计|共有|共|计|达|有|吸引|覆盖|服务"
    r"|来了|到了"
    r"|participants|attendees|attendance|headcount|audience"
)
_COUNT_LABELS = frozenset({"人数", "参与人数", "参加人数", "到场人数", "出席人数", "受众人数",
                           "受益人数", "participants", "attendees", "attendance",
                           "headcount"})  # fmt: skip
_PARTICIPANTS_RE = re.compile(
    rf"(?:(?P<lead>{_COUNT_LEAD})[ \t]*(?::[ \t]*)?)?"
    r"(?P<neg>(?<![^\s:])[-−][ \t]*|负)?"
    r"(?:(?P<en_approx>about|around|approx\.?|approximately|nearly|over|more[ \t]+than)[ \t]+)?"
    rf"(?P<qty>{QUANTITY_PATTERN})"
    r"(?:[ \t]*(?P<unit>人次|个人|人|名|位|"
    r"(?<![A-Za-z])(?:people|persons|participants|attendees|pax)"
    r"(?![A-Za-z])))?(?:[ \t]*(?P<after>左右|上下|以上))?"
    r"(?:[ \t]*(?:参加|参与|到场|出席|观看|听讲|受益)(?:了|活动)?)?",
    re.I,
)
_LABEL_RE = re.compile(
    r"(?:活动)?(?:名称|主题|标题|题目|时间|日期|类型|形式|人数|参与人数|参加人数|地点|内容"
    r"|title|topic|theme|date|time|type|participants|place|venue)[ \t]*[:：]",
    re.I,
)
_DUP_SEPARATORS_RE = re.compile(r"\s*([，,、；;。])(?:\s*[，,、；;。])+\s*")
_ARABIC_DIGIT_RE = re.compile(r"[0-9]")
_SPACES_RE = re.compile(r"[ \t\u3000]+")
_PAIRS = {"(": ")", "（": "）", "【": "】", "[": "]", "「": "」", "《": "》", "“": "”", "‘": "’"}
_CLOSERS = {close: open_ for open_, close in _PAIRS.items()}


@dataclass(frozen=True)
class ActivityParse:
    """The draft read from one message; ``missing`` and ``errors`` hold codes."""

    is_activity: bool
    type: str | None
    held_on: date | None
    held_at_time: time | None
    participants: int | None
    participants_approx: bool
    title: str | None
    campaign: str | None
    place: str | None
    missing: tuple[str, ...]
    errors: tuple[str, ...]
    bad_date: str | None = None  # 2月30日 as written, when a date was there but none exists

    @property
    def is_complete(self) -> bool:
        """Tell whether every required field was found."""
        return not self.missing


@dataclass(frozen=True)
class _Count:
    """A participant count candidate found in the text."""

    value: int
    approx: bool
    labelled: bool
    start: int
    end: int
    negative: bool = False


class _Text:
    """The message being parsed: folded for matching, masked as fields are taken out."""

    def __init__(self, text: str) -> None:
        self.original = text
        self.chars = list(fold_width(text))

    @property
    def work(self) -> str:
        """Return the folded text with taken spans blanked."""
        return "".join(self.chars)

    def take(self, start: int, end: int) -> None:
        """Blank a span (keeping line breaks) so later fields and the title skip it."""
        for i in range(start, end):
            if self.chars[i] not in "\r\n":
                self.chars[i] = " "

    def remainder(self) -> str:
        """Return the original text with every taken span blanked."""
        return "".join(o if c != " " or o.isspace() else " "
                       for o, c in zip(self.original, self.chars, strict=True))  # fmt: skip

    def stands_alone(self, start: int, end: int) -> bool:
        """Tell whether a span is a token of its own, not part of a longer phrase."""
        work = self.work
        before = work[start - 1] if start > 0 else " "
        after = work[end] if end < len(work) else " "
        return _is_boundary(before) and _is_boundary(after)


def parse_activity_text(text: str, *, today: date) -> ActivityParse:
    """Parse an activity report message into a draft; never raise."""
    errors: list[str] = []
    if len(text) > MAX_TEXT_CHARS:
        text = text[:MAX_TEXT_CHARS]
        errors.append(ERR_TEXT_TOO_LONG)
    doc = _Text(text)
    is_activity = _take_trigger(doc)
    held_on, held_at_time = _take_date(doc, today=today)
    bad = find_bad_date(doc.work) if held_on is None else None
    if bad is not None:
        errors.append(ERR_DATE_INVALID)  # 2月30日 or 26/11: name it, don't guess
        doc.take(bad.start, bad.end)  # and keep it out of the title
    campaign = _take_campaign(doc)
    place = _take_place(doc)
    count = _take_participants(doc)
    activity_type = _take_type(doc)
    title = _title(doc.remainder())
    participants = None if count is None or count.negative else count.value
    if count is not None and count.negative:
        errors.append(ERR_PARTICIPANTS_NEGATIVE)
    found = {"type": activity_type, "held_on": held_on, "participants": participants,
             "title": title}  # fmt: skip
    missing = tuple(name for name in REQUIRED_FIELDS if found[name] is None)
    errors.extend(_check(held_on, participants, today=today))
    return ActivityParse(
        is_activity=is_activity,
        type=activity_type,
        held_on=held_on,
        held_at_time=held_at_time,
        participants=participants,
        participants_approx=count is not None and count.approx,
        title=title,
        campaign=campaign,
        place=place,
        missing=missing,
        errors=tuple(errors),
        bad_date=None if bad is None else doc.original[bad.start : bad.end].strip(),
    )


def _check(held_on: date | None, participants: int | None, *, today: date) -> list[str]:
    """Return the error codes for implausible values."""
    errors = []
    if held_on is not None and held_on > today:
        errors.append(ERR_DATE_IN_FUTURE)
    if held_on is not None and held_on < today - timedelta(days=MAX_AGE_DAYS):
        errors.append(ERR_DATE_TOO_OLD)
    if participants == 0:
        errors.append(ERR_PARTICIPANTS_ZERO)
    if participants is not None and participants > MAX_PARTICIPANTS:
        errors.append(ERR_PARTICIPANTS_TOO_MANY)
    return errors


def _take_trigger(doc: _Text) -> bool:
    """Remove every activity trigger; tell whether there was one."""
    matches = list(_TRIGGER_RE.finditer(doc.work))
    for match in matches:
        doc.take(match.start(), match.end())
    return bool(matches)


def _take_date(doc: _Text, *, today: date) -> tuple[date | None, time | None]:
    """Remove the first date (and a time anywhere) and return them."""
    found = parse_date(doc.work, today=today)
    if found is not None:
        doc.take(found.start, found.end)
        if found.time is not None:
            return found.value, found.time
    clock = parse_time(doc.work)
    if clock is not None:
        doc.take(clock.start, clock.end)
    return (None if found is None else found.value), (None if clock is None else clock.value)


def _take_campaign(doc: _Text) -> str | None:
    """Return the campaign code; remove it when it is a tag, not part of a phrase."""
    for match in _CAMPAIGN_RE.finditer(doc.work):
        code = _WORD_TO_CAMPAIGN[_SPACES_RE.sub("", match["word"].lower())]
        if match["open"] or match["tag"] or doc.stands_alone(match.start(), match.end()):
            doc.take(match.start(), match.end())
        return code
    return None


def _take_place(doc: _Text) -> str | None:
    """Return the place from 地点：X or 在X举办, removing it."""
    for pattern in (_PLACE_LABEL_RE, _PLACE_AT_RE):
        match = pattern.search(doc.work)
        if match is not None:
            place = doc.original[match.start("place") : match.end("place")]
            doc.take(match.start(), match.end())
            return place
    return None


def _take_participants(doc: _Text) -> _Count | None:
    """Return the participant count (labelled first, else the largest), removing it."""
    work = doc.work
    candidates = [c for m in _PARTICIPANTS_RE.finditer(work) if (c := _count(work, m))]
    if not candidates:
        return None
    best = max(candidates, key=lambda c: (c.labelled, c.value, -c.start))
    doc.take(best.start, best.end)
    return best


def _count(work: str, match: re.Match[str]) -> _Count | None:
    """Turn a participants match into a candidate, or None when it is not a head count."""
    lead = (match["lead"] or "").lower()
    if not match["unit"] and lead not in _COUNT_LABELS:
        return None
    qty_text = match["qty"].strip()
    if not lead and not _ARABIC_DIGIT_RE.search(qty_text) and not _leading_boundary(work, match):
        return None  # 统一人员 holds 一人, but it is no count
    quantity = parse_quantity(qty_text)
    if quantity is None:
        return None
    approx = quantity.approx or bool(match["en_approx"] or match["after"])
    start = match.start() + len(match.group()) - len(match.group().lstrip())
    return _Count(quantity.value, approx, bool(lead), start, match.end(), bool(match["neg"]))


def _leading_boundary(work: str, match: re.Match[str]) -> bool:
    """Tell whether the match starts a token (for counts written in Chinese numerals)."""
    start = match.start() + len(match.group()) - len(match.group().lstrip())
    return start == 0 or _is_boundary(work[start - 1])


def _take_type(doc: _Text) -> str | None:
    """Return the type of the first strong (else lone weak) type word, removing it if alone."""
    weak: re.Match[str] | None = None
    for match in _TYPE_RE.finditer(doc.work):
        alone = doc.stands_alone(match.start(), match.end())
        if match["word"].lower() not in _WEAK_TYPE_WORDS:
            return _type_of(doc, match, alone=alone)
        if alone and weak is None:
            weak = match
    return None if weak is None else _type_of(doc, weak, alone=True)


def _type_of(doc: _Text, match: re.Match[str], *, alone: bool) -> str:
    """Return the code of a type word, removing the word when it stands alone."""
    if alone:
        doc.take(match.start(), match.end())
    return _WORD_TO_TYPE[match["word"].lower()]


def _title(remainder: str) -> str | None:
    """Return the first non-empty line of what is left, tidied, or None."""
    for line in remainder.splitlines():
        line = _LABEL_RE.sub(" ", line)
        line = _DUP_SEPARATORS_RE.sub(r"\1", _SPACES_RE.sub(" ", line))
        line = _strip_edges(line)
        if line:
            return line[:MAX_TITLE_CHARS].rstrip()
    return None


def _strip_edges(line: str) -> str:
    """Strip spaces, punctuation and emoji from both ends, keeping paired brackets."""
    start, end = 0, len(line)
    while start < end and _is_edge_junk(line[start]) and not _has_partner(line, line[start]):
        start += 1
    while end > start and _is_edge_junk(line[end - 1]) and not _has_partner(line, line[end - 1]):
        end -= 1
    return line[start:end]


def _has_partner(line: str, char: str) -> bool:
    """Tell whether a bracket's partner is in the line (so 《标题》 keeps its marks)."""
    partner = _PAIRS.get(char) or _CLOSERS.get(char)
    return partner is not None and partner in line


def _is_edge_junk(char: str) -> bool:
    """Tell whether a character is separator, punctuation, symbol or control."""
    return char.isspace() or unicodedata.category(char)[0] in "PSZC" or char in "\ufe0e\ufe0f"


def _is_boundary(char: str) -> bool:
    """Tell whether a character separates tokens (space, punctuation, emoji)."""
    return char.isspace() or unicodedata.category(char)[0] in "PSZC"
