"""Demo scene: a station admin prints the invite poster; twenty informants join.

Reads ``demo.state``: "station_id" (a recognised station; created here if missing),
"station_admin_key" (a ``demo.users`` key; a station admin is created here if missing).
Sets: "station_id", "station_admin_key", "invite_link", "informant_keys" (``demo.users``
keys of the informants who joined, first one shown in full).
"""

from __future__ import annotations

from bot.sandbox.factories import make_station
from bot.sandbox.stage import Demo
from bot.sandbox.world import SimUser
from bot.services import roles as role_service
from storage.models import Station

# The other nineteen informants (the first, 王秀英, is shown step by step).
NAMES = [
    "李建国",
    "张丽",
    "刘洋",
    "陈静",
    "杨帆",
    "黄敏",
    "赵磊",
    "周婷",
    "吴强",
    "徐燕",
    "孙浩",
    "马红",
    "朱伟",
    "胡娟",
    "郭涛",
    "何芳",
    "林峰",
    "高雪",
    "罗斌",
]
TOPICS = ["health", "anti_fraud", "emergency", "elderly", "agriculture", "daily_life"]


async def _ensure_station(demo: Demo) -> int:
    station_id = demo.state.get("station_id")
    if station_id is not None:
        async with demo.bot.runtime.sessions() as session:
            station = await session.get(Station, station_id)
            if station is not None and station.status in ("recognised", "rectifying"):
                return int(station_id)
    async with demo.bot.runtime.sessions() as session, session.begin():
        station = await make_station(
            session,
            name="西湖区北山街道新时代文明实践站",
            venue_type="civilisation_centre",
            county=None,
            created_at=demo.bot.runtime.now(),
            recognised_at=demo.bot.runtime.now(),
        )
        assert station.id is not None
        demo.state["station_id"] = station.id
        return station.id


async def _ensure_admin(demo: Demo, station_id: int) -> SimUser:
    key = demo.state.get("station_admin_key")
    if key in demo.users:
        admin = demo.users[key]
    else:
        key = "station_admin"
        admin = demo.user(key, "站长老周")
        demo.state["station_admin_key"] = key
    async with demo.bot.runtime.sessions() as session, session.begin():
        await role_service.grant(
            session=session,
            telegram_id=admin.id,
            role="station_admin",
            station_id=station_id,
            now=demo.bot.runtime.now(),
        )
    return admin


async def _join(
    demo: Demo,
    user: SimUser,
    payload: str,
    name: str,
    phone: str,
    topics: list[str],
    *,
    show: bool,
) -> None:
    t = demo.t
    consent = (await demo.command(user, "start", payload, show=show))[-1]
    await demo.press(user, consent, t("✅ Agree"), show=show)
    await demo.say(user, name, show=show)
    if show:
        demo.user_says(user.first_name, t("[shares own contact {phone}]", phone=phone))
    await user.send_contact(phone)
    topic_msg = (await demo.replies(user, show=show))[-1]
    for code in topics:  # shown, so the summary's topics are ones the transcript chose
        await demo.press(user, topic_msg, data=f"JN:int:{code}", show=show)
    confirm = (await demo.press(user, topic_msg, t("Done ✔"), show=show))[-1]
    await demo.press(user, confirm, t("✅ Confirm and join"), show=show)


async def play(demo: Demo) -> None:
    """The admin gets the link and poster; one informant joins in full, nineteen quietly."""
    t = demo.t
    demo.scene(t("Day 1 — informants join the station"))
    station_id = await _ensure_station(demo)
    admin = await _ensure_admin(demo, station_id)
    demo.narrate(t("The station admin asks for an invite link and a poster to print."))
    replies = await demo.command(admin, "invite")
    poster = next(m for m in replies if m.document)
    data = poster.document_bytes()
    if data:
        demo.save_file("invite-poster.png", data)
    link = next(w for m in replies for w in (m.text or "").split() if "?start=" in w)
    payload = link.rsplit("start=", 1)[1]
    demo.state["invite_link"] = link

    demo.narrate(t("A resident scans the QR code on the notice board and joins."))
    first = demo.user("informant_1", "王秀英")
    await _join(demo, first, payload, "王秀英", "+8613800000001", ["health", "elderly"], show=True)
    keys = ["informant_1"]
    for i, name in enumerate(NAMES, start=2):
        key = f"informant_{i}"
        user = demo.user(key, name)
        await _join(
            demo,
            user,
            payload,
            name,
            f"+86138000000{i:02d}",
            [TOPICS[i % len(TOPICS)], TOPICS[(i + 1) % len(TOPICS)]],
            show=False,
        )
        keys.append(key)
    demo.state["informant_keys"] = keys
    demo.narrate(t("{n} more residents joined the same way.", n=len(NAMES)))
    demo.narrate(t("The station admin looks at the roster."))
    await demo.command(admin, "informants")
    demo.narrate(t("An informant checks what is stored about them."))
    await demo.command(first, "me")
