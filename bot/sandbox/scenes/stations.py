"""Demo scene: regions are imported, a station applies, the county checks it on site and
the city recognises it.

Sets in ``demo.state``: ``region_code`` (the county, 330106 西湖区), ``coordinator_keys``
(``{"county": key, "city": key}``), ``station_id`` and ``station_admin_key`` (the
recognised station and its admin), ``second_station_id`` (a station imported from CSV).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from bot.sandbox import photos
from bot.sandbox.models import SimMessage
from bot.sandbox.stage import Demo
from bot.services import regions as region_service
from bot.services import roles as role_service
from bot.services.stations_csv import import_stations
from storage.stations import find_station, list_stations

T = TypeVar("T")
COUNTY, CITY = "330106", "330100"
SECOND_STATIONS_CSV = (
    "name,region_code,venue_type,address,external_ref\n"
    "滨江区长河街道新时代文明实践站,330108,civilisation_centre,长河路1号,ZJ-HZ-0007\n"
).encode()


def evidence_photo(n: int) -> bytes:
    """Return the applicant's n-th evidence photo (each a picture of its own)."""
    return photos.jpeg(photos.photo(500 + n))


async def _tx(demo: Demo, fn: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``fn`` in one transaction beside the running bot."""
    async with demo.bot.runtime.sessions() as session, session.begin():
        return await fn(session)


def _last(messages: list[SimMessage]) -> SimMessage:
    return messages[-1]


async def play(demo: Demo) -> None:
    """Play the scene."""
    t = demo.t
    now = demo.bot.runtime.now()
    demo.scene(t("Day 1 — a station applies and is recognised"))
    result = await _tx(demo, lambda s: region_service.import_sample(session=s, now=now))
    demo.narrate(
        t(
            "kepubot regions import bot/data/regions_sample.csv → {n} regions of Zhejiang",
            n=result.new + result.unchanged,
        )
    )
    county = demo.user("coord_county", "西湖区科协陈老师", started=True)
    city = demo.user("coord_city", "杭州市科协周老师", started=True)

    async def grant(session: AsyncSession) -> None:
        for user, code in ((county, COUNTY), (city, CITY)):
            await role_service.grant(
                session=session, telegram_id=user.id, role="coordinator", region_code=code, now=now
            )

    await _tx(demo, grant)
    demo.narrate(
        t(
            "kepubot admin grant --role coordinator: {county} (西湖区 {a}), {city} (杭州市 {b})",
            county=county.first_name,
            a=COUNTY,
            city=city.first_name,
            b=CITY,
        )
    )
    demo.state["region_code"] = COUNTY
    demo.state["coordinator_keys"] = {"county": "coord_county", "city": "coord_city"}

    # --- the application -----------------------------------------------------------------
    applicant = demo.user("station_admin", "王校长", started=True)
    demo.narrate(t("A school principal applies with /apply."))
    await demo.command(applicant, "apply")
    await demo.say(applicant, "文三路小学科普e站")
    venue = _last(demo.new_messages(applicant) or applicant.messages)
    await demo.press(applicant, venue, t("School"))
    await demo.say(applicant, "杭州市西湖区文三路100号")
    await demo.say(applicant, "330100")  # a city code: its counties are offered
    offer = applicant.messages[-1]
    await demo.press(applicant, offer, "西湖区")
    await applicant.send_photo(evidence_photo(0), caption="校园无线网络全覆盖")
    demo.user_says(applicant.first_name, t("[photo] 校园无线网络全覆盖"))
    saved = _last(await demo.replies(applicant))
    await demo.press(applicant, saved, t("Next step ▶"))
    demo.narrate(t("… personnel, venue, activities and terminals the same way (not shown)."))
    for n, text in enumerate(
        (
            "科学教师3名、志愿者12名",
            "科普活动室80平方米",
            "每月一次科普讲座",
            "电子屏1块、电脑10台",
        ),
        start=1,
    ):
        await applicant.send_photo(evidence_photo(n), caption=text)
        saved = _last(await demo.replies(applicant, show=False))
        await applicant.press(saved, t("Next step ▶"))
        await demo.replies(applicant, show=False)
    summary = applicant.messages[-1]
    demo.show(applicant.first_name, summary)
    await demo.press(applicant, summary, t("✅ Submit"))
    await demo.replies(county)

    # --- county review with the on-site check --------------------------------------------
    demo.narrate(t("The county coordinator reviews the materials and checks on site."))
    listing = _last(await demo.command(county, "pending"))
    card = _last(await demo.press(county, listing, index_text(listing)))
    await demo.press(county, card, t("✅ Approve (on-site check)"))
    ask = county.messages[-1]
    await demo.press(county, ask, t("Yesterday"))
    await demo.say(county, "陈老师、李干事")
    await demo.say(county, "网络畅通，活动室整洁，有活动台账")
    await county.send_location(30.2799, 120.1290)
    demo.user_says(county.first_name, t("[location] 30.2799, 120.1290"))
    await demo.replies(county)
    await demo.replies(applicant)
    await demo.replies(city, show=False)

    # --- city re-verification ------------------------------------------------------------
    demo.narrate(t("The city coordinator re-verifies and recognises the station."))
    listing = _last(await demo.command(city, "pending"))
    demo.user_says(city.first_name, f"[{index_text(listing)}]")  # the photos are not shown again
    await demo.press(city, listing, index_text(listing), show=False)
    card = city.messages[-1]
    demo.show(city.first_name, card)
    await demo.press(city, card, t("🏅 Recognise"))
    await demo.replies(applicant)

    recognised = await _tx(
        demo, lambda s: list_stations(session=s, statuses=["recognised"], region_codes=[COUNTY])
    )
    demo.state["station_id"] = recognised[0].id
    demo.state["station_admin_key"] = "station_admin"

    imported = await _tx(
        demo, lambda s: import_stations(session=s, data=SECOND_STATIONS_CSV, now=now)
    )
    demo.narrate(
        t(
            "kepubot stations import registry.csv → {n} station already recognised "
            "elsewhere added.",
            n=imported.created,
        )
    )
    second = await _tx(
        demo, lambda s: find_station(session=s, external_ref="ZJ-HZ-0007", name="", region_code="")
    )
    if second is not None:
        demo.state["second_station_id"] = second.id


def index_text(message: SimMessage) -> str:
    """Return the text of the first button of a message."""
    return message.buttons[0][0].text
