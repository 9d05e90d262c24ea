"""Curator pushes through the real bot and the sandbox: cards, progress, report."""

from __future__ import annotations

from pathlib import Path

from bot.content.importer import import_source
from bot.content.taxonomy import default_taxonomy
from bot.sandbox.harness import RunningBot
from storage import outbox as outbox_store
from storage.models import ContentItem
from tests.content_push.conftest import grant, seed_world, wait_outbox

STARTER = Path(__file__).resolve().parents[2] / "bot/content/packs/starter"


async def _import_starter(bot: RunningBot) -> list[int]:
    async with bot.runtime.sessions() as session, session.begin():
        report = await import_source(
            session=session,
            source=str(STARTER),
            taxonomy=default_taxonomy(),
            now=bot.runtime.now(),
            tz=bot.runtime.settings.scheduler.tz,
        )
    return report.content_ids


async def _item(bot: RunningBot, guid: str) -> ContentItem:
    from sqlalchemy import select

    async with bot.runtime.sessions() as session:
        return (
            await session.execute(select(ContentItem).where(ContentItem.guid == guid))
        ).scalar_one()


async def test_curator_pushes_from_catalog_with_progress_and_report(push_bot) -> None:
    async with push_bot() as bot:
        sb = bot.sandbox
        await _import_starter(bot)
        item = await _item(bot, "starter-health-003")  # a poster with media
        readers = [sb.user(f"读者{i}", started=True) for i in range(5)]
        english = sb.user("Ann", language_code="en", started=True)
        await seed_world(bot.runtime, [*readers, english], interests=["health"])
        other = sb.user("只看农业", started=True)
        await seed_world(bot.runtime, [other], interests=["agriculture"])
        curator = sb.user("策展人")
        await grant(bot.runtime, curator.id, "curator")

        await curator.command("catalog")
        listing = await curator.wait_for_message()
        assert "#" in (listing.text or "")
        await curator.press(listing, data=f"CAT:view:{item.id}")
        await bot.settle()
        assert "七步洗手法" in (listing.text or "")
        await curator.press(listing, "🚀 立即推送")
        confirm = await curator.wait_for_message()
        assert "6" in (confirm.text or "")  # five Chinese readers and Ann
        await curator.press(confirm, "确认推送")
        await wait_outbox(bot)

        for reader in readers:
            cards = reader.messages
            assert len(cards) == 1
            assert cards[0].photo and "七步洗手法" in (cards[0].caption or "")
            labels = [b.text for row in cards[0].buttons for b in row]
            # The share feature adds its rows; our link is last (tracked when shares run).
            assert labels[-1] == "🔗 打开查看" and cards[0].buttons[-1][0].url
            assert "USE" not in str([b.callback_data for row in cards[0].buttons for b in row])
        ann_card = english.messages[0]
        assert "Seven-step handwashing" in (ann_card.caption or "")
        assert ann_card.buttons[-1][0].text == "🔗 Open"
        assert other.messages == []
        # One upload, then the cached file id: the item now carries it.
        assert (await _item(bot, "starter-health-003")).media_file_id
        assert sb.stats.calls.get("sendPhoto") == 6
        report = await curator.wait_for_message(predicate=lambda m: "推送报告" in (m.text or ""))
        assert "已发送 6 ·" in (report.text or "")
        progress = [m for m in curator.messages if m.edits]
        assert progress and "已完成" in (progress[-1].text or "")


async def test_station_admin_gets_used_offline_button(push_bot) -> None:
    async with push_bot() as bot:
        sb = bot.sandbox
        ids = await _import_starter(bot)
        admin = sb.user("站长", started=True)
        await seed_world(bot.runtime, [admin])
        from sqlalchemy import select

        from storage.models import Station

        async with bot.runtime.sessions() as session:
            station_id = (await session.execute(select(Station.id))).scalars().first()
        await grant(bot.runtime, admin.id, "station_admin", station_id=station_id)
        from bot.services import push as push_service

        async with bot.runtime.sessions() as session, session.begin():
            result = await push_service.push_item(
                session=session,
                content_id=ids[0],
                now=bot.runtime.now(),
                tz=bot.runtime.settings.scheduler.tz,
            )
        assert result.queued == 1
        from bot.runtime.outbox import notify_outbox

        notify_outbox(bot.runtime)
        await wait_outbox(bot)
        card = admin.messages[0]
        data = [b.callback_data for row in card.buttons for b in row]
        assert f"USE:{ids[0]}" in data
        async with bot.runtime.sessions() as session:
            rows = await outbox_store.messages_of(
                session=session, chat_id=admin.id, kind="content"
            )
        assert [r.state for r in rows] == ["sent"]
