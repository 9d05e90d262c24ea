"""The zh_CN catalogue speaks docs/glossary.md's vocabulary and sets Chinese properly."""

from __future__ import annotations

import datetime as dt
import re

from bot.i18n import get_translator
from tests.foundation.test_i18n import catalogue_entries

CJK = r"[\u4e00-\u9fff]"
# Words docs/glossary.md says never to use, as patterns ("覆盖" of Wi-Fi is fine).
NEVER = {
    r"(?<!网络)(?<!全)覆盖": "触达 (reach)",
    r"转发次数": "分享次数",
    r"Telegram ?内联": "分享按钮",
    r"Telegram ?触达": "群成员触达",
    r"有效访问|点击访问|点击量|点击次数": "链接访问",
    r"站长": "站点管理员",
    r"参加人数": "参与人数",
    r"改判": "不采纳",
    r"协调员": "科协 / 科协工作人员",
    r"被屏蔽": "已屏蔽机器人",
    r"异常标记|标记给|已标记": "疑点",
}
# Placeholders that stand for a name, a title or a region: no space between them and Chinese.
NAMED = r"\{(?:name|station|title|region|area|county|city|current|where|group|platform|kind)\}"
SPACED_NAME = re.compile(rf"{CJK} {NAMED}|{NAMED} {CJK}")
ASCII_PUNCT_AFTER_CJK = re.compile(rf"{CJK}[:,;!?]")
TAG = re.compile(r"<[^>]+>")

# Entries another change rewords (the digest message and sheets: bot/reports; the command
# line's job and outbox lines: bot/cli). Listed by msgid so nothing new slips in.
ELSEWHERE: set[str] = set()  # entries left to other work (none now)


# Here the placeholder is a code or an identifier someone typed (a region code, a job or
# command name), which is set apart from Chinese by a space like any number.
CODES = {
    "Unknown region code {region}. Import regions first.",
    "Unknown region code {region}.",
    "Region {region} is outside the regions you coordinate.",
    "Unknown job {name}. Known jobs: {names}.",
    "Invalid period {period} for job {name}.",
    "I do not know the command /{name}. These are the ones you can use:",
    "Annual evaluation {year}, region {region}: {n} stations counted from {start} to {end}.",
}


def _texts() -> list[tuple[str, str, str]]:
    return [
        (po.name, msgid, TAG.sub("", text))
        for msgid, found in catalogue_entries("zh_CN").items()
        if msgid not in ELSEWHERE
        for po, text in found
        if text
    ]


def test_no_word_the_glossary_forbids() -> None:
    bad = [
        f"{po}: {text!r} — use {use}"
        for po, _msgid, text in _texts()
        for pattern, use in NEVER.items()
        if re.search(pattern, text)
    ]
    assert not bad, "\n".join(bad)


def test_no_space_between_chinese_and_a_name() -> None:
    bad = [
        f"{po}: {text!r}"
        for po, msgid, text in _texts()
        if msgid not in CODES and SPACED_NAME.search(text)
    ]
    assert not bad, "\n".join(bad)


def test_full_width_punctuation_after_chinese() -> None:
    bad = [
        f"{po}: {text!r}" for po, _msgid, text in _texts() if ASCII_PUNCT_AFTER_CJK.search(text)
    ]
    assert not bad, "\n".join(bad)


def test_the_lint_catches_what_it_is_for() -> None:
    assert SPACED_NAME.search("{station} 的邀请链接")
    assert not SPACED_NAME.search("{station}的邀请链接：共 {n} 名")
    assert ASCII_PUNCT_AFTER_CJK.search("传播量: 5,726")
    assert re.search(next(iter(NEVER)), "👥 覆盖：200人") and not re.search(
        next(iter(NEVER)), "校园无线网络全覆盖"
    )


def test_windows_are_written_with_dates_a_person_reads() -> None:
    zh, en = get_translator("zh_CN"), get_translator("en")
    assert zh.span(dt.date(2026, 11, 1), dt.date(2026, 11, 30)) == "2026年11月1日—11月30日"
    assert zh.span(dt.date(2025, 12, 29), dt.date(2026, 1, 4)) == "2025年12月29日—2026年1月4日"
    assert zh.span(dt.date(2026, 11, 30), dt.date(2026, 11, 30)) == "2026年11月30日"
    assert en.span(dt.date(2026, 11, 1), dt.date(2026, 11, 30)) == "Nov 1\u2009–\u200930, 2026"
