"""The integrity report of a region: what looks like formalism or inflated numbers.

* paper stations — counted (recognised or rectifying) but with no current informant, or
  with no share, activity or content use in the last ``inactive_days`` (stations counted
  for less than that are spared the second test);
* application bursts — ``application_burst`` flags raised in the window;
* reused evidence — ``photo_reuse`` flags raised in the window;
* unverified reach — stations whose self-reported audiences add up to at least
  ``reported_reach_alert`` while the tracked links of those very shares got no visit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import EvaluationSettings, PropagationSettings
from bot.core.propagation import volume_over
from bot.services.evaluation import local_date, prefixes_of
from storage import evaluation as store
from storage.figures import Window


@dataclass(frozen=True)
class PaperStation:
    """A station that may exist on paper only."""

    station_id: int
    name: str
    region_code: str
    informants: int
    last_active_on: dt.date | None
    reasons: tuple[str, ...]  # no_informants, inactive


@dataclass(frozen=True)
class FlagItem:
    """One integrity flag, for the report."""

    flag_id: int
    kind: str
    station_id: int | None
    station_name: str
    region_code: str
    raised_on: dt.date
    resolved: bool
    detail: dict[str, Any]
    status: str = "open"  # open | confirmed | dismissed | closed
    decision_reason: str | None = None


@dataclass(frozen=True)
class UnverifiedReach:
    """A station whose reported audiences brought no verified visit."""

    station_id: int
    name: str
    region_code: str
    shares: int
    reported_reach: int
    visits: int


@dataclass
class IntegrityReport:
    """The integrity report of a region for a window."""

    region_code: str
    start: dt.date
    end: dt.date
    paper: list[PaperStation] = field(default_factory=list)
    bursts: list[FlagItem] = field(default_factory=list)
    reused: list[FlagItem] = field(default_factory=list)
    unverified: list[UnverifiedReach] = field(default_factory=list)

    @property
    def window(self) -> Window:
        """Return the report's window (a year, or the part of it so far)."""
        if self.start.month == 1 and self.start.day == 1 and self.end.year == self.start.year:
            return Window(self.start, self.end, "year")
        return Window(self.start, self.end)

    @property
    def empty(self) -> bool:
        """Tell whether nothing was found."""
        return not (self.paper or self.bursts or self.reused or self.unverified)


async def integrity_report(
    *,
    session: AsyncSession,
    evaluation: EvaluationSettings,
    propagation: PropagationSettings,
    tz: dt.tzinfo,
    region_code: str,
    start: dt.date,
    end: dt.date,
) -> IntegrityReport:
    """Build the report for ``region_code`` ('' = everywhere) over ``start``..``end``."""
    params = evaluation
    prefixes = prefixes_of(region_code)
    report = IntegrityReport(region_code, start, end)
    quiet_since = end - dt.timedelta(days=params.inactive_days - 1)
    # The report window's figures (storage.figures): the same last active day as the
    # evaluation's 得分与排名 for the same end day.
    recent = await store.station_figures(
        session=session,
        start=start,
        end=end,
        volume=volume_over(propagation),
        prefixes=prefixes,
    )
    informants = await store.informant_counts(session=session, prefixes=prefixes)
    for f in recent:
        recognised = local_date(f.recognised_at, tz)
        if recognised is not None and recognised > end:
            continue
        reasons = []
        if informants.get(f.station_id, 0) == 0:
            reasons.append("no_informants")
        seasoned = recognised is None or recognised <= quiet_since
        if seasoned and (f.last_active_on is None or f.last_active_on < quiet_since):
            reasons.append("inactive")
        if reasons:
            report.paper.append(
                PaperStation(
                    f.station_id,
                    f.name,
                    f.region_code,
                    informants.get(f.station_id, 0),
                    f.last_active_on,
                    tuple(reasons),
                )
            )
    since = dt.datetime.combine(start, dt.time(), tz)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tz)
    for flag, station in await store.flags_in(
        session=session,
        kinds=["application_burst", "photo_reuse"],
        prefixes=prefixes,
        since=since,
        until=until,
    ):
        item = FlagItem(
            flag.id or 0,
            flag.kind,
            flag.station_id,
            station.name if station else "",
            flag.region_code or (station.region_code if station else "") or "",
            local_date(flag.created_at, tz) or start,
            flag.resolved_at is not None,
            dict(flag.detail or {}),
            flag.status,
            flag.decision_reason,
        )
        (report.bursts if flag.kind == "application_burst" else report.reused).append(item)
    for row in await store.unverified_reach(
        session=session,
        prefixes=prefixes,
        start=start,
        end=end,
        threshold=params.reported_reach_alert,
    ):
        report.unverified.append(UnverifiedReach(*row))
    return report
