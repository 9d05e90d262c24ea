"""Content feature: curators' /newcontent and /catalog, everyone's /feed and /search.

Registering also adds the outbox sender to the services ``kepubot run`` starts.
"""

from __future__ import annotations

from typing import Any

from telegram.ext import Application

from bot.handlers import content_browse, content_curator
from bot.handlers.commands import command
from bot.i18n import N_

command("feed", N_("Latest science content, by category"), order=40)
command("search", N_("Search content: /search WORDS"), order=41)
command("newcontent", N_("Add a content item and push it"), "curator", order=60)
command("catalog", N_("Content catalogue: edit, retire, push"), "curator", order=61)


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Register this feature's handlers and the outbox sender service."""
    from bot.runtime.outbox import start_outbox
    from bot.runtime.runner import SERVICE_STARTERS

    content_curator.register(app, group=0)
    content_browse.register(app, group=0)
    if start_outbox not in SERVICE_STARTERS:
        SERVICE_STARTERS.append(start_outbox)
