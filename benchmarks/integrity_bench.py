"""Benchmark the automatic integrity findings on a province-sized world with planted fraud.

The world: 2,000 stations in 66 counties, 50,000 informants, a year of activities (with a
photo each), content uses and shares. Planted at known places: copies of photos
(recompressed, resized, the very same file), duplicate activities, duplicate content uses,
commercial activities (sales answer, wording, health claims), inflated head counts,
reported audiences without visits, paper stations, application bursts. Honest look-alikes
beside them: re-shot photos of the same poster board, two real lectures on one day, a
school's real 500-person assembly, warnings against sales ("防范保健品诈骗"), a second
showing of a video to another audience, a station recognised weeks ago with no activity
yet, five applications in a day (the threshold, not above it).

Photos in the planted and look-alike cases are drawn with Pillow (``bot.sandbox.photos``)
and hashed as the bot does; the year's other photos get random 64-bit hashes (distinct
photos measured a median distance of 32 bits, as random hashes have).

It runs the rules as the bot does: ``recheck_activity`` on each case activity (and on a
sample of ordinary ones), ``record_photo_hashes`` on the downloaded photos,
``check_content_use`` on each case use, and the daily ``sweep`` once, then reports per kind
the recall (planted cases flagged), the false flags (honest cases flagged) and the time.

    .venv/bin/python benchmarks/integrity_bench.py              # full size, SQLite file
    .venv/bin/python benchmarks/integrity_bench.py --small      # 20x smaller
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

from bot.config import Settings, load_settings  # noqa: E402
from bot.sandbox import photos  # noqa: E402
from bot.sandbox.factories import insert_rows  # noqa: E402
from bot.services import detection, findings_auto  # noqa: E402
from storage.db import session_factory  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import (  # noqa: E402
    Activity,
    ActivityPhoto,
    ContentItem,
    ContentUse,
    Informant,
    IntegrityFlag,
    Region,
    ShareEvent,
    Station,
)

TODAY = dt.date(2026, 11, 23)
NOW = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)
CITIES, COUNTIES_PER_CITY = 11, 6
TITLES = (
    "防范电信诈骗",
    "垃圾分类",
    "急救知识",
    "科学健身",
    "防灾减灾",
    "节约用水",
    "食品安全",
    "网络安全",
    "心理健康",
    "合理用药",
    "天文科普",
    "人工智能入门",
)
SALES = (
    "老年人保健品体验讲座",
    "理财产品推介会",
    "磁疗床会销",
    "神奇药酒包治百病",
    "降血压特效茶品鉴",
    "免费领鸡蛋产品体验",
)
WARNINGS = ("防范保健品诈骗", "警惕会销陷阱", "识别理财骗局", "远离传销", "谨防降血压神药骗局")
KINDS = (
    "photo_reuse",
    "duplicate_activity",
    "duplicate_use",
    "commercial",
    "participants_high",
    "unverified_reach",
    "paper_station",
    "application_burst",
)


@dataclass
class Cases:
    """Planted and honest cases per kind: (subject type, subject id) each."""

    planted: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    honest: dict[str, list[tuple[str, int]]] = field(default_factory=dict)

    def add(self, kind: str, planted: bool, subject: tuple[str, int]) -> None:
        """Record one case."""
        (self.planted if planted else self.honest).setdefault(kind, []).append(subject)


@dataclass
class World:
    """What was built: ids to plant on, the cases, the activities to re-check."""

    stations: list[tuple[int, str]]  # (id, county)
    cases: Cases
    to_check: list[int]  # activity ids whose re-check runs as after a save
    photos_to_hash: dict[int, bytes]  # ActivityPhoto id -> downloaded bytes
    uses_to_check: list[int]


def _counties() -> list[str]:
    return [
        f"33{c:02d}{k:02d}" for c in range(1, CITIES + 1) for k in range(1, COUNTIES_PER_CITY + 1)
    ]


async def _ids(session: AsyncSession, column: Any, since: int = 0) -> list[int]:
    rows = await session.execute(select(column).where(column > since).order_by(column))
    return [int(i) for i in rows.scalars()]


async def build(
    session: AsyncSession, *, stations: int, informants: int, seed: int, planted: int
) -> World:
    """Insert the world in bulk and plant the cases; return what to check."""
    rng = random.Random(seed)
    counties = _counties()
    regions = [{"code": "330000", "name": "浙江省", "level": "province", "parent_code": None}]
    regions += [
        {"code": f"33{c:02d}00", "name": f"市{c}", "level": "city", "parent_code": "330000"}
        for c in range(1, CITIES + 1)
    ]
    regions += [
        {"code": k, "name": f"县{k}", "level": "county", "parent_code": k[:4] + "00"}
        for k in counties
    ]
    await insert_rows(session, Region, regions)
    long_ago = NOW - dt.timedelta(days=500)
    # Paper stations (no informant, no activity) and newly recognised ones come last.
    n_paper = n_new = planted // 2
    n_plain = stations - n_paper - n_new
    rows = []
    for i in range(stations):
        recognised = NOW - dt.timedelta(days=30) if i >= n_plain + n_paper else long_ago
        rows.append(
            {
                "name": f"科普e站{i:05d}",
                "venue_type": "cultural_centre",
                "region_code": counties[i % len(counties)],
                "status": "recognised",
                "created_at": long_ago,
                "submitted_at": long_ago - dt.timedelta(days=10),
                "recognised_at": recognised,
            }
        )
    await insert_rows(session, Station, rows)
    ids = await _ids(session, Station.id)
    station_list = [(sid, counties[i % len(counties)]) for i, sid in enumerate(ids)]
    plain, paper, new = ids[:n_plain], ids[n_plain : n_plain + n_paper], ids[n_plain + n_paper :]
    cases = Cases()
    for sid in paper:
        cases.add("paper_station", True, ("station", sid))
    for sid in plain + new:
        cases.add("paper_station", False, ("station", sid))
    # Informants (no person row needed), spread over plain and new stations.
    with_informants = plain + new
    await insert_rows(
        session,
        Informant,
        [
            {
                "station_id": with_informants[i % len(with_informants)],
                "real_name": f"信息员{i}",
                "interests": [],
                "joined_at": long_ago,
                "paused": False,
            }
            for i in range(informants)
        ],
    )
    await insert_rows(
        session,
        ContentItem,
        [
            {
                "guid": f"g{i}",
                "title": TITLES[i % len(TITLES)],
                "summary": "",
                "category": "health",
                "kind": "video",
                "url": "https://www.kepuchina.cn/",
                "tags": [],
                "regions": [],
                "created_at": long_ago,
            }
            for i in range(20)
        ],
    )
    content = await _ids(session, ContentItem.id)
    # A year of activities: two a month per plain station, the last within 30 days.
    acts = []
    for sid in plain:
        for m in range(24):
            day = TODAY - dt.timedelta(days=15 * m + rng.randrange(0, 10))
            acts.append(
                {
                    "station_id": sid,
                    "type": rng.choice(Activity.TYPES[:4]),
                    "title": f"{rng.choice(TITLES)}第{m}期",
                    "held_on": day,
                    "participants": rng.randrange(10, 200),
                    "flagged": False,
                    "commercial": False,
                    "created_at": NOW,
                }
            )
    await insert_rows(session, Activity, acts)
    act_ids = await _ids(session, Activity.id)
    await insert_rows(
        session,
        ActivityPhoto,
        [
            {
                "activity_id": a,
                "file_id": f"bg{a}",
                "file_unique_id": f"bg{a}",
                "phash": f"{rng.getrandbits(64):016x}",
            }
            for a in act_ids
        ],
    )
    # Content uses: a few a month, different audiences.
    uses = [
        {
            "station_id": sid,
            "content_id": rng.choice(content),
            "use_kind": "played",
            "audience": rng.randrange(10, 300),
            "used_on": TODAY - dt.timedelta(days=d),
            "created_at": NOW,
        }
        for sid in plain
        for d in rng.sample(range(1, 360), 8)
    ]
    await insert_rows(session, ContentUse, uses)
    # Shares: in-bot shares (no reported audience) of the plain stations' informants.
    infs = dict((await session.execute(select(Informant.station_id, Informant.id))).tuples().all())
    shares = [
        {
            "informant_id": infs[sid],
            "station_id": sid,
            "content_id": rng.choice(content),
            "channel": "telegram_inline",
            "target": "",
            "audience": 0,
            "flagged": False,
            "day": TODAY - dt.timedelta(days=rng.randrange(0, 30)),
            "dedupe_key": f"s{sid}:{k}",
            "created_at": NOW,
        }
        for sid in plain[: len(plain)]
        for k in range(2)
    ]
    # Reported audiences without visits: planted on some plain stations; others report
    # audiences below the alert (honest).
    unverified = rng.sample(plain, planted // 2)
    for sid in plain:
        big = sid in unverified
        shares.append(
            {
                "informant_id": infs[sid],
                "station_id": sid,
                "content_id": content[0],
                "channel": "wechat_group",
                "target": "",
                "audience": 600 if big else 40,
                "flagged": False,
                "day": TODAY - dt.timedelta(days=3),
                "dedupe_key": f"w{sid}",
                "created_at": NOW,
            }
        )
        shares.append(
            {
                "informant_id": infs[sid],
                "station_id": sid,
                "content_id": content[1],
                "channel": "wechat_moments",
                "target": "",
                "audience": 600 if big else 30,
                "flagged": False,
                "day": TODAY - dt.timedelta(days=2),
                "dedupe_key": f"m{sid}",
                "created_at": NOW,
            }
        )
        cases.add("unverified_reach", big, ("station", sid))
    await insert_rows(session, ShareEvent, shares)
    # Application bursts: planted counties get burst+2 applications within hours; look-alike
    # counties exactly the threshold within a day.
    burst_counties = counties[: max(1, planted // 10)]
    alike_counties = counties[len(burst_counties) : 2 * len(burst_counties)]
    apps = []
    for code in burst_counties + alike_counties:
        n = 7 if code in burst_counties else 5
        for k in range(n):
            apps.append(
                {
                    "name": f"申请{code}-{k}",
                    "venue_type": "school",
                    "region_code": code,
                    "status": "submitted",
                    "created_at": NOW - dt.timedelta(days=6),
                    "submitted_at": NOW - dt.timedelta(days=5, hours=-2 * k),
                }
            )
    await insert_rows(session, Station, apps)
    for code in counties:
        cases.add("application_burst", code in burst_counties, ("region", int(code)))
    world = World(station_list, cases, [], {}, [])
    await _plant_activities(session, world, rng, plain, counties, planted)
    await _plant_uses(session, world, rng, plain, content, planted)
    sample = rng.sample(act_ids, min(len(act_ids), 10 * planted))
    world.to_check += sample
    for a in sample:
        for kind in ("duplicate_activity", "commercial", "participants_high", "photo_reuse"):
            cases.add(kind, False, ("activity", a))
    return world


async def _new_activity(
    session: AsyncSession,
    sid: int,
    *,
    title: str,
    day: dt.date,
    type_: str = "lecture",
    participants: int = 60,
    commercial: bool = False,
    photo: tuple[str, str | None] | None = None,
) -> tuple[int, int]:
    act = Activity(
        station_id=sid,
        type=type_,
        title=title,
        held_on=day,
        participants=participants,
        commercial=commercial,
        created_at=NOW,
    )
    session.add(act)
    await session.flush()
    assert act.id is not None
    unique, phash = photo or (f"n{act.id}", None)
    row = ActivityPhoto(activity_id=act.id, file_id=unique, file_unique_id=unique, phash=phash)
    session.add(row)
    await session.flush()
    assert row.id is not None
    return act.id, row.id


async def _plant_activities(
    session: AsyncSession,
    world: World,
    rng: random.Random,
    plain: Sequence[int],
    counties: Sequence[str],
    n: int,
) -> None:
    cases, by_county = world.cases, {}
    for sid, code in world.stations:
        if sid in set(plain):
            by_county.setdefault(code, []).append(sid)
    day = TODAY - dt.timedelta(days=5)
    for i in range(n):
        code = counties[i % len(counties)]
        a, b = rng.sample(by_county[code], 2)
        # Photos: the original (hashed already), a copy at another or the same station,
        # an honest re-shot of the same board elsewhere in the county.
        original = photos.jpeg(photos.photo(10_000 + i))
        copy = photos.recompressed(original) if i % 2 else photos.resized(original, 0.6)
        await _new_activity(
            session,
            a,
            title=f"科普展板{i}",
            day=day - dt.timedelta(days=20),
            photo=(f"o{i}", detection.photo_hash(original)),
        )
        cid, cphoto = await _new_activity(
            session, b if i % 3 else a, title=f"活动照片{i}", day=day
        )
        world.photos_to_hash[cphoto] = copy
        cases.add("photo_reuse", True, ("activity", cid))
        rid, rphoto = await _new_activity(session, b, title=f"展板再拍{i}", day=day)
        world.photos_to_hash[rphoto] = photos.jpeg(photos.reshot(10_000 + i, i % 3))
        cases.add("photo_reuse", False, ("activity", rid))
        # The very same file reused (caught at save by file_unique_id).
        eid, _ = await _new_activity(
            session, b, title=f"同文件{i}", day=day, photo=(f"o{i}", None)
        )
        world.to_check.append(eid)
        cases.add("photo_reuse", True, ("activity", eid))
        # Duplicate activity (spacing/punctuation differ), and two real lectures on one day.
        title = rng.choice(TITLES)
        first, _ = await _new_activity(session, a, title=title, day=day - dt.timedelta(days=1))
        dup, _ = await _new_activity(
            session, a, title=f" {title}！", day=day - dt.timedelta(days=1)
        )
        world.to_check += [first, dup]
        cases.add("duplicate_activity", True, ("activity", dup))
        am, _ = await _new_activity(
            session, b, title=f"{title}（上午场）", day=day - dt.timedelta(days=2)
        )
        pm, _ = await _new_activity(
            session, b, title=f"{title}（下午场）", day=day - dt.timedelta(days=2)
        )
        world.to_check += [am, pm]
        cases.add("duplicate_activity", False, ("activity", pm))
        # Commercial: a sales answer, or wording; warnings against sales are honest.
        sale, _ = await _new_activity(
            session,
            a,
            title=SALES[i % len(SALES)],
            day=day - dt.timedelta(days=3),
            commercial=i % 4 == 0,
        )
        warn, _ = await _new_activity(
            session, b, title=WARNINGS[i % len(WARNINGS)], day=day - dt.timedelta(days=3)
        )
        world.to_check += [sale, warn]
        cases.add("commercial", True, ("activity", sale))
        cases.add("commercial", False, ("activity", warn))
        # Inflated head count; a school's real 500-person assembly is honest.
        big, _ = await _new_activity(
            session,
            a,
            title=f"科普讲座{i}",
            participants=rng.choice((600, 900, 2000, 5000)),
            day=day - dt.timedelta(days=4),
        )
        school, _ = await _new_activity(
            session, b, title=f"全校科普大会{i}", participants=500, day=day - dt.timedelta(days=4)
        )
        world.to_check += [big, school]
        cases.add("participants_high", True, ("activity", big))
        cases.add("participants_high", False, ("activity", school))
        for honest in (rid, am, pm, warn, school):
            for kind in ("photo_reuse", "duplicate_activity", "commercial", "participants_high"):
                if (("activity", honest)) not in cases.honest.get(kind, []):
                    cases.add(kind, False, ("activity", honest))


async def _plant_uses(
    session: AsyncSession,
    world: World,
    rng: random.Random,
    plain: Sequence[int],
    content: Sequence[int],
    n: int,
) -> None:
    for i in range(n):
        sid = rng.choice(plain)
        day = TODAY - dt.timedelta(days=1 + i % 20)
        ids = []
        for audience in (45, 45, 45, 45, 45):  # the same "played video" reported five times
            use = ContentUse(
                station_id=sid,
                content_id=content[i % len(content)],
                use_kind="played",
                audience=audience,
                used_on=day,
                created_at=NOW,
            )
            session.add(use)
            await session.flush()
            ids.append(use.id or 0)
        world.uses_to_check += ids
        for copy in ids[1:]:
            world.cases.add("duplicate_use", True, ("content_use", copy))
        world.cases.add("duplicate_use", False, ("content_use", ids[0]))
        second = []
        for audience in (80, 120):  # two showings, two audiences: honest
            use = ContentUse(
                station_id=sid,
                content_id=content[(i + 7) % len(content)],
                use_kind="played",
                audience=audience,
                used_on=day,
                created_at=NOW,
            )
            session.add(use)
            await session.flush()
            second.append(use.id or 0)
        world.uses_to_check += second
        for use_id in second:
            world.cases.add("duplicate_use", False, ("content_use", use_id))


async def detect(session: AsyncSession, world: World, settings: Settings) -> dict[str, float]:
    """Run the rules as the bot does; return seconds per step."""
    times: dict[str, float] = {}
    stations = dict((s.id, s) for s in (await session.execute(select(Station))).scalars())
    start = time.perf_counter()
    for act_id in world.to_check:
        act = await session.get(Activity, act_id)
        assert act is not None
        await findings_auto.recheck_activity(
            session=session,
            activity=act,
            station=stations[act.station_id],
            integrity=settings.integrity,
            participants_bound=settings.activities.participants_flag_above,
            now=NOW,
        )
    times["activity re-checks"] = time.perf_counter() - start
    start = time.perf_counter()
    hashes = {row: detection.photo_hash(data) or "" for row, data in world.photos_to_hash.items()}
    times["photo hashing (Pillow)"] = time.perf_counter() - start
    start = time.perf_counter()
    await findings_auto.record_photo_hashes(
        session=session,
        table="activity_photo",
        hashes=hashes,
        integrity=settings.integrity,
        now=NOW,
    )
    times["photo comparisons"] = time.perf_counter() - start
    start = time.perf_counter()
    for use_id in world.uses_to_check:
        use = await session.get(ContentUse, use_id)
        assert use is not None
        await findings_auto.check_content_use(
            session=session, use=use, station=stations[use.station_id], now=NOW
        )
    times["content-use checks"] = time.perf_counter() - start
    start = time.perf_counter()
    await findings_auto.sweep(session=session, settings=settings, today=TODAY, now=NOW)
    times["daily sweep"] = time.perf_counter() - start
    return times


async def score(session: AsyncSession, cases: Cases) -> dict[str, dict[str, float]]:
    """Return recall and false flags per kind from the findings raised."""
    flagged: dict[str, set[tuple[str, int]]] = {}
    for flag in (await session.execute(select(IntegrityFlag))).scalars():
        if flag.status != "open":
            continue
        subject = (flag.subject_type or "", int(flag.subject_id or 0))
        if flag.kind == "application_burst":
            subject = ("region", int(flag.region_code or 0))
        flagged.setdefault(flag.kind, set()).add(subject)
    out: dict[str, dict[str, float]] = {}
    for kind in KINDS:
        planted, honest = cases.planted.get(kind, []), cases.honest.get(kind, [])
        hit = flagged.get(kind, set())
        out[kind] = {
            "planted": len(planted),
            "recall": sum(1 for s in planted if s in hit) / len(planted) if planted else 1.0,
            "honest": len(honest),
            "false_flags": sum(1 for s in honest if s in hit),
        }
    return out


async def run(
    *, stations: int, informants: int, planted: int, seed: int, db_path: Path
) -> dict[str, Any]:
    """Build, detect and score; return the figures."""
    engine = create_async_engine(f"sqlite+aiosqlite:///{db_path}", poolclass=NullPool)
    await upgrade(engine)
    settings = load_settings(None)
    sessions = session_factory(engine)
    start = time.perf_counter()
    async with sessions() as session, session.begin():
        world = await build(
            session, stations=stations, informants=informants, seed=seed, planted=planted
        )
    built = time.perf_counter() - start
    async with sessions() as session, session.begin():
        times = await detect(session, world, settings)
    async with sessions() as session:
        kinds = await score(session, world.cases)
        activities = len((await session.execute(select(Activity.id))).all())
    await engine.dispose()
    honest = sum(int(k["honest"]) for k in kinds.values())
    false = sum(int(k["false_flags"]) for k in kinds.values())
    return {
        "build_s": built,
        "times": times,
        "kinds": kinds,
        "activities": activities,
        "false_flag_rate": false / honest if honest else 0.0,
    }


def report(result: dict[str, Any], stations: int, informants: int) -> str:
    """Return the figures as a Markdown table."""
    lines = [
        f"World: {stations:,} stations, {informants:,} informants, "
        f"{result['activities']:,} activities; built in {result['build_s']:.1f} s.",
        "",
        "| kind | planted | recall | honest cases | false flags |",
        "|---|---:|---:|---:|---:|",
    ]
    for kind, k in result["kinds"].items():
        lines.append(
            f"| {kind} | {k['planted']} | {k['recall']:.0%} | {k['honest']} | {k['false_flags']} |"
        )
    lines += [
        "",
        f"False flags overall: {result['false_flag_rate']:.2%}",
        "",
        "| step | seconds |",
        "|---|---:|",
    ]
    lines += [f"| {name} | {sec:.2f} |" for name, sec in result["times"].items()]
    return "\n".join(lines)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="20x smaller world")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--db", type=Path, default=None, help="SQLite file (default: a temp file)")
    args = parser.parse_args()
    stations, informants, planted = (100, 2_500, 12) if args.small else (2_000, 50_000, 40)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "integrity_bench.db"
        result = await run(
            stations=stations, informants=informants, planted=planted, seed=args.seed, db_path=path
        )
    print(report(result, stations, informants))
    ok = all(k["recall"] == 1.0 for k in result["kinds"].values())
    return 0 if ok and result["false_flag_rate"] < 0.05 else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
