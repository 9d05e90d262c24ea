"""/stations pages through the stations of a coordinator's area, in the same message."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.sandbox.factories import make_station
from bot.sandbox.harness import RunningBot
from bot.sandbox.models import SimMessage
from bot.sandbox.world import SimUser
from bot.services import roles as role_service
from storage import stations as station_store
from tests.stations.helpers import (
    BINJIANG,
    HANGZHOU,
    XIHU,
    grant_coordinator,
    in_tx,
    load_sample,
    settle_last,
)

REFUSAL = "抱歉，您没有权限进行此操作。"


async def _world(
    bot_env: RunningBot, *, region: str = XIHU, n: int = 45, language_code: str = "zh-hans"
) -> tuple[SimUser, list[int]]:
    """A coordinator of ``region`` with ``n`` listed Xihu stations, plus some never listed."""
    coordinator = bot_env.sandbox.user("西湖区科协", language_code=language_code, started=True)
    now = bot_env.runtime.now()

    async def setup(s: AsyncSession) -> list[int]:
        await load_sample(s, now)
        await grant_coordinator(s, coordinator.id, region, now)
        ids = []
        for i in range(n):
            status = ("recognised", "rectifying", "submitted", "county_approved")[i % 4]
            station = await make_station(
                s, name=f"西湖{i + 1:02d}号e站", county=XIHU, status=status
            )
            assert station.id is not None
            ids.append(station.id)
        await make_station(s, name="西湖草稿", county=XIHU, status="draft")
        await make_station(s, name="西湖已撤销", county=XIHU, status="revoked")
        return ids

    return coordinator, await in_tx(bot_env, setup)


def _opened(msg: SimMessage) -> list[int]:
    """Return the station ids of the message's open buttons, in order."""
    return [
        int(b.callback_data.removeprefix("MGT:open:"))
        for row in msg.buttons
        for b in row
        if b.callback_data and b.callback_data.startswith("MGT:open:")
    ]


def _nav(msg: SimMessage) -> list[str]:
    """Return the labels of the page buttons."""
    return [
        b.text
        for row in msg.buttons
        for b in row
        if b.callback_data and b.callback_data.startswith("MGT:page:")
    ]


async def _press(bot_env: RunningBot, user: SimUser, msg: SimMessage, **how: str) -> SimMessage:
    """Press a button of ``msg``; it must be answered quietly and edit ``msg`` in place."""
    sent = len(user.messages)
    answer = await user.press(msg, how.get("text"), data=how.get("data"))
    assert answer is not None and not answer.get("show_alert"), answer
    page = await settle_last(bot_env, user)
    assert len(user.messages) == sent and page.message_id == msg.message_id
    return page


async def test_coordinator_pages_forward_and_back(bot_env: RunningBot) -> None:
    coordinator, ids = await _world(bot_env)
    await coordinator.command("stations")
    listing = await settle_last(bot_env, coordinator)
    text = listing.text or ""
    assert "辖区内站点" in text and "下列为第 1–20 个站点，共 45 个。" in text
    assert "西湖草稿" not in str(listing.buttons) and "滨江" not in str(listing.buttons)
    assert _opened(listing) == ids[:20]
    assert _nav(listing) == ["第 1/3 页", "下一页 ›"]
    assert all(len((b.callback_data or "").encode()) <= 64 for row in listing.buttons for b in row)

    page = await _press(bot_env, coordinator, listing, text="下一页 ›")
    assert _opened(page) == ids[20:40]
    assert _nav(page) == ["‹ 上一页", "第 2/3 页", "下一页 ›"]
    assert "下列为第 21–40 个站点，共 45 个。" in (page.text or "")

    page = await _press(bot_env, coordinator, page, text="下一页 ›")
    assert _opened(page) == ids[40:]
    assert _nav(page) == ["‹ 上一页", "第 3/3 页"]
    assert "下列为第 41–45 个站点，共 45 个。" in (page.text or "")

    page = await _press(bot_env, coordinator, page, text="‹ 上一页")
    assert _opened(page) == ids[20:40]

    # The station buttons still open cards (as a new message).
    await coordinator.press(page, f"#{ids[25]} 西湖26号e站")
    card = await settle_last(bot_env, coordinator)
    assert card.message_id != page.message_id and "西湖26号e站" in (card.text or "")


async def test_pages_in_english(bot_env: RunningBot) -> None:
    coordinator, ids = await _world(bot_env, language_code="en")
    await coordinator.command("stations")
    listing = await settle_last(bot_env, coordinator)
    assert _nav(listing) == ["Page 1/3", "Next ›"]
    assert "Listed below: 1–20 of 45." in (listing.text or "")
    page = await _press(bot_env, coordinator, listing, text="Next ›")
    assert _nav(page) == ["‹ Previous", "Page 2/3", "Next ›"] and _opened(page) == ids[20:40]


async def test_out_of_range_and_repeated_pages(bot_env: RunningBot) -> None:
    coordinator, ids = await _world(bot_env)
    await coordinator.command("stations")
    listing = await settle_last(bot_env, coordinator)

    page = await _press(bot_env, coordinator, listing, data="MGT:page:99")  # clamped
    assert _nav(page) == ["‹ 上一页", "第 3/3 页"] and _opened(page) == ids[40:]

    # The current page pressed again changes nothing and still answers.
    page = await _press(bot_env, coordinator, page, text="第 3/3 页")
    assert _opened(page) == ids[40:]

    # Stations went away since the message was sent: the stale page shrinks to what is left.
    async def shrink(s: AsyncSession) -> None:
        for station_id in ids[15:]:
            station = await station_store.get_station(session=s, station_id=station_id)
            assert station is not None
            station.status = "revoked"

    await in_tx(bot_env, shrink)
    page = await _press(bot_env, coordinator, page, text="‹ 上一页")
    assert _opened(page) == ids[:15] and _nav(page) == []
    assert "下列为" not in (page.text or "")


async def test_page_requests_recheck_the_role(bot_env: RunningBot) -> None:
    coordinator, ids = await _world(bot_env, region=HANGZHOU)
    now = bot_env.runtime.now()

    async def add_binjiang(s: AsyncSession) -> list[int]:
        return [
            (await make_station(s, name=f"滨江{i}号e站", county=BINJIANG)).id or 0
            for i in range(3)
        ]

    binjiang = await in_tx(bot_env, add_binjiang)
    await coordinator.command("stations")
    listing = await settle_last(bot_env, coordinator)
    assert _nav(listing) == ["第 1/3 页", "下一页 ›"]  # 48 stations of the city
    assert "共 48 个" in (listing.text or "")

    # Narrowed to one county: an old message's page shows only what the role now covers.
    async def narrow(s: AsyncSession) -> None:
        await role_service.revoke(
            session=s,
            telegram_id=coordinator.id,
            role="coordinator",
            region_code=HANGZHOU,
            now=now,
        )
        await grant_coordinator(s, coordinator.id, BINJIANG, now)

    await in_tx(bot_env, narrow)
    page = await _press(bot_env, coordinator, listing, text="下一页 ›")
    assert _opened(page) == binjiang and _nav(page) == []
    assert not set(ids) & set(_opened(page))

    # Role gone: the localised refusal, and the message stays as it was.
    await in_tx(
        bot_env,
        lambda s: role_service.revoke(
            session=s,
            telegram_id=coordinator.id,
            role="coordinator",
            region_code=BINJIANG,
            now=now,
        ),
    )
    before = (page.text, page.buttons)
    answer = await coordinator.press(page, data="MGT:page:1")
    assert answer is not None and answer.get("show_alert") and answer.get("text") == REFUSAL
    await bot_env.settle()
    assert (page.text, page.buttons) == before
