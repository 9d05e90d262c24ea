"""One definition of every figure, for any window of local dates and any subject.

Every output that shows a figure — the weekly tally rows, the evaluation scores and
outstanding informants, the integrity report, /me and /top — reads it from here, so the
same subject and window give the same number everywhere.  docs/figures.md is the reader's
version of these rules.

Attribution (decided once):

* a **share** belongs to the informant who made it and to the station recorded on the share
  (the informant's station when it was made);
* a **visit** to a tracked link belongs to the link's informant and to that informant's
  (current) station;
* an **informant's** figure is their figure *at their station*: their shares recorded on
  that station plus their links' visits — so an informant never exceeds their station for
  the same window;
* **activities** and **content uses** belong to their station only (informants have none);
* a **region's** figure is the sum of its counted stations' figures (region by code prefix).

Windows are closed ranges of local days ``[start, end]``; nothing is cut by a station's
recognition date.  The last active day is the latest day on or before ``end`` with a share
(recorded on the station), a live activity or a content use — it does not depend on the
window's start, so every sheet shows the same 最近活跃 for the same end day.

The propagation volume is the one formula of ``bot.core.propagation``, passed in as SQL over
the columns ``shares``, ``telegram_reach``, ``reported_reach`` and ``visits`` of an alias,
and rounded to 0.1 in SQL so that every backend and every output agree to the digit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Numeric,
    and_,
    case,
    cast,
    exists,
    func,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Select
from sqlmodel import col

from storage.models import (
    Activity,
    ChannelLink,
    ChannelLinkVisit,
    ChannelPost,
    ContentUse,
    Informant,
    IntegrityFlag,
    LinkVisit,
    ShareEvent,
    Station,
    TrackedLink,
)

# Channels whose audience Telegram measured (group member counts); the rest are reported.
TELEGRAM_CHANNELS: tuple[str, ...] = ("telegram_inline", "telegram_forward")
CHANNELS: tuple[str, ...] = ShareEvent.CHANNELS
# Stations whose figures are counted in tallies, evaluations and area boards.
COUNTED_STATES: tuple[str, ...] = ("recognised", "rectifying")

# The propagation volume formula as SQL over an alias's columns (shares, telegram_reach,
# reported_reach, visits); bot.core.propagation.volume_over builds it from the settings.
VolumeSql = Callable[[str], str]


# --- windows ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Window:
    """A closed range of local days ``[start, end]`` and what kind of window it is."""

    start: dt.date
    end: dt.date
    kind: str = "range"  # week | month | year | range

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"window ends before it starts: {self.start} > {self.end}")

    @classmethod
    def week_of(cls, day: dt.date) -> Window:
        """Return the Monday–Sunday week containing ``day``."""
        start = day - dt.timedelta(days=day.weekday())
        return cls(start, start + dt.timedelta(days=6), "week")

    @classmethod
    def month_of(cls, day: dt.date) -> Window:
        """Return the calendar month containing ``day``."""
        start = day.replace(day=1)
        following = (start + dt.timedelta(days=32)).replace(day=1)
        return cls(start, following - dt.timedelta(days=1), "month")

    @classmethod
    def year(cls, year: int) -> Window:
        """Return 1 January – 31 December of ``year``."""
        return cls(dt.date(year, 1, 1), dt.date(year, 12, 31), "year")

    def until(self, day: dt.date) -> Window:
        """Return this window cut at ``day`` (a preview of a window not over yet)."""
        return Window(self.start, min(self.end, day), self.kind)

    @property
    def complete(self) -> bool:
        """Tell whether the window covers its whole calendar period."""
        if self.kind == "week":
            return (self.end - self.start).days == 6
        if self.kind == "year":
            first, last = (self.start.month, self.start.day), (self.end.month, self.end.day)
            return (first, last) == ((1, 1), (12, 31))
        if self.kind == "month":
            return self.start.day == 1 and (self.end + dt.timedelta(days=1)).day == 1
        return True

    def contains(self, day: dt.date) -> bool:
        """Tell whether ``day`` lies in the window."""
        return self.start <= day <= self.end


def weeks_within(window: Window) -> list[Window]:
    """Return the Monday–Sunday weeks overlapping ``window``, each cut to the window."""
    out = []
    start = window.start - dt.timedelta(days=window.start.weekday())
    while start <= window.end:
        week = Window(start, start + dt.timedelta(days=6), "week")
        out.append(Window(max(week.start, window.start), min(week.end, window.end), "week"))
        start += dt.timedelta(days=7)
    return out


# --- figures ----------------------------------------------------------------------------
@dataclass(frozen=True)
class StationFigures:
    """What one station did in a window (every figure of docs/figures.md)."""

    station_id: int
    name: str
    region_code: str
    status: str
    recognised_at: dt.datetime | None
    shares: int
    telegram_reach: int
    reported_reach: int
    visits: int
    volume: float
    activities: int  # counted: live and carrying no integrity flag
    flagged_activities: int
    content_uses: int
    last_active_on: dt.date | None
    channels: dict[str, int] = field(default_factory=dict)
    participants: int = 0
    content_use_audience: int = 0
    sharing_informants: int = 0
    active_informants: int = 0  # shared or had a visit in the window
    informants: int = 0  # registered during the window (only when asked for)

    @property
    def reach(self) -> int:
        """Return the total reach (Telegram + reported)."""
        return self.telegram_reach + self.reported_reach


@dataclass(frozen=True)
class InformantFigures:
    """One informant's figures at their station in a window."""

    informant_id: int
    station_id: int
    region_code: str
    shares: int
    telegram_reach: int
    reported_reach: int
    visits: int
    volume: float
    last_active_on: dt.date | None
    channels: dict[str, int] = field(default_factory=dict)

    @property
    def reach(self) -> int:
        """Return the total reach (Telegram + reported)."""
        return self.telegram_reach + self.reported_reach


@dataclass(frozen=True)
class RegionFigures:
    """A region's figures: the sums of its counted stations' figures."""

    prefix: str
    stations: int
    shares: int
    telegram_reach: int
    reported_reach: int
    visits: int
    volume: float
    activities: int
    participants: int
    content_uses: int
    content_use_audience: int
    sharing_informants: int
    last_active_on: dt.date | None
    channels: dict[str, int] = field(default_factory=dict)


def region_of(prefix: str, stations: Sequence[StationFigures]) -> RegionFigures:
    """Sum station figures into the region's (the one roll-up rule; no second query)."""
    inside = [s for s in stations if s.region_code.startswith(prefix)]
    days = [s.last_active_on for s in inside if s.last_active_on]
    return RegionFigures(
        prefix=prefix,
        stations=len(inside),
        shares=sum(s.shares for s in inside),
        telegram_reach=sum(s.telegram_reach for s in inside),
        reported_reach=sum(s.reported_reach for s in inside),
        visits=sum(s.visits for s in inside),
        volume=round(sum(s.volume for s in inside), 1),
        activities=sum(s.activities for s in inside),
        participants=sum(s.participants for s in inside),
        content_uses=sum(s.content_uses for s in inside),
        content_use_audience=sum(s.content_use_audience for s in inside),
        sharing_informants=sum(s.sharing_informants for s in inside),
        last_active_on=max(days) if days else None,
        channels={ch: sum(s.channels.get(ch, 0) for s in inside) for ch in CHANNELS},
    )


# --- the SQL ----------------------------------------------------------------------------
def counted_activity() -> Any:
    """Return the rule for an activity that counts: not deleted, and no finding on it confirmed.

    An open finding only marks the activity (⚠, ``Activity.flagged``): it counts until a
    coordinator confirms the finding (docs/integrity.md).
    """
    confirmed = exists().where(
        col(IntegrityFlag.subject_type) == "activity",
        col(IntegrityFlag.subject_id) == Activity.id,
        col(IntegrityFlag.status) == "confirmed",
    )
    return and_(col(Activity.deleted_at).is_(None), ~confirmed)


def _zero() -> Any:
    return literal_column("0")


def _pairs(window: Window) -> Any:
    """Return one row per (station, informant) with shares or visits in the window."""
    tg = col(ShareEvent.channel).in_(TELEGRAM_CHANNELS)
    audience = col(ShareEvent.audience)
    shares = (
        select(
            col(ShareEvent.station_id).label("station_id"),
            col(ShareEvent.informant_id).label("informant_id"),
            func.count().label("shares"),
            *(
                func.sum(case((col(ShareEvent.channel) == ch, 1), else_=0)).label(f"c_{ch}")
                for ch in CHANNELS
            ),
            func.sum(case((tg, audience), else_=0)).label("telegram_reach"),
            func.sum(case((tg, 0), else_=audience)).label("reported_reach"),
            _zero().label("visits"),
        )
        .where(col(ShareEvent.day) >= window.start, col(ShareEvent.day) <= window.end)
        .group_by(col(ShareEvent.station_id), col(ShareEvent.informant_id))
    )
    visits = (
        select(
            col(Informant.station_id).label("station_id"),
            col(TrackedLink.informant_id).label("informant_id"),
            _zero().label("shares"),
            *(_zero().label(f"c_{ch}") for ch in CHANNELS),
            _zero().label("telegram_reach"),
            _zero().label("reported_reach"),
            func.count().label("visits"),
        )
        .select_from(LinkVisit)
        .join(TrackedLink, col(TrackedLink.id) == LinkVisit.link_id)
        .join(Informant, col(Informant.id) == TrackedLink.informant_id)
        .where(col(LinkVisit.day) >= window.start, col(LinkVisit.day) <= window.end)
        .group_by(col(Informant.station_id), col(TrackedLink.informant_id))
    )
    people = union_all(shares, visits).subquery("people")
    return (
        select(
            people.c.station_id,
            people.c.informant_id,
            func.sum(people.c.shares).label("shares"),
            *(func.sum(people.c[f"c_{ch}"]).label(f"c_{ch}") for ch in CHANNELS),
            func.sum(people.c.telegram_reach).label("telegram_reach"),
            func.sum(people.c.reported_reach).label("reported_reach"),
            func.sum(people.c.visits).label("visits"),
        )
        .group_by(people.c.station_id, people.c.informant_id)
        .subquery("pairs")
    )


def _volume(volume: VolumeSql, alias: str) -> Any:
    """Return the volume over an alias, rounded to 0.1 in SQL (the same on every backend)."""
    return func.round(cast(literal_column(volume(alias)), Numeric), 1)


def region_filter(column: Any, prefixes: Sequence[str] | None) -> Any:
    """Return a condition keeping codes under any of ``prefixes`` (None = everywhere)."""
    if prefixes is None:
        return None
    if not prefixes:
        return column.is_(None) & column.isnot(None)  # matches nothing
    return or_(*(column.startswith(p) for p in prefixes))


def station_query(
    *,
    window: Window,
    volume: VolumeSql,
    states: Sequence[str] | None = COUNTED_STATES,
    prefixes: Sequence[str] | None = None,
    station_ids: Sequence[int] | None = None,
    registered_between: tuple[dt.datetime, dt.datetime] | None = None,
) -> Select[Any]:
    """Return the SELECT of every station's figures in ``window`` (one row per station).

    Columns: station_id, name, region_code, status, recognised_at, shares, c_<channel>,
    telegram_reach, reported_reach, visits, sharing_informants, active_informants,
    activities, flagged_activities, participants, content_uses, content_use_audience,
    informants, last_share, last_activity, last_use, volume.  The weekly tally inserts
    this very SELECT.  ``registered_between`` ([from, until) instants) counts informants
    registered (consented, not removed) during the window; otherwise ``informants`` is 0.
    """
    pairs = _pairs(window)
    people = (
        select(
            pairs.c.station_id.label("k"),
            func.sum(pairs.c.shares).label("shares"),
            *(func.sum(pairs.c[f"c_{ch}"]).label(f"c_{ch}") for ch in CHANNELS),
            func.sum(pairs.c.telegram_reach).label("telegram_reach"),
            func.sum(pairs.c.reported_reach).label("reported_reach"),
            func.sum(pairs.c.visits).label("visits"),
            func.sum(case((pairs.c.shares > 0, 1), else_=0)).label("sharing"),
            func.count().label("active"),
        )
        .group_by(pairs.c.station_id)
        .subquery("per_station")
    )
    counted = counted_activity()
    live = col(Activity.deleted_at).is_(None)
    acts = (
        select(
            col(Activity.station_id).label("k"),
            func.sum(case((counted, 1), else_=0)).label("activities"),
            func.sum(case((counted, 0), else_=1)).label("flagged"),
            func.sum(case((counted, col(Activity.participants)), else_=0)).label("participants"),
        )
        .where(live, col(Activity.held_on) >= window.start, col(Activity.held_on) <= window.end)
        .group_by(col(Activity.station_id))
        .subquery("ac")
    )
    uses = (
        select(
            col(ContentUse.station_id).label("k"),
            func.count().label("uses"),
            func.sum(col(ContentUse.audience)).label("audience"),
        )
        .where(col(ContentUse.used_on) >= window.start, col(ContentUse.used_on) <= window.end)
        .group_by(col(ContentUse.station_id))
        .subquery("cu")
    )
    # Last active day: on or before the window's end, whatever its start.
    last_share = (
        select(col(ShareEvent.station_id).label("k"), func.max(col(ShareEvent.day)).label("d"))
        .where(col(ShareEvent.day) <= window.end)
        .group_by(col(ShareEvent.station_id))
        .subquery("ls")
    )
    last_act = (
        select(col(Activity.station_id).label("k"), func.max(col(Activity.held_on)).label("d"))
        .where(live, col(Activity.held_on) <= window.end)
        .group_by(col(Activity.station_id))
        .subquery("la")
    )
    last_use = (
        select(col(ContentUse.station_id).label("k"), func.max(col(ContentUse.used_on)).label("d"))
        .where(col(ContentUse.used_on) <= window.end)
        .group_by(col(ContentUse.station_id))
        .subquery("lu")
    )
    reg = None
    if registered_between is not None:
        since, until = registered_between
        reg = (
            select(col(Informant.station_id).label("k"), func.count().label("n"))
            .where(
                col(Informant.consent_at).is_not(None),
                col(Informant.joined_at) < until,
                or_(col(Informant.removed_at).is_(None), col(Informant.removed_at) >= since),
            )
            .group_by(col(Informant.station_id))
            .subquery("reg")
        )
    conditions: list[Any] = []
    if states is not None:
        conditions.append(col(Station.status).in_(list(states)))
    region = region_filter(col(Station.region_code), prefixes)
    if region is not None:
        conditions.append(region)
    if station_ids is not None:
        conditions.append(col(Station.id).in_(list(station_ids)))

    def z(column: Any) -> Any:
        return func.coalesce(column, 0)

    base = (
        select(
            col(Station.id).label("station_id"),
            col(Station.name).label("name"),
            col(Station.region_code).label("region_code"),
            col(Station.status).label("status"),
            col(Station.recognised_at).label("recognised_at"),
            z(people.c.shares).label("shares"),
            *(z(people.c[f"c_{ch}"]).label(f"c_{ch}") for ch in CHANNELS),
            z(people.c.telegram_reach).label("telegram_reach"),
            z(people.c.reported_reach).label("reported_reach"),
            z(people.c.visits).label("visits"),
            z(people.c.sharing).label("sharing_informants"),
            z(people.c.active).label("active_informants"),
            z(acts.c.activities).label("activities"),
            z(acts.c.flagged).label("flagged_activities"),
            z(acts.c.participants).label("participants"),
            z(uses.c.uses).label("content_uses"),
            z(uses.c.audience).label("content_use_audience"),
            (z(reg.c.n) if reg is not None else _zero()).label("informants"),
            last_share.c.d.label("last_share"),
            last_act.c.d.label("last_activity"),
            last_use.c.d.label("last_use"),
        )
        .outerjoin(people, people.c.k == Station.id)
        .outerjoin(acts, acts.c.k == Station.id)
        .outerjoin(uses, uses.c.k == Station.id)
        .outerjoin(last_share, last_share.c.k == Station.id)
        .outerjoin(last_act, last_act.c.k == Station.id)
        .outerjoin(last_use, last_use.c.k == Station.id)
    )
    if reg is not None:
        base = base.outerjoin(reg, reg.c.k == Station.id)
    if conditions:
        base = base.where(and_(*conditions))
    sub = base.subquery("base")
    return select(sub, _volume(volume, "base").label("volume"))


def as_date(value: Any) -> dt.date:
    """Return a date from an aggregate (SQLite gives MAX over a Date column back as text)."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def _last(*days: Any) -> dt.date | None:
    found = [as_date(d) for d in days if d is not None]
    return max(found) if found else None


async def station_figures(
    *,
    session: AsyncSession,
    window: Window,
    volume: VolumeSql,
    states: Sequence[str] | None = COUNTED_STATES,
    prefixes: Sequence[str] | None = None,
    station_ids: Sequence[int] | None = None,
) -> list[StationFigures]:
    """Return the figures of the stations (counted states by default) in a window."""
    if station_ids is not None and not station_ids:
        return []
    query = station_query(
        window=window, volume=volume, states=states, prefixes=prefixes, station_ids=station_ids
    ).order_by(literal_column("station_id"))
    out = []
    for row in (await session.execute(query)).mappings():
        out.append(
            StationFigures(
                station_id=int(row["station_id"]),
                name=row["name"],
                region_code=row["region_code"] or "",
                status=row["status"],
                recognised_at=row["recognised_at"],
                shares=int(row["shares"]),
                telegram_reach=int(row["telegram_reach"]),
                reported_reach=int(row["reported_reach"]),
                visits=int(row["visits"]),
                volume=round(float(row["volume"]), 1),
                activities=int(row["activities"]),
                flagged_activities=int(row["flagged_activities"]),
                content_uses=int(row["content_uses"]),
                last_active_on=_last(row["last_share"], row["last_activity"], row["last_use"]),
                channels={ch: int(row[f"c_{ch}"]) for ch in CHANNELS},
                participants=int(row["participants"]),
                content_use_audience=int(row["content_use_audience"]),
                sharing_informants=int(row["sharing_informants"]),
                active_informants=int(row["active_informants"]),
            )
        )
    return out


def informant_query(
    *,
    window: Window,
    volume: VolumeSql,
    states: Sequence[str] | None = None,
    prefixes: Sequence[str] | None = None,
    station_id: int | None = None,
    informant_ids: Sequence[int] | None = None,
    current_only: bool = False,
) -> Select[Any]:
    """Return the SELECT of informants' figures at their station (one row per informant).

    Columns: informant_id, station_id, region_code, shares, c_<channel>, telegram_reach,
    reported_reach, visits, last_share, volume.  ``current_only`` leaves out removed and
    forgotten informants.
    """
    pairs = _pairs(window)
    last_share = (
        select(
            col(ShareEvent.informant_id).label("i"),
            col(ShareEvent.station_id).label("s"),
            func.max(col(ShareEvent.day)).label("d"),
        )
        .where(col(ShareEvent.day) <= window.end)
        .group_by(col(ShareEvent.informant_id), col(ShareEvent.station_id))
        .subquery("lsi")
    )

    def z(column: Any) -> Any:
        return func.coalesce(column, 0)

    conditions: list[Any] = []
    if states is not None:
        conditions.append(col(Station.status).in_(list(states)))
    region = region_filter(col(Station.region_code), prefixes)
    if region is not None:
        conditions.append(region)
    if station_id is not None:
        conditions.append(col(Informant.station_id) == station_id)
    if informant_ids is not None:
        conditions.append(col(Informant.id).in_(list(informant_ids)))
    if current_only:
        conditions += [col(Informant.removed_at).is_(None), col(Informant.forgotten_at).is_(None)]
    base = (
        select(
            col(Informant.id).label("informant_id"),
            col(Informant.station_id).label("station_id"),
            col(Station.region_code).label("region_code"),
            z(pairs.c.shares).label("shares"),
            *(z(pairs.c[f"c_{ch}"]).label(f"c_{ch}") for ch in CHANNELS),
            z(pairs.c.telegram_reach).label("telegram_reach"),
            z(pairs.c.reported_reach).label("reported_reach"),
            z(pairs.c.visits).label("visits"),
            last_share.c.d.label("last_share"),
        )
        .join(Station, col(Station.id) == Informant.station_id)
        .outerjoin(
            pairs,
            and_(pairs.c.informant_id == Informant.id, pairs.c.station_id == Informant.station_id),
        )
        .outerjoin(
            last_share,
            and_(last_share.c.i == Informant.id, last_share.c.s == Informant.station_id),
        )
    )
    if conditions:
        base = base.where(and_(*conditions))
    sub = base.subquery("ibase")
    return select(sub, _volume(volume, "ibase").label("volume"))


async def informant_figures(
    *,
    session: AsyncSession,
    window: Window,
    volume: VolumeSql,
    states: Sequence[str] | None = None,
    prefixes: Sequence[str] | None = None,
    station_id: int | None = None,
    informant_ids: Sequence[int] | None = None,
    current_only: bool = False,
) -> dict[int, InformantFigures]:
    """Return informants' figures at their station in a window, by informant id."""
    if informant_ids is not None and not informant_ids:
        return {}
    query = informant_query(
        window=window,
        volume=volume,
        states=states,
        prefixes=prefixes,
        station_id=station_id,
        informant_ids=informant_ids,
        current_only=current_only,
    )
    out = {}
    for row in (await session.execute(query)).mappings():
        out[int(row["informant_id"])] = InformantFigures(
            informant_id=int(row["informant_id"]),
            station_id=int(row["station_id"]),
            region_code=row["region_code"] or "",
            shares=int(row["shares"]),
            telegram_reach=int(row["telegram_reach"]),
            reported_reach=int(row["reported_reach"]),
            visits=int(row["visits"]),
            volume=round(float(row["volume"]), 1),
            last_active_on=_last(row["last_share"]),
            channels={ch: int(row[f"c_{ch}"]) for ch in CHANNELS},
        )
    return out


def top_percent(rank: int, count: int) -> int:
    """Return the smallest whole N for which "among the best N %" is true of rank/count.

    Rank 2 of 14 is 14.3 % down the list: the claim is "best 15 %", never "best 10 %".
    """
    if count <= 0 or rank <= 0:
        raise ValueError("rank and count must be positive")
    return -(-100 * rank // count)  # ceil(100·rank/count) in integers


# --- channel reach (channels_1): its own figure, never part of propagation ----------------
@dataclass(frozen=True)
class ChannelReach:
    """Channel posts in a window and the subscribers they reached (频道触达).

    Counted apart from informants' figures: a channel post is the bot's own, so its
    subscribers are never added to shares, reach or propagation volume (nothing counts
    twice). A post counts on the local day it was sent; its reach is the channel's
    subscriber count measured once, right after the send.
    """

    posts: int
    subscribers: int
    channels: int
    visits: int = 0  # verified visits to the channel posts' tracked links (/c/<code>)


def local_bounds(window: Window, tz: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
    """Return the UTC instants ``[start, end)`` of a window of local days."""
    start = dt.datetime.combine(window.start, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(window.end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


async def channel_reach(
    *,
    session: AsyncSession,
    window: Window,
    tz: dt.tzinfo,
    prefixes: Sequence[str] | None = None,
    push_id: int | None = None,
) -> ChannelReach:
    """Return the channel reach of posts in a window (in regions, or of one push)."""
    start, end = local_bounds(window, tz)
    stmt = select(
        func.count(col(ChannelPost.id)),
        func.coalesce(func.sum(col(ChannelPost.subscribers)), 0),
        func.count(func.distinct(col(ChannelPost.channel_chat_id))),
    ).where(col(ChannelPost.posted_at) >= start, col(ChannelPost.posted_at) < end)
    condition = region_filter(col(ChannelPost.region_code), prefixes)
    if condition is not None:
        stmt = stmt.where(condition)
    if push_id is not None:
        stmt = stmt.where(col(ChannelPost.push_id) == push_id)
    posts, subscribers, channels = (await session.execute(stmt)).one()
    visits = (
        select(func.count(col(ChannelLinkVisit.id)))
        .join(ChannelLink, col(ChannelLink.id) == col(ChannelLinkVisit.link_id))
        .where(col(ChannelLinkVisit.day) >= window.start, col(ChannelLinkVisit.day) <= window.end)
    )
    link_region = region_filter(col(ChannelLink.region_code), prefixes)
    if link_region is not None:
        visits = visits.where(link_region)
    if push_id is not None:  # a push's visits: those of its posts' links
        visits = visits.where(
            col(ChannelLink.content_id).in_(
                select(col(ChannelPost.content_id)).where(col(ChannelPost.push_id) == push_id)
            )
        )
    return ChannelReach(
        posts=int(posts),
        subscribers=int(subscribers),
        channels=int(channels),
        visits=int((await session.execute(visits)).scalar_one()),
    )
