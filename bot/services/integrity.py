"""The integrity report of a region: what looks like formalism or inflated numbers.

* paper stations — counted (recognised or rectifying) but with no current informant, or
  with no share, activity or content use in the last ``inactive_days`` (stations counted
  for less than that are spared the second test);
* unverified reach — stations whose self-reported audiences add up to at least
  ``reported_reach_alert`` while the tracked links of those very shares got no visit;
* every stored finding (``IntegrityFlag``, any kind of ``STORED_KINDS``) raised in the
  window, with its review status.

The first two are computed on the fly (the daily sweep raises them as findings from this
very report); where a stored finding of the same station and kind exists, the outputs show
the stored one (it has a status): ``paper_unstored`` / ``unverified_unstored``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import EvaluationSettings, PropagationSettings
from bot.core.propagation import volume_over
from bot.services.evaluation import local_date, prefixes_of
from bot.services.finding_text import KIND_NAMES
from storage import evaluation as store
from storage.figures import Window
from storage.models import IntegrityFlag

# Every kind of stored finding, in the order the report lists them (finding_text.KIND_NAMES).
STORED_KINDS: tuple[str, ...] = tuple(KIND_NAMES)


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
    flag: IntegrityFlag | None = None  # the stored row (finding_text.why renders it)


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
    findings: list[FlagItem] = field(default_factory=list)  # stored, every kind
    unverified: list[UnverifiedReach] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[FlagItem]:
        """Return the stored findings of one kind."""
        return [f for f in self.findings if f.kind == kind]

    @property
    def bursts(self) -> list[FlagItem]:
        """Return the ``application_burst`` findings."""
        return self.of_kind("application_burst")

    @property
    def reused(self) -> list[FlagItem]:
        """Return the ``photo_reuse`` findings."""
        return self.of_kind("photo_reuse")

    def _stored(self, kind: str) -> set[int]:
        return {f.station_id for f in self.of_kind(kind) if f.station_id is not None}

    @property
    def paper_unstored(self) -> list[PaperStation]:
        """Return the paper stations no stored ``paper_station`` finding already covers."""
        stored = self._stored("paper_station")
        return [p for p in self.paper if p.station_id not in stored]

    @property
    def unverified_unstored(self) -> list[UnverifiedReach]:
        """Return the unverified-reach stations no stored finding already covers."""
        stored = self._stored("unverified_reach")
        return [u for u in self.unverified if u.station_id not in stored]

    @property
    def window(self) -> Window:
        """Return the report's window (a year, or the part of it so far)."""
        if self.start.month == 1 and self.start.day == 1 and self.end.year == self.start.year:
            return Window(self.start, self.end, "year")
        return Window(self.start, self.end)

    @property
    def empty(self) -> bool:
        """Tell whether nothing was found."""
        return not (self.paper or self.findings or self.unverified)


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
        kinds=list(STORED_KINDS),
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
            flag,
        )
        report.findings.append(item)
    for row in await store.unverified_reach(
        session=session,
        prefixes=prefixes,
        start=start,
        end=end,
        threshold=params.reported_reach_alert,
    ):
        report.unverified.append(UnverifiedReach(*row))
    return report
