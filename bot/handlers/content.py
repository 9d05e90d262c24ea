"""Content feature: curators' /newcontent and /catalog, everyone's /feed and /search.

It also brings the daily push job and what the outbox sender needs for content: the card
deliverer and the curators' push progress reports.
"""

from __future__ import annotations

from bot import jobs
from bot.handlers import content_browse, content_curator
from bot.handlers.commands import command
from bot.handlers.content_delivery import ContentDeliverer, PushProgress
from bot.handlers.feature import COMMAND_GROUP, Feature, in_group
from bot.i18n import N_

COMMANDS = (
    command("feed", N_("Latest science content, by category"), order=40),
    command("search", N_("Search content: /search WORDS"), order=41),
    command("newcontent", N_("Add a content item and push it"), "curator", order=60),
    command("catalog", N_("Content catalogue: edit, retire, push"), "curator", order=61),
)


FEATURE = Feature(
    name="content",
    handlers=in_group(COMMAND_GROUP, *content_curator.handlers(), *content_browse.handlers()),
    flows=content_curator.FLOWS,
    commands=COMMANDS,
    jobs=(jobs.DAILY_PUSH,),
    outbox_kinds={"content": ContentDeliverer},
    outbox_observers=(PushProgress,),
)
