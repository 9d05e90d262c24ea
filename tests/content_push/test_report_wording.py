"""A push's progress message and its final report word the same figures the same way."""

from __future__ import annotations

from bot.content.cards import progress_text, report_text
from bot.i18n import get_translator
from storage.models import Push


def test_progress_and_report_share_one_counts_line() -> None:
    t = get_translator("zh_CN")
    push = Push(id=1, total=7)
    counts = {"sent": 5, "failed": 1, "blocked": 1, "pending": 0}
    progress = progress_text(t, push, counts, "七步洗手法", final=True).splitlines()
    report = report_text(t, push, counts, "七步洗手法").splitlines()
    assert progress[1:] == report[1:] == ["已发送 5 · 失败 1 · 已屏蔽机器人 1 · 待发送 0（共 7）"]
    assert report[0] == "✅ 推送报告 #1：“七步洗手法”"
