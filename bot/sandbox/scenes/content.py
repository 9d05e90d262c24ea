"""Demo scene: the starter pack is imported and a curator pushes one item to informants.

Reads ``demo.state["informant_keys"]`` (from the informants scene; a few informants are
created here if it is missing). Sets ``content_ids`` (imported item ids),
``pushed_content_id``, ``push_id`` and ``curator_key``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import select
from sqlmodel import col

from bot.content.importer import import_source, report_lines
from bot.content.originals import size_text
from bot.content.taxonomy import default_taxonomy
from bot.handlers.content_originals import PICTURE_LABEL
from bot.sandbox.factories import make_informant, make_station
from bot.sandbox.files import image_size
from bot.sandbox.models import SimMessage
from bot.sandbox.stage import Demo
from bot.sandbox.world import SimUser
from bot.services import roles as role_service
from storage import outbox as outbox_store
from storage.models import ContentItem

STARTER = Path(__file__).resolve().parents[2] / "content" / "packs" / "starter"
PUSHED_GUID = "starter-health-003"  # 七步洗手法 — a poster, so the card carries a picture


async def _ensure_informants(demo: Demo) -> list[str]:
    """Return informant keys, creating three informants directly if no scene made any."""
    keys = list(demo.state.get("informant_keys") or [])
    if keys:
        return keys
    runtime = demo.bot.runtime
    async with runtime.sessions() as session, session.begin():
        station_id = demo.state.get("station_id")
        if station_id is None:
            station = await make_station(session, county=None, created_at=runtime.now())
            assert station.id is not None
            station_id = station.id
        for i, name in enumerate(("王秀英", "李建国", "张丽"), start=1):
            key = f"informant_{i}"
            user = demo.user(key, name, started=True)
            await make_informant(
                session,
                station_id=station_id,
                telegram_id=user.id,
                real_name=name,
                interests=["health"],
                consent_at=runtime.now(),
                joined_at=runtime.now(),
            )
            keys.append(key)
    demo.state["informant_keys"] = keys
    return keys


async def _wait_for_push(demo: Demo, push_id: int) -> dict[str, int]:
    """Wait until the sender has handled every message of the push."""
    runtime = demo.bot.runtime
    for _ in range(600):
        async with runtime.sessions() as session:
            counts = await outbox_store.counts(session=session, push_id=push_id)
            push = await outbox_store.get_push(session=session, push_id=push_id)
        if counts["pending"] == 0 and push is not None and push.finished_at is not None:
            break
        await asyncio.sleep(0.05)
    await demo.settle()
    return counts


async def _fetch_original(demo: Demo, user: SimUser, card: SimMessage) -> None:
    """The informant presses "⬇ 原图" on the card and gets the print-size original."""
    t = demo.t
    label = t(PICTURE_LABEL)
    if not any(b.text == label for row in card.buttons for b in row):
        return
    demo.narrate(
        t(
            "The card's photo is what Telegram made of the poster; {name} wants to print it "
            "and presses “{label}”: the original comes as a file, not recompressed.",
            name=user.first_name,
            label=label,
        )
    )
    fresh = await demo.press(user, card, label)
    document = next((m for m in fresh if m.document), None)
    data = document.document_bytes() if document is not None else None
    if document is None or data is None:
        return
    demo.save_file("original-" + (document.filename or "poster.png"), data)
    width, height = image_size(data) or (0, 0)
    demo.narrate(
        t(
            "The file is the pack's original, {width}×{height} pixels ({size}), the same "
            "bytes; the next press re-sends it by its file id, with no upload.",
            width=width,
            height=height,
            size=size_text(len(data)),
        )
    )


async def play(demo: Demo) -> None:
    """Import the starter pack, push a poster from /catalog, show a card and the report."""
    t = demo.t
    runtime = demo.bot.runtime
    demo.scene(t("Day 1 — content reaches the informants"))
    demo.narrate(
        t(
            "The national curator imports the starter pack: kepubot content import "
            "bot/content/packs/starter"
        )
    )
    async with runtime.sessions() as session, session.begin():
        report = await import_source(
            session=session,
            source=str(STARTER),
            taxonomy=default_taxonomy(),
            now=runtime.now(),
            tz=runtime.settings.scheduler.tz,
        )
    demo.line("    " + report_lines(report, t)[0])
    demo.state["content_ids"] = report.content_ids
    keys = await _ensure_informants(demo)

    curator = demo.user("curator", "国家科普内容编辑")
    async with runtime.sessions() as session, session.begin():
        await role_service.grant(
            session=session, telegram_id=curator.id, role="curator", now=runtime.now()
        )
        item = (
            await session.execute(select(ContentItem).where(col(ContentItem.guid) == PUSHED_GUID))
        ).scalar_one()
    demo.state["curator_key"] = "curator"
    demo.state["pushed_content_id"] = item.id
    demo.narrate(t("kepubot admin grant --telegram-id {id} --role curator", id=curator.id))
    demo.narrate(t("The curator opens the catalogue, picks a poster and pushes it now."))
    listing = (await demo.command(curator, "catalog", show=False))[-1]
    demo.show(curator.first_name, listing)
    await demo.press(curator, listing, data=f"CAT:view:{item.id}", show=False)
    demo.show(curator.first_name, listing)
    confirm = (await demo.press(curator, listing, t("🚀 Push now")))[-1]
    fresh = await demo.press(curator, confirm, t("Yes, push"), show=False)
    progress = fresh[0]
    async with runtime.sessions() as session:
        push_id = max(
            p.id or 0 for p in await outbox_store.recent_pushes(session=session, limit=1)
        )
    demo.state["push_id"] = push_id
    counts = await _wait_for_push(demo, push_id)
    demo.show(curator.first_name, progress)
    for message in [*fresh[1:], *await demo.replies(curator, show=False)]:
        demo.show(curator.first_name, message)

    first = demo.users[keys[0]]
    cards = [m for m in first.messages if m.photo or "七步洗手法" in (m.text or "")]
    if cards:
        demo.narrate(
            t("What informant {name} receives (interested in health):", name=first.first_name)
        )
        demo.show(first.first_name, cards[-1])
        demo.new_messages(first)
        await _fetch_original(demo, first, cards[-1])
    demo.narrate(
        t(
            "{sent} informants got the card; the picture was uploaded once and its "
            "file id reused for everyone else. Others' interests did not match.",
            sent=counts["sent"],
        )
    )
    demo.narrate(t("An informant browses /feed and searches “诈骗”."))
    await demo.command(first, "search", "诈骗")
