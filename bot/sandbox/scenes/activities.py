"""Demo scene: a station admin registers activities with photos, and records content use.

Reads ``demo.state``: "station_admin_key" and "station_id" (created here when missing, so
the scene also runs alone), "pushed_content_id" (optional). Sets "activity_ids".
"""

from __future__ import annotations

from typing import cast

from PIL import ImageDraw
from sqlalchemy import select
from sqlmodel import col

from bot.content.cards import USED_OFFLINE_LABEL
from bot.i18n import N_
from bot.sandbox import photos
from bot.sandbox.factories import make_region_tree, make_station
from bot.sandbox.models import SimMessage
from bot.sandbox.stage import Demo
from bot.sandbox.world import SimUser
from bot.services import roles as role_service
from storage.models import Activity, ContentItem


def demo_photo(seed: int, label: str = "") -> bytes:
    """Return a 'photo' of an activity: its own board in its own scene (bot.sandbox.photos),
    so different seeds are different pictures to the perceptual hash too; ``label`` is
    written on it."""
    image = photos.photo(seed)
    if label:
        ImageDraw.Draw(image).text((20, 20), label, fill=(0, 0, 0))
    return photos.jpeg(image)


async def _ensure_station_admin(demo: Demo) -> tuple[str, int]:
    """Return the scene's station admin key and station, creating them when missing."""
    key = demo.state.get("station_admin_key")
    station_id = demo.state.get("station_id")
    if key and station_id and key in demo.users:
        return key, int(station_id)
    key = key or "station_admin"
    admin = demo.user(key, "王站长")
    async with demo.bot.runtime.sessions() as session, session.begin():
        await make_region_tree(session, ("330106",))
        if station_id is None:
            station = await make_station(
                session, name="西湖区文化站科普e站", created_at=demo.bot.runtime.now()
            )
            station_id = station.id
        await role_service.grant(
            session=session,
            telegram_id=admin.id,
            role="station_admin",
            station_id=station_id,
            now=demo.bot.runtime.now(),
        )
    demo.state["station_admin_key"], demo.state["station_id"] = key, station_id
    assert station_id is not None
    return key, int(station_id)


def _last_with(messages: list[SimMessage], label: str) -> SimMessage:
    for message in reversed(messages):
        if any(label in b.text for row in message.buttons for b in row):
            return message
    raise LookupError(label)


# What the station did with the pushed item, by the item's kind.
USE_NARRATION = {
    "poster": N_("The station put up the pushed poster in its hall: “Used offline” on the card."),
    "video": N_("The station played the pushed video in its hall: “Used offline” on the card."),
}
OTHER_USE = N_("The station used the pushed item in its hall: “Used offline” on the card.")


async def _use_offline(demo: Demo, admin: SimUser, content_id: int) -> None:
    """The admin finds the pushed item, opens its card and records how the station used it."""
    t = demo.t
    async with demo.bot.runtime.sessions() as session:
        item = await session.get(ContentItem, content_id)
    assert item is not None
    demo.narrate(t(USE_NARRATION.get(item.kind, OTHER_USE)))
    results = (await demo.command(admin, "search", item.title[:4], show=False))[-1]
    number = next(
        line.split(".", 1)[0].strip()
        for line in (results.text or "").splitlines()
        if item.title in line and "." in line
    )
    card = (await demo.press(admin, results, number, show=False))[-1]
    demo.show(admin.first_name, card)
    kind = (await demo.press(admin, card, t(USED_OFFLINE_LABEL)))[-1]
    await demo.press(admin, kind, kind.buttons[0][0].text)
    await demo.say(admin, "文化站大厅")
    await demo.say(admin, "约80人")


async def play(demo: Demo) -> None:
    """Register one activity with the guided form and two by photo caption; use content."""
    t = demo.t
    demo.scene(t("Activities — registered by messaging"))
    key, _station_id = await _ensure_station_admin(demo)
    admin = demo.users[key]
    ids: list[int] = []

    demo.narrate(
        t("The station admin registers a lecture with the guided form (the steps are summarised).")
    )
    await demo.command(admin, "activity", show=False)
    msgs = await demo.replies(admin, show=False)
    steps = [
        (t("Lecture/training"), None),
        (None, "科学健身讲座"),
        (t("Yesterday"), None),
        (None, "社区活动室"),
        (None, "六十"),
        (t("No campaign"), None),
    ]
    for button, text in steps:
        if button:
            msgs = await demo.press(admin, _last_with(admin.messages, button), button, show=False)
        else:
            msgs = await demo.say(admin, text or "", show=False)
    await admin.send_photo(demo_photo(1, "fitness"))
    await demo.replies(admin, show=False)
    await demo.press(
        admin, _last_with(admin.messages, t("All photos sent")), t("All photos sent"), show=False
    )
    demo.narrate(
        t(
            "Type, title, date, place, participants, campaign and a photo later, the "
            "bot asks for confirmation:"
        )
    )
    confirm = admin.messages[-1]
    demo.show(admin.first_name, confirm)
    await demo.press(admin, confirm, "✅ " + t("Confirm"))

    demo.narrate(t("That afternoon she just sends a photo with a caption from the venue."))
    demo.clock.advance(hours=5)
    caption = "#活动 今天 讲座 防范电信诈骗 四十五人"
    demo.user_says(admin.first_name, f"🖼 {caption}")
    await admin.send_photo(demo_photo(2, "anti-fraud"), caption=caption)
    msgs = await demo.replies(admin)
    await demo.press(admin, _last_with(msgs, "✅"), "✅ " + t("Confirm"))

    demo.narrate(
        t(
            "An album whose second photo was already used for the lecture: "
            "registered, and flagged for the coordinators."
        )
    )
    caption = "#活动 今天 展览 垃圾分类知识展 在社区广场举办 一百二十人"
    demo.user_says(admin.first_name, f"🖼🖼 {caption}")
    await admin.send_album(
        [demo_photo(3, "sorting"), demo_photo(2, "anti-fraud")], caption=caption
    )
    msgs = await demo.replies(admin)
    await demo.press(admin, _last_with(admin.messages, "✅"), "✅ " + t("Confirm"))

    async with demo.bot.runtime.sessions() as session:
        result = await session.execute(
            select(col(Activity.id)).order_by(col(Activity.id).desc()).limit(3)
        )
        ids = sorted(int(cast(int, i)) for i in result.scalars())
    demo.state["activity_ids"] = ids

    content_id = demo.state.get("pushed_content_id")
    if content_id:
        await _use_offline(demo, admin, int(content_id))
    await demo.command(admin, "activities")
