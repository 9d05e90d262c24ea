"""Demo scene: shares of every kind, visits to tracked links, then /me and /top.

Reads ``demo.state``: "station_id", "informant_keys" (``demo.users`` keys of informants),
"pushed_content_id" / "content_ids" (items to share). Whatever is missing is created here
through storage, so the scene also runs alone.
Sets: "share_summary" — {"shares": {channel: count}, "visits": int, "volume": float,
"group_chat_id": int, "link_codes": [str]}.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import aiohttp
from sqlalchemy import func, select
from sqlmodel import col

from bot.content.cards import CardRecipient, build_card, send_card
from bot.handlers.feature import assembly_of
from bot.handlers.links_web import link_server
from bot.handlers.shares_external import PLATFORM_LABELS
from bot.i18n import N_
from bot.sandbox.factories import make_content, make_informant, make_station
from bot.sandbox.models import SimMessage
from bot.sandbox.stage import DEMO_START, Demo
from bot.sandbox.world import SimUser
from bot.services import share_stats
from storage.models import ContentItem, Informant, LinkVisit, Person, ShareEvent

CODE_RE = re.compile(r"/s/([A-Za-z0-9]{6,16})")
PHONES = [
    "Mozilla/5.0 (Linux; Android 13; V2220A) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/116.0 Mobile Safari/537.36 MicroMessenger/8.0.43",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.42",
    "Mozilla/5.0 (Linux; Android 12; PGT-AN10) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/110.0 Mobile Safari/537.36 QQ/8.9.80",
]
PREVIEW = "TelegramBot (like TwitterBot)"
CHANNEL_LABELS = {
    "telegram_inline": N_("Telegram inline"),
    "telegram_forward": N_("Telegram forward"),
    **PLATFORM_LABELS,
}
FALLBACK_NAMES = ["王秀英", "李建国", "张丽", "刘洋"]


async def _station(demo: Demo) -> int:
    station_id = demo.state.get("station_id")
    if station_id is not None:
        return int(station_id)
    runtime = demo.bot.runtime
    async with runtime.sessions() as s, s.begin():
        station = await make_station(
            s,
            name="西湖区北山街道新时代文明实践站",
            venue_type="civilisation_centre",
            county=None,
            created_at=runtime.now(),
            recognised_at=runtime.now(),
        )
        assert station.id is not None
        demo.state["station_id"] = station.id
        return station.id


async def _informants(demo: Demo, station_id: int) -> list[SimUser]:
    keys = list(demo.state.get("informant_keys") or [])
    if len(keys) >= 4 and all(k in demo.users for k in keys[:4]):
        return [demo.users[k] for k in keys[:4]]
    runtime = demo.bot.runtime
    users = [
        demo.user(f"informant_{i + 1}", name, started=True)
        for i, name in enumerate(FALLBACK_NAMES)
    ]
    async with runtime.sessions() as s, s.begin():
        for user in users:
            await make_informant(
                s,
                station_id=station_id,
                telegram_id=user.id,
                real_name=user.first_name,
                consent_at=runtime.now(),
                joined_at=runtime.now(),
            )
    demo.state["informant_keys"] = [f"informant_{i + 1}" for i in range(len(users))]
    return users


async def _content(demo: Demo) -> int:
    for key in ("pushed_content_id", "content_ids"):
        value = demo.state.get(key)
        if isinstance(value, list) and value:
            return int(value[0])
        if isinstance(value, int):
            return value
    runtime = demo.bot.runtime
    async with runtime.sessions() as s, s.begin():
        item = await make_content(
            s,
            guid="demo-shares-1",
            title="警惕“冒充客服退款”诈骗",
            summary="接到自称客服要求退款、共享屏幕或提供验证码的电话，一律挂断，"
            "通过官方渠道核实。",
            title_en="Beware of fake refund calls",
            category="anti_fraud",
            url="https://www.kepuchina.cn/demo/anti-fraud-refund",
            publish_at=runtime.now() - dt.timedelta(days=1),
            created_at=runtime.now(),
        )
        assert item.id is not None
        demo.state["content_ids"] = [item.id]
        return item.id


async def _send_card(demo: Demo, user: SimUser, content_id: int) -> SimMessage:
    """Send the item's card to an informant, as a push would."""

    runtime = demo.bot.runtime
    async with runtime.sessions() as s, s.begin():
        item = await s.get(ContentItem, content_id)
        informant = (
            await s.execute(
                select(col(Informant.id))
                .join(Person, col(Person.id) == Informant.person_id)
                .where(col(Person.telegram_id) == user.id)
            )
        ).scalar_one_or_none()
        assert item is not None
        card = await build_card(
            CardRecipient(
                session=s, item=item, chat_id=user.id, locale=demo.lang, informant_id=informant
            ),
            assembly_of(demo.bot.processor.application).card_providers(demo.bot.runtime),
        )
    await send_card(demo.bot.processor.application.bot, user.id, card)
    return (await demo.replies(user, show=False))[-1]


async def _visit(demo: Demo, code: str, visitors: list[tuple[str, str]]) -> None:
    """Open the link as each (user agent, phone's address) behind the demo's local proxy."""
    async with aiohttp.ClientSession() as http:
        for agent, address in visitors:
            async with http.get(
                f"{demo.bot.web_url}/s/{code}",
                headers={"User-Agent": agent, "X-Forwarded-For": address},
                allow_redirects=False,
            ) as resp:
                await resp.read()
    await link_server(demo.bot.runtime).flush()


async def _summary(demo: Demo, station_id: int) -> dict[str, Any]:
    runtime = demo.bot.runtime
    async with runtime.sessions() as s:
        by_channel = dict(
            (
                await s.execute(
                    select(col(ShareEvent.channel), func.count()).group_by(col(ShareEvent.channel))
                )
            )
            .tuples()
            .all()
        )
        visits = (await s.execute(select(func.count()).select_from(LinkVisit))).scalar_one()
        board = await share_stats.station_board(
            session=s,
            settings=runtime.settings,
            station_id=station_id,
            period="week",
            today=runtime.today(),
        )
    return {
        "shares": {k: int(v) for k, v in by_channel.items()},
        "visits": int(visits),
        "volume": sum(row.volume for row in board.rows),
    }


async def play(demo: Demo) -> None:
    """Inline, forward and external shares; visits; the figures."""
    t = demo.t
    demo.clock.set_local(DEMO_START + dt.timedelta(days=1))  # the heading says day 2
    demo.scene(t("Day 2 — informants pass the content on"))
    station_id = await _station(demo)
    a, b, c, d = await _informants(demo, station_id)
    content_id = await _content(demo)
    group = demo.sandbox.group(t("Happy Lane residents"), members=[a, b], extra_members=150)

    demo.narrate(
        t(
            "{name} adds the bot to the residents' group, then shares the card there in "
            "inline mode.",
            name=a.first_name,
        )
    )
    await a.add_bot_to(group, as_admin=True)
    await demo.settle()
    results = await a.inline_query(f"c{content_id}")
    demo.user_says(
        a.first_name,
        f"@{demo.bot.runtime.bot_username} c{content_id}  → " + results[0].get("title", ""),
    )
    await a.choose_inline_result(results[0], query=f"c{content_id}", chat=group)
    await demo.settle()
    for message in demo.new_messages(group):
        demo.show(group.title, message)

    demo.narrate(
        t(
            "{name} forwards the card from the bot into the same group; the bot "
            "counts the group's members.",
            name=b.first_name,
        )
    )
    card_b = await _send_card(demo, b, content_id)
    demo.user_says(b.first_name, t("[forwards the card to “{group}”]", group=group.title))
    await b.forward(card_b, to=group)
    await demo.settle()

    demo.narrate(t("{name} shared it in a WeChat group and reports it.", name=c.first_name))
    card_c = await _send_card(demo, c, content_id)
    demo.show(c.first_name, card_c)
    replies = await demo.press(c, card_c, t("✍️ I shared it elsewhere"))
    question = replies[-1]
    await demo.press(c, question, t("WeChat group"))
    await demo.press(c, question, t("~{n}", n=200))
    code_c = CODE_RE.findall(question.text or "")

    demo.narrate(
        t("{name} reports a QQ group of about fifty, typing the number.", name=d.first_name)
    )
    card_d = await _send_card(demo, d, content_id)
    question_d = (await demo.press(d, card_d, t("✍️ I shared it elsewhere"), show=False))[-1]
    await demo.press(d, question_d, t("QQ group"), show=False)
    await demo.say(d, "五十")

    demo.narrate(
        t(
            "Three people open {name}'s link in WeChat; a link-preview bot fetches it "
            "too and is not counted; one opens it twice.",
            name=c.first_name,
        )
    )
    if code_c:
        phones = [(agent, f"203.0.113.{10 + i}") for i, agent in enumerate(PHONES)]
        await _visit(demo, code_c[0], [*phones, (PREVIEW, "149.154.167.1"), phones[0]])

    demo.narrate(t("{name} looks at the figures.", name=c.first_name))
    await demo.command(c, "me")
    await demo.command(a, "top")
    summary = await _summary(demo, station_id)
    summary["group_chat_id"] = group.id
    summary["link_codes"] = code_c
    demo.state["share_summary"] = summary
    demo.narrate(
        t(
            "Shares by channel: {shares}; verified visits: {visits}.",
            shares=("、" if demo.lang == "zh_CN" else ", ").join(
                f"{t(CHANNEL_LABELS.get(k, k))} {v}" for k, v in sorted(summary["shares"].items())
            ),
            visits=summary["visits"],
        )
    )
