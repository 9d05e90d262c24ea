"""`kepubot outbox retry PUSH_ID`, and the reasons lines of `kepubot outbox status`.

The parser of `kepubot outbox` lives in ``bot.cli.content``; it calls ``add_retry`` and
prints ``reason_lines`` under each push.
"""

from __future__ import annotations

import argparse

from bot.cli import CliError, cli_session, set_command, translator
from bot.config import Settings
from bot.core.error_text import error_text
from bot.i18n import N_, Translator
from bot.reports.push_report import REASON_NAMES, way_lines
from bot.services import push as push_service
from bot.services.push import Failures, PushError


def reason_lines(t: Translator, push_id: int | None, failures: Failures) -> list[str]:
    """Return the indented lines of a push's unsent messages by reason (none if all sent)."""
    lines = [
        "  " + t("{reason}: {n}", reason=t(REASON_NAMES[code]), n=n)
        for code, n in failures.reasons.items()
        if n
    ]
    if failures.total:
        lines.append(
            "  "
            + t(
                "Retryable: {n} (kepubot outbox retry {push}); blocked users are not retried.",
                n=failures.retryable,
                push=push_id,
            )
        )
    return lines


async def _retry(args: argparse.Namespace, settings: Settings) -> int:
    t = translator(args, settings)
    async with cli_session(settings) as (runtime, session):
        try:
            before = await push_service.failure_summary(session=session, push_id=args.push_id)
            result = await push_service.retry_failed(
                session=session,
                push_id=args.push_id,
                now=runtime.now(),
                paid=push_service.PaidRates(limits=settings.limits, broadcast=settings.broadcast),
            )
        except PushError as exc:
            raise CliError(error_text(exc, t, cli=True), code=1) from exc
    print(
        t(
            "Push #{new} re-sends {n} failed messages of push #{old}; {skipped} not retried "
            "(blocked, or the item can no longer be sent).",
            new=result.push_id,
            n=result.queued,
            old=args.push_id,
            skipped=before.total - result.queued,
        )
    )
    for line in way_lines(t, result):  # channel posts again; paid, as the original
        print("  " + line)
    print(t("The running bot sends them; follow with: kepubot outbox status {push}",
            push=result.push_id))  # fmt: skip
    return 0


def add_retry(outbox_sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `kepubot outbox retry PUSH_ID`."""
    retry = outbox_sub.add_parser(
        "retry",
        help=N_("send a push's failed messages again (not to users who blocked the bot)"),
        description=N_(
            "Queue again the messages of a push that failed for a reason a retry can cure "
            "(chat not found, too many requests, network errors). Users who blocked the bot "
            "and items retired since are skipped. The retry is a new push; it is audited."
        ),
    )
    retry.add_argument("push_id", metavar="PUSH_ID", type=int, help=N_("a push id"))
    set_command(retry, _retry)
