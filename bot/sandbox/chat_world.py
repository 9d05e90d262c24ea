"""The world `kepubot chat` starts in: a region, a station, an invite, content, an application.

Every ``--as`` role finds what its flows need (see docs/sandbox.md): the informant an
invite link to join with, the station admin a roster and a catalogue, the coordinator an
application waiting for review, the curator the starter pack.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bot.content.importer import import_source
from bot.content.taxonomy import default_taxonomy
from bot.core.regions_csv import parse_regions_csv
from bot.data import REGIONS_SAMPLE_CSV
from bot.i18n import Translator
from bot.sandbox.factories import make_informant, make_person, make_region, make_station
from bot.sandbox.harness import RunningBot
from bot.sandbox.world import SimUser
from bot.services import invites as invite_service
from bot.services import roles as role_service
from storage.models import StationEvidence

ROLES = ("informant", "station-admin", "coordinator", "curator")
SAMPLE_COUNTY = "330106"  # 西湖区, Hangzhou, from the bundled regions sample
STARTER = Path(__file__).resolve().parents[1] / "content" / "packs" / "starter"
STATION_NAME = "西湖区文化馆科普e站"
APPLICATION_NAME = "文三路小学科普e站"
ROSTER = ("王秀英", "李建国", "张丽")
FIRST_SEEDED_ID = 9_100_000_000  # Telegram ids of seeded people, far from the sandbox's own


@dataclass
class ChatWorld:
    """What was seeded: ids and names the chat prints as hints."""

    station_id: int
    invite_payload: str
    application_id: int
    content_count: int
    hints: list[str] = field(default_factory=list)


async def seed_chat_world(bot: RunningBot, user: SimUser, role: str, t: Translator) -> ChatWorld:
    """Seed the sample world, give ``user`` the role; return what a person needs to start."""
    runtime = bot.runtime
    now = runtime.now()
    parsed = parse_regions_csv(Path(REGIONS_SAMPLE_CSV).read_text(encoding="utf-8"))
    async with runtime.sessions() as session, session.begin():
        for row in parsed.rows:
            await make_region(
                session,
                code=row.code,
                name=row.name,
                name_en=row.name_en,
                level=row.level,
                parent_code=row.parent_code,
            )
        station = await make_station(
            session, name=STATION_NAME, county=SAMPLE_COUNTY, created_at=now, recognised_at=now
        )
        assert station.id is not None
        for offset, name in enumerate(ROSTER):
            await make_informant(
                session,
                station_id=station.id,
                telegram_id=FIRST_SEEDED_ID + offset,
                real_name=name,
                interests=["health"],
                consent_at=now,
                joined_at=now,
            )
        invite = await invite_service.create_invite(
            session=session,
            station_id=station.id,
            bot_username=str(bot.sandbox.world.bot_user["username"]),
            actor_id=None,
            now=now,
        )
        applicant = await make_person(
            session, telegram_id=FIRST_SEEDED_ID + 99, first_name="李老师", created_at=now
        )
        assert applicant.id is not None
        application = await make_station(
            session,
            name=APPLICATION_NAME,
            venue_type="school",
            address="杭州市西湖区文三路1号",
            county=SAMPLE_COUNTY,
            status="submitted",
            applicant_id=applicant.id,
            created_at=now,
        )
        assert application.id is not None
        for have in StationEvidence.HAVES:
            session.add(
                StationEvidence(
                    station_id=application.id, have=have, text=t("Described."), created_at=now
                )
            )
        report = await import_source(
            session=session,
            source=str(STARTER),
            taxonomy=default_taxonomy(),
            now=now,
            tz=runtime.settings.scheduler.tz,
        )
        if role != "informant":
            await role_service.grant(
                session=session,
                telegram_id=user.id,
                role=role,
                station_id=station.id if role == "station-admin" else None,
                region_code=SAMPLE_COUNTY if role == "coordinator" else None,
                now=now,
            )
    world = ChatWorld(
        station_id=station.id,
        invite_payload=invite.payload,
        application_id=application.id,
        content_count=len(report.content_ids),
    )
    world.hints = _hints(world, role, t)
    return world


def _hints(world: ChatWorld, role: str, t: Translator) -> list[str]:
    """Return the lines that tell a person what the seeded world holds for their role."""
    lines = [
        t(
            "Station: {station} (西湖区), {n} informants; {count} content items in the catalogue.",
            station=STATION_NAME,
            n=len(ROSTER),
            count=world.content_count,
        )
    ]
    if role == "informant":
        lines.append(
            t("To join, type: /start {payload}", payload=world.invite_payload),
        )
    elif role == "station-admin":
        lines.append(
            t("Try /invite, /informants, /activity or #活动 11月28日 讲座 垃圾分类 30人.")
        )
    elif role == "coordinator":
        lines.append(
            t(
                "Waiting for your review: {name} (/pending).",
                name=APPLICATION_NAME,
            )
        )
    else:
        lines.append(t("Try /catalog or /newcontent."))
    return lines
