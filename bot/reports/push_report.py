"""The failure part of a push report: unsent messages grouped by reason, and the retry button.

The report itself (counts) is ``bot.content.cards.report_text``; this adds the reasons
(``bot.services.push.failure_summary``) and "重试失败的 N 人" when a retry can help.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.core.callback_data import CallbackData
from bot.i18n import N_, Translator
from bot.services.push import Failures

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


def retry_label(t: Translator, n: int) -> str:
    """Return the retry button's label."""
    return t("🔁 Retry the {n} failed", n=n)


def retry_rows(
    t: Translator, push_id: int | None, failures: Failures
) -> list[list[dict[str, Any]]]:
    """Return the report's button rows (outbox payload form): retry, when it can help."""
    if push_id is None or failures.retryable == 0:
        return []
    return [
        [
            {
                "text": retry_label(t, failures.retryable),
                "callback_data": PushRetry(push_id).encode(),
            }
        ]
    ]
