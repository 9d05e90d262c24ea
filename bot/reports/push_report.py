"""The failure part of a push report: unsent messages grouped by reason, and the retry button.

The report itself (counts) is ``bot.content.cards.report_text``; this adds the reasons
(``bot.services.push.failure_summary``) and "重试失败的 N 人" when a retry can help.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.core.callback_data import CallbackData
from bot.i18n import N_, Translator
from bot.services.broadcast import stars_text
from bot.services.push import Failures, PushResult

REASON_NAMES: dict[str, str] = {
    "blocked": N_("blocked the bot or never started it"),
    "chat_not_found": N_("chat not found"),
    "too_many_requests": N_("too many requests (Telegram's flood limit)"),
    "other": N_("other errors"),
}


@dataclass(frozen=True)
class PushRetry(CallbackData, prefix="PRT"):
    """The push report's "Retry the N failed" button."""

    push_id: int


def reasons_text(t: Translator, failures: Failures) -> str:
    """Return the reasons block ("" when every message went out)."""
    if failures.total == 0:
        return ""
    lines = [t("Not delivered, by reason:")]
    for code, name in REASON_NAMES.items():
        n = failures.reasons.get(code, 0)
        if n:
            lines.append(t("· {reason}: {n}", reason=t(name), n=n))
    if failures.reasons.get("blocked"):
        lines.append(t("Users who blocked the bot are not retried."))
    return "\n".join(lines)


def retry_label(t: Translator, n: int, *, paid: bool = False) -> str:
    """Return the retry button's label (``paid``: the retry goes paid, as its original)."""
    if paid:
        return t("🔁 Retry the {n} failed (⚡ paid)", n=n)
    return t("🔁 Retry the {n} failed", n=n)


def retry_rows(
    t: Translator, push_id: int | None, failures: Failures, *, paid: bool = False
) -> list[list[dict[str, Any]]]:
    """Return the report's button rows (outbox payload form): retry, when it can help."""
    if push_id is None or failures.retryable == 0:
        return []
    return [
        [
            {
                "text": retry_label(t, failures.retryable, paid=paid),
                "callback_data": PushRetry(push_id).encode(),
            }
        ]
    ]


def way_lines(t: Translator, result: PushResult) -> list[str]:
    """Return how a queued push goes: its channel posts, and its paid opt-in and budget
    (a retry's are its original's: the same channel rows, the rest of the budget)."""
    lines = []
    if result.channel_posts:
        lines.append(t("{n} of them are posts in the linked channels.", n=result.channel_posts))
    if result.paid_budget is not None:
        lines.append(
            t(
                "⚡ Paid broadcast above the free rate, within a budget of {budget} Stars.",
                budget=stars_text(result.paid_budget),
            )
        )
    return lines
