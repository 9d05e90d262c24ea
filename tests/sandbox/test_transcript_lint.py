"""The demo's transcript reads like the chat a Chinese user sees: no leaks, no stray English.

The demo's first six scenes are played (the digest and evaluation scenes generate months of
history and have their own tests); every line is checked against docs/glossary.md's rules.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from bot.sandbox.demo import run_demo
from bot.sandbox.scenes import activities, basics, content, informants, shares, stations

CJK = r"[\u4e00-\u9fff]"
BOT_LINE = re.compile(r"^    🤖 → [^：:]+：(.*)$")
USER_LINE = re.compile(r"^    \S+ ▶ (.*)$")
RAW_CALLBACK = re.compile(r"\b[A-Z]{2,}:[\w:]+")
ASCII_AFTER_CJK = re.compile(rf"{CJK}[:;,!?](?!//)|{CJK} ?\(")
SPACE_BEFORE_DE = re.compile(rf"{CJK} 的")
ISO_OR_SLASH_DATE = re.compile(r"\b20\d\d[-/]\d{1,2}[-/]\d{1,2}\b|\b20\d\d-W\d\d\b")
# Codes a person should not read: weekly_tally, pack:starter, week=2026-W48.
CODE = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b|\b[a-z]+:[a-z]+\b|\b\w+=\S")
# Stray spaces in a number phrase: 约 80 人, 如 80, 2026年11月23日 加入, 第 2 号.
SPACED_NUMBER = re.compile(rf"(?:约|如) \d|\d日 {CJK}|\d 号")
URL = re.compile(r"https?://\S+|/\w+|\S+\.(?:png|xlsx|csv)\b|@\w+|\{\w+\}")
# English a zh_CN user may read: product names, and "English" on the language button.
ENGLISH = re.compile(r"\b[A-Za-z]{3,}\b")
ALLOWED_ENGLISH = {"Telegram", "XLSX", "kepubot", "Bot", "API", "English"}


def lint(lines: list[str]) -> list[str]:
    """Return what a Chinese reader would trip over, one line each."""
    problems: list[str] = []
    for line in lines:
        said = USER_LINE.match(line)
        if said and RAW_CALLBACK.search(said.group(1)):
            problems.append(f"callback data instead of a button label: {line}")
        sent = BOT_LINE.match(line)
        text = sent.group(1) if sent else line.strip()
        if line.startswith("    🤖 → ") and not sent:
            problems.append(f"ASCII colon after the recipient: {line}")
        if ASCII_AFTER_CJK.search(text):
            problems.append(f"ASCII punctuation after Chinese: {line}")
        if SPACE_BEFORE_DE.search(text):
            problems.append(f"space before 的: {line}")
        if ISO_OR_SLASH_DATE.search(text):
            problems.append(f"date not written 2026年11月30日: {line}")
        if SPACED_NUMBER.search(text):
            problems.append(f"space inside a number phrase: {line}")
        if "kepubot " not in text and CODE.search(URL.sub(" ", text)):
            problems.append(f"a code instead of words: {line}")
        words = set(ENGLISH.findall(URL.sub(" ", text))) - ALLOWED_ENGLISH
        if (sent or line.startswith("         ")) and words:
            problems.append(f"English {sorted(words)}: {line}")
    return problems


def test_lint_flags_the_defects_it_is_for() -> None:
    assert len(lint(["    王校长 ▶ [USE:3]"])) == 1
    assert len(lint(["    🤖 → 陈老师：传播量: 5,726"])) == 1
    assert len(lint(["         [🏅 表彰 (2)] [⚠ 整改 (1)]"])) == 1
    assert len(lint(["    🤖 → 王校长：文三路小学科普e站 的邀请链接："])) == 1
    assert lint(["    🤖 → 王校长: 你好"])  # the recipient's colon too
    assert len(lint(["         本月（2026/11/1 – 2026/11/30）"])) == 1
    assert len(lint(["    🤖 → 周老师：done，week=2026-W48"])) == 3  # English, key=value, ISO week
    assert lint(["    🤖 → 王校长：📎 invite-poster-1.png 发送 /help 查看 https://t.me/x"]) == []
    assert len(lint(["  · 11月30日（周一）01:00：weekly_tally 任务统计 2026-W48 周。"])) == 2
    assert len(lint(["    已导入 pack:starter：新增 28 条"])) == 1
    assert len(lint(["    🤖 → 王校长：已登记：“挂图”已张贴，约 80 人看到。"])) == 1
    assert len(lint(["         1. 王秀英 · 2026年11月23日 加入"])) == 1
    assert len(lint(["         有一张照片与第 2 号活动是同一个文件。"])) == 1
    assert lint(["  · kepubot regions import bot/data/regions_sample.csv → 导入 60 个"]) == []


@pytest.mark.slow
async def test_demo_transcript_is_clean(tmp_path: Path) -> None:
    demo = await run_demo(
        out_dir=tmp_path / "demo",
        out=io.StringIO(),
        quiet=True,
        scenes=[basics, stations, informants, content, shares, activities],
    )
    transcript = demo.transcript
    assert not lint(transcript), "\n".join(lint(transcript))
    # The confirmation of a pressed prompt comes before the question that follows it.
    kind = transcript.index("    🤖 → 王校长：📌 张贴了挂图")
    assert kind < next(i for i, line in enumerate(transcript) if "在哪里使用的" in line)
    # The topics the summary lists are topics the transcript shows being chosen.
    chosen = [line for line in transcript if line.startswith("    王秀英 ▶ [") and "科普" in line]
    assert "    王秀英 ▶ [👵 银龄科普]" in chosen
    assert any(line.strip() == "关注领域：卫生健康、银龄科普" for line in transcript)
    # Day 2 is a day later than day 1; "that afternoon" keeps the date.
    after = transcript[next(i for i, line in enumerate(transcript) if "第 2 天" in line) :]
    assert "         日期：2026年11月23日" in after  # the guided form's 昨天, seen from day 2
    assert "         日期：2026年11月24日" in after  # 今天 of the photo reports
    # A poster is put up, not played.
    assert any("张贴了推送的挂图" in line for line in transcript)
    assert not any("播放了推送的视频" in line for line in transcript)
    # Three phones, one preview bot, one repeat: three visits, as narrated.
    assert any("链接访问：3 次" in line for line in transcript)
