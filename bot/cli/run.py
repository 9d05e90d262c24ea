"""`kepubot run`: start the bot."""

from __future__ import annotations

import argparse
import ipaddress
import logging
import sys
from urllib.parse import urlsplit

from telegram.error import NetworkError

from bot.app import run_bot
from bot.cli import CliError, set_command, translator
from bot.config import Settings, require_token
from bot.i18n import N_, Translator
from bot.runtime.logs import setup_logging
from bot.runtime.runner import NotMigrated

log = logging.getLogger(__name__)


def unreachable_host(url: str) -> bool:
    """Tell whether ``url`` points at a host the public cannot reach.

    Loopback and private addresses (127.0.0.0/8, ::1, 10/8, 172.16/12, 192.168/16,
    fc00::/7, link-local), ``localhost`` and one-label or ``.local`` names.
    """
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if not host or host == "localhost" or host.endswith((".localhost", ".local")):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return "." not in host
    return (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_unspecified
    )


def warn_public_base_url(settings: Settings, t: Translator) -> bool:
    """Warn (log and stderr) when tracked links would point at an unreachable address."""
    url = settings.web.public_base_url
    if not unreachable_host(url):
        return False
    log.warning("web.public_base_url is not a public address", extra={"url": url})
    print(
        t(
            "Warning: web.public_base_url is {url}, an address only this machine or network "
            "can reach, so the tracked links informants paste into WeChat will not open. Set "
            "web.public_base_url (or KEPUBOT_WEB__PUBLIC_BASE_URL) to the public address of "
            "this server.",
            url=url,
        ),
        file=sys.stderr,
    )
    return True


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    require_token(settings)
    setup_logging(args.log_level)
    warn_public_base_url(settings, translator(args, settings))
    try:
        await run_bot(settings)
    except NotMigrated as exc:
        raise CliError(not_migrated_text(exc, translator(args, settings))) from exc
    except NetworkError as exc:
        # Start-up calls getMe and setMyCommands: no route to Telegram is a setting to fix,
        # not a crash, so one line naming the setting instead of a traceback.
        raise CliError(_unreachable(args, settings, exc)) from exc
    return 0


def not_migrated_text(exc: NotMigrated, t: Translator) -> str:
    """Return why the bot does not start on this database, and what to run."""
    if exc.current is None:
        return t("The database has no tables yet. Run first: kepubot db upgrade")
    return t(
        "The database is at revision {current}; this version needs {head}. "
        "Run first: kepubot db upgrade",
        current=exc.current,
        head=exc.head,
    )


def _unreachable(args: argparse.Namespace, settings: Settings, exc: NetworkError) -> str:
    """Return the one-line explanation of a start that could not reach Telegram."""
    token = require_token(settings)
    detail = " ".join(exc.message.replace(token, "***").split())
    return translator(args, settings)(
        "Cannot reach Telegram at {url} ({detail}). Check telegram.base_url and the network.",
        url=settings.telegram.base_url,
        detail=detail,
    )


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `kepubot run`."""
    run = sub.add_parser(
        "run",
        help=N_("run the bot (polling or webhook, as configured)"),
        description=N_("Run the bot until SIGTERM/SIGINT. Refuses an un-migrated database."),
    )
    run.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    set_command(run, _run)
