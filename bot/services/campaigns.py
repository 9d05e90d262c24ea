"""Campaigns (全国科普日, 科技活动周…): dates and regions, tagging, browsing and figures.

A campaign is defined in config (``[[campaigns]]``) or by a curator in the bot
(``/campaigns``, stored in ``campaign``); both are merged here, config first (a stored
campaign never shadows a config one). Its ``key`` is the code content and activities carry.
Its figures are the one definition of ``storage.figures`` with the campaign filter, over
the campaign's own dates (its window). docs/campaigns.md.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import CampaignSettings, Settings
from bot.content.taxonomy import Taxonomy, Term, default_taxonomy
from bot.core.errors import DomainError
from bot.core.propagation import volume_over
from bot.core.regions import region_contains, region_prefix
from bot.core.regions_csv import is_region_code
from bot.core.zh_dates import parse_date
from bot.i18n import Translator
from storage import activities as activity_store
from storage import audit, figures
from storage import campaigns as store
from storage import regions as region_store
from storage.figures import CampaignPushes, Window
from storage.models import Campaign

State = Literal["upcoming", "running", "ended"]
MAX_NAME_CHARS = 64
# A date typed without a year is taken within half a year either side of today.
_YEARLESS_AHEAD = dt.timedelta(days=155)  # zh_dates looks 30 days past "today"
_RANGE_SPLIT = re.compile(r"\s*(?:至|到|—+|－|~|～|–)\s*")
_ISO_DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")
_DAY_ONLY = re.compile(r"^\s*(\d{1,2})\s*[日号]?\s*$")
_REGION_SPLIT = re.compile(r"[\s,，、;；]+")
EVERYWHERE_WORDS = frozenset({"全部", "全部地区", "全国", "all", "everywhere"})


class CampaignError(DomainError, area="campaign"):
    """A refused campaign change or an unreadable answer; ``code`` names it."""


@dataclass(frozen=True)
class CampaignDef:
    """One campaign with dates: from config (``source="config"``) or the bot (``"bot"``)."""

    key: str
    name_zh: str
    name_en: str
    start: dt.date
    end: dt.date
    regions: tuple[str, ...] = ()
    source: Literal["config", "bot"] = "config"

    def name(self, locale: str | None) -> str:
        """Return the name in ``locale`` (English falls back to Chinese)."""
        english = bool(locale) and str(locale).lower().startswith("en")
        return (self.name_en or self.name_zh) if english else self.name_zh

    @property
    def window(self) -> Window:
        """Return the campaign's days as a figures window (both ends included)."""
        return Window(self.start, self.end, "range")

    def state(self, day: dt.date) -> State:
        """Return whether the campaign is upcoming, running or ended on ``day``."""
        if day < self.start:
            return "upcoming"
        return "running" if day <= self.end else "ended"

    def covers(self, region_code: str | None) -> bool:
        """Tell whether a region (a station's county) lies in the campaign's regions."""
        if not self.regions:
            return True
        return bool(region_code) and any(
            region_contains(code, str(region_code)) for code in self.regions
        )

    def overlaps(self, prefixes: Sequence[str] | None) -> bool:
        """Tell whether the campaign reaches any region a reader's scope covers."""
        if prefixes is None or not self.regions:
            return True
        own = [region_prefix(code) for code in self.regions]
        return any(o.startswith(p) or p.startswith(o) for o in own for p in prefixes)


def _of_config(entry: CampaignSettings) -> CampaignDef:
    return CampaignDef(
        key=entry.key,
        name_zh=entry.name_zh,
        name_en=entry.name_en,
        start=entry.start,
        end=entry.end,
        regions=tuple(entry.regions),
        source="config",
    )


def _of_row(row: Campaign) -> CampaignDef:
    return CampaignDef(
        key=row.key,
        name_zh=row.name_zh,
        name_en=row.name_en,
        start=row.starts_on,
        end=row.ends_on,
        regions=tuple(row.regions or ()),
        source="bot",
    )


# The names of dated campaigns this process has read (config and stored), by key, for
# content cards, which are rendered without a session (``campaign_line``). Refreshed by
# every ``all_campaigns``; a key not seen yet falls back to the taxonomy's name.
_NAMES: dict[str, tuple[str, str]] = {}


def campaign_line(item: Any, t: Translator) -> str:
    """Return a card's campaign line ("" for an item without a campaign), HTML-escaped.

    ``item`` is a ContentItem (its ``campaign`` code); the line starts with a newline so
    the card appends it to its footer.
    """
    code = getattr(item, "campaign", None)
    if not code:
        return ""
    zh, en = _NAMES.get(code, ("", ""))
    term = default_taxonomy().get_campaign(code)
    if zh:
        name = (en or zh) if str(t.locale).startswith("en") else zh
    elif term is not None:
        name = term.name(t.locale)
    else:
        return ""  # a campaign this process has not read yet: no line rather than a code
    return "\n" + t("🎯 Campaign: {name}", name=html.escape(name, quote=False))


def configured(settings: Settings) -> list[CampaignDef]:
    """Return the config campaigns, in file order."""
    return [_of_config(entry) for entry in settings.campaigns]


async def all_campaigns(*, session: AsyncSession, settings: Settings) -> list[CampaignDef]:
    """Return every campaign: config ones, then stored ones (by start), keys unique."""
    found = configured(settings)
    keys = {c.key for c in found}
    for row in await store.list_campaigns(session=session):
        if row.key not in keys:
            found.append(_of_row(row))
            keys.add(row.key)
    _NAMES.update({c.key: (c.name_zh, c.name_en) for c in found})
    return found


async def get_campaign(
    *, session: AsyncSession, settings: Settings, key: str
) -> CampaignDef | None:
    """Return the campaign with ``key`` (config or stored), or None."""
    for campaign in configured(settings):
        if campaign.key == key:
            return campaign
    row = await store.get_campaign(session=session, key=key)
    return _of_row(row) if row is not None else None


async def running(
    *,
    session: AsyncSession,
    settings: Settings,
    day: dt.date,
    region_code: str | None = None,
) -> list[CampaignDef]:
    """Return the campaigns running on ``day`` (in ``region_code``, when given)."""
    return [
        c
        for c in await all_campaigns(session=session, settings=settings)
        if c.state(day) == "running" and (region_code is None or c.covers(region_code))
    ]


async def taxonomy_with_campaigns(*, session: AsyncSession, settings: Settings) -> Taxonomy:
    """Return the taxonomy whose campaigns include the config and stored ones.

    Pickers (``/newcontent``, the activity form) offer ``campaigns`` of this taxonomy, so a
    campaign a curator added in the bot can be chosen at once.
    """
    extra = tuple(
        Term(code=c.key, zh=c.name_zh, en=c.name_en or c.name_zh)
        for c in await all_campaigns(session=session, settings=settings)
    )
    return default_taxonomy().with_campaigns(extra)


def campaign_name(code: str, locale: str | None, campaigns: Iterable[CampaignDef]) -> str:
    """Return a campaign code's name: a dated campaign's, else the taxonomy's, else the code."""
    for campaign in campaigns:
        if campaign.key == code:
            return campaign.name(locale)
    return default_taxonomy().campaign_name(code, locale)


def for_activity(
    campaigns: Iterable[CampaignDef], *, held_on: dt.date, region_code: str | None
) -> list[CampaignDef]:
    """Return the campaigns an activity held on ``held_on`` at a station in a region is in."""
    return [c for c in campaigns if c.state(held_on) == "running" and c.covers(region_code)]


async def activity_campaigns(
    *, session: AsyncSession, settings: Settings, held_on: dt.date, region_code: str | None
) -> list[CampaignDef]:
    """Return the running campaigns an activity may belong to (one: tag it unasked)."""
    return for_activity(
        await all_campaigns(session=session, settings=settings),
        held_on=held_on,
        region_code=region_code,
    )


# --- typed answers ------------------------------------------------------------------------
def parse_range(text: str, *, today: dt.date) -> tuple[dt.date, dt.date]:
    """Read a campaign's dates: 9月15日至21日, 2026-09-15—2026-09-21, 11月20日到12月5日.

    A date without a year is taken within half a year of today. One date alone is a
    one-day campaign. Raise CampaignError(``dates_unreadable`` | ``dates_reversed``).
    """
    anchor = today + _YEARLESS_AHEAD
    text = text.strip()
    iso = _ISO_DATE.findall(text)
    if len(iso) == 2 and not _ISO_DATE.sub("", text).strip(" -—–~～至到"):
        (left, right), separated = iso, True
    else:
        parts = _RANGE_SPLIT.split(text, maxsplit=1)
        left, right, separated = parts[0], parts[-1] if len(parts) > 1 else "", len(parts) > 1
    first = parse_date(left, today=anchor)
    if first is None or left[first.end :].strip():
        raise CampaignError("dates_unreadable")
    start = first.value
    if not right.strip():
        if separated:  # 12月1日至: the end is missing
            raise CampaignError("dates_unreadable")
        return start, start
    day_only = _DAY_ONLY.match(right)
    if day_only is not None:
        try:
            end = start.replace(day=int(day_only[1]))
        except ValueError as exc:
            raise CampaignError("dates_unreadable") from exc
    else:
        second = parse_date(right, today=anchor)
        if second is None or right[second.end :].strip():
            raise CampaignError("dates_unreadable")
        end = second.value
        if second.form == "month_day" and first.form == "month_day":
            # Without years both are in the start's year, or the next (12月28日至1月3日).
            end = end.replace(year=start.year + (1 if end.month < start.month else 0))
    if end < start:
        raise CampaignError("dates_reversed", start=start.isoformat(), end=end.isoformat())
    return start, end


async def parse_regions(*, session: AsyncSession, text: str) -> list[str]:
    """Read region codes (330100，330200), or 全部/全国 for everywhere (an empty list)."""
    words = [w for w in _REGION_SPLIT.split(text.strip()) if w]
    if not words or (len(words) == 1 and words[0].lower() in EVERYWHERE_WORDS):
        return []
    for word in words:
        if not is_region_code(word):
            raise CampaignError("region_bad", value=word[:20])
    known = await region_store.get_regions(session=session, codes=words)
    for word in words:
        if word not in known:
            raise CampaignError("region_unknown", value=word)
    return list(dict.fromkeys(words))


def check_name(text: str) -> str:
    """Return a tidy campaign name or refuse an empty or overlong one."""
    name = " ".join(text.split())
    if not name:
        raise CampaignError("name_empty")
    if len(name) > MAX_NAME_CHARS:
        raise CampaignError("name_too_long", limit=MAX_NAME_CHARS)
    return name


# --- writes --------------------------------------------------------------------------------
async def _new_key(session: AsyncSession, name: str, start: dt.date, taken: set[str]) -> str:
    """Return the key of a new campaign: the taxonomy code it names, else ``c<start>``."""
    for term in default_taxonomy().campaigns:
        if name in (term.zh, term.en, term.code) and term.code not in taken:
            return term.code
    base = f"c{start:%Y%m%d}"
    taken = taken | await store.keys_like(session=session, prefix=base)
    key, n = base, 1
    while key in taken:
        n += 1
        key = f"{base}_{n}"
    return key


async def add_campaign(
    *,
    session: AsyncSession,
    settings: Settings,
    name: str,
    start: dt.date,
    end: dt.date,
    regions: Sequence[str],
    actor_id: int | None,
    now: dt.datetime,
    name_en: str = "",
) -> CampaignDef:
    """Store a campaign a curator defined; its key is a taxonomy code or a new one."""
    name = check_name(name)
    if end < start:
        raise CampaignError("dates_reversed", start=start.isoformat(), end=end.isoformat())
    existing = await all_campaigns(session=session, settings=settings)
    if any(c.name_zh == name and c.start == start for c in existing):
        raise CampaignError("exists", name=name)
    key = await _new_key(session, name, start, {c.key for c in existing})
    term = default_taxonomy().get_campaign(key)
    row = await store.add_campaign(
        session=session,
        key=key,
        name_zh=name,
        name_en=name_en or (term.en if term else ""),
        starts_on=start,
        ends_on=end,
        regions=regions,
        created_by=actor_id,
        now=now,
    )
    await audit.record(
        session=session,
        actor_id=actor_id,
        action="campaign.create",
        now=now,
        subject_type="campaign",
        subject_id=row.id,
        detail={
            "key": key,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "regions": list(regions),
        },  # fmt: skip
    )
    return _of_row(row)


async def edit_campaign(
    *,
    session: AsyncSession,
    settings: Settings,
    key: str,
    actor_id: int | None,
    now: dt.datetime,
    dates: tuple[dt.date, dt.date] | None = None,
    regions: Sequence[str] | None = None,
) -> CampaignDef:
    """Change a stored campaign's dates or regions (config ones are edited in the file)."""
    if any(c.key == key for c in configured(settings)):
        raise CampaignError("in_config", key=key)
    row = await store.get_campaign(session=session, key=key)
    if row is None:
        raise CampaignError("not_found", key=key)
    values: dict[str, Any] = {}
    if dates is not None:
        values["starts_on"], values["ends_on"] = dates
    if regions is not None:
        values["regions"] = list(regions)
    before = {"start": row.starts_on.isoformat(), "end": row.ends_on.isoformat(),
              "regions": list(row.regions or [])}  # fmt: skip
    await store.update_campaign(session=session, key=key, now=now, **values)
    await audit.record(
        session=session,
        actor_id=actor_id,
        action="campaign.edit",
        now=now,
        subject_type="campaign",
        subject_id=row.id,
        detail={
            "key": key,
            "before": before,
            **{k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in values.items()},
        },  # fmt: skip
    )
    fresh = await store.get_campaign(session=session, key=key)
    assert fresh is not None
    return _of_row(fresh)


# --- figures --------------------------------------------------------------------------------
@dataclass(frozen=True)
class RegionLine:
    """A region's campaign figures (a city, or the campaign's whole area for ``total``)."""

    code: str
    name: str
    stations: int
    pushed: int  # push messages of the campaign's content sent to its informants
    shares: int
    visits: int
    activities: int
    participants: int
    content_uses: int
    sharing_informants: int


@dataclass(frozen=True)
class CampaignReport:
    """What a campaign did in its window (cut at today while it runs)."""

    campaign: CampaignDef
    window: Window
    complete: bool  # the campaign has ended: the window is its whole dates
    pushes: CampaignPushes
    regions: list[RegionLine]
    total: RegionLine
    items: int  # visible content items tagged with the campaign
    generated: dt.date = field(default_factory=dt.date.today)


def report_window(campaign: CampaignDef, today: dt.date) -> Window:
    """Return the window a report covers: the campaign's dates, cut at today if running."""
    if today < campaign.end:
        return campaign.window.until(max(today, campaign.start))
    return campaign.window


def _line(
    code: str, name: str, rows: Sequence[figures.StationFigures], sent: dict[int, int]
) -> RegionLine:
    return RegionLine(
        code=code,
        name=name,
        stations=len(rows),
        pushed=sum(sent.get(r.station_id, 0) for r in rows),
        shares=sum(r.shares for r in rows),
        visits=sum(r.visits for r in rows),
        activities=sum(r.activities for r in rows),
        participants=sum(r.participants for r in rows),
        content_uses=sum(r.content_uses for r in rows),
        sharing_informants=sum(r.sharing_informants for r in rows),
    )


def _city(code: str) -> str:
    return code[:4] + "00" if len(code) == 6 else code


async def build_report(
    *,
    session: AsyncSession,
    settings: Settings,
    campaign: CampaignDef,
    today: dt.date,
    prefixes: Sequence[str] | None = None,
    now: dt.datetime | None = None,
) -> CampaignReport:
    """Return a campaign's figures by city, within ``prefixes`` (a reader's scope) if given.

    Every figure is the one definition (``storage.figures``) with the campaign filter; the
    stations are those in the campaign's regions (and the reader's scope).
    """
    window = report_window(campaign, today)
    tz = settings.scheduler.tz
    since = dt.datetime.combine(window.start, dt.time(), tzinfo=tz)
    until = dt.datetime.combine(window.end + dt.timedelta(days=1), dt.time(), tzinfo=tz)
    rows = await figures.station_figures(
        session=session,
        window=window,
        volume=volume_over(settings.propagation),
        prefixes=list(prefixes) if prefixes is not None else None,
        campaign=campaign.key,
    )
    rows = [r for r in rows if campaign.covers(r.region_code)]
    pushes = await figures.campaign_pushes(
        session=session, campaign=campaign.key, since=since, until=until
    )
    cities = sorted({_city(r.region_code) for r in rows})
    names = await region_store.get_regions(session=session, codes=cities)
    lines = [
        _line(code, names[code].name if code in names else code,
              [r for r in rows if _city(r.region_code) == code], pushes.sent_by_station)
        for code in cities
    ]  # fmt: skip
    lines.sort(key=lambda line: (-line.shares - line.activities, line.code))
    counts = await store.item_counts(session=session, now=now or since)
    return CampaignReport(
        campaign=campaign,
        window=window,
        complete=today > campaign.end,
        pushes=pushes,
        regions=lines,
        total=_line("", "", rows, pushes.sent_by_station),
        items=counts.get(campaign.key, 0),
        generated=today,
    )


@dataclass(frozen=True)
class CampaignSummary:
    """One campaign as a list shows it (the desk, /campaigns): dates, state, a few figures."""

    key: str
    name_zh: str
    name_en: str
    start: dt.date
    end: dt.date
    regions: tuple[str, ...]
    state: State
    source: str
    items: int
    window: Window | None  # None for an upcoming campaign (no figures yet)
    shares: int = 0
    activities: int = 0
    participants: int = 0
    pushed: int = 0


async def campaign_summaries(
    session: AsyncSession,
    scope: Sequence[str] | None,
    now: dt.datetime,
    *,
    settings: Settings,
) -> list[CampaignSummary]:
    """Return every campaign reaching ``scope`` (region prefixes; None: everywhere).

    For the desk and /campaigns: running ones first, then upcoming, then ended (newest
    first); figures over each campaign's window cut at today, within the scope.
    """
    today = now.astimezone(settings.scheduler.tz).date()
    counts = await store.item_counts(session=session, now=now)
    out: list[CampaignSummary] = []
    for campaign in await all_campaigns(session=session, settings=settings):
        if not campaign.overlaps(scope):
            continue
        state = campaign.state(today)
        base: dict[str, Any] = {
            "key": campaign.key, "name_zh": campaign.name_zh, "name_en": campaign.name_en,
            "start": campaign.start, "end": campaign.end, "regions": campaign.regions,
            "state": state, "source": campaign.source, "items": counts.get(campaign.key, 0),
        }  # fmt: skip
        if state == "upcoming":
            out.append(CampaignSummary(window=None, **base))
            continue
        report = await build_report(
            session=session, settings=settings, campaign=campaign, today=today,
            prefixes=scope, now=now,
        )  # fmt: skip
        out.append(
            CampaignSummary(
                window=report.window,
                shares=report.total.shares,
                activities=report.total.activities,
                participants=report.total.participants,
                pushed=report.total.pushed,
                **base,
            )
        )
    order = {"running": 0, "upcoming": 1, "ended": 2}
    out.sort(key=lambda s: (order[s.state], -s.start.toordinal() if s.state == "ended"
                            else s.start.toordinal(), s.key))  # fmt: skip
    return out


async def tag_activity_fields(
    *, session: AsyncSession, settings: Settings, station_id: int, fields: dict[str, Any]
) -> str | None:
    """Tag an activity being registered with the campaign it unambiguously belongs to.

    ``fields`` is the form's data; it is tagged (``fields["campaign"]``) only when exactly
    one campaign runs on the day it was held in the station's region. Return the key.
    """
    held_on = fields.get("held_on")
    if not held_on:
        return None
    stations = await activity_store.stations_by_id(session=session, station_ids=[station_id])
    station = stations.get(station_id)
    if station is None:
        return None
    found = await activity_campaigns(
        session=session,
        settings=settings,
        held_on=dt.date.fromisoformat(str(held_on)),
        region_code=station.region_code,
    )
    if len(found) != 1:
        return None
    fields["campaign"] = found[0].key
    return found[0].key
