"""The annual evaluation of a region as an XLSX workbook (scores, proposals, informants,
integrity), with localised headers (Chinese by default).

Each sheet is described by a tuple of column specs (header, number format) and its rows
are built in the same order, so a column is one line in the spec and one value in the row.
Every sheet opens with the region, the year and the window in row 1 and says how its rows
are ordered in row 2.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import astuple, dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import EvaluationSettings, PropagationSettings
from bot.i18n import N_, Translator
from bot.reports.windows import date_range, date_text
from bot.reports.xlsx import (
    DATE_FORMAT,
    INTEGER_FORMAT,
    SCORE_FORMAT,
    VOLUME_FORMAT,
    Column,
    Sheet,
    write_table_xlsx,
)
from bot.services import evaluation as evaluation_service
from bot.services.access import region_prefix
from bot.services.evaluation import KIND_NAMES, KINDS, local_date
from bot.services.evaluation_decisions import why_text
from bot.services.finding_text import KIND_NAMES as FINDING_KINDS
from bot.services.finding_text import status_of, why
from bot.services.integrity import STORED_KINDS, IntegrityReport, integrity_report
from bot.services.stations import STATE_NAMES
from storage import evaluation as store
from storage.models import EvaluationProposal, Station
from storage.regions import get_regions

# (header, number format); None: text.
ColumnSpec = tuple[str, str | None]

SCORE_COLUMNS: tuple[ColumnSpec, ...] = (
    (N_("Station no."), INTEGER_FORMAT),
    (N_("Station"), None),
    (N_("County"), None),
    (N_("Status"), None),
    (N_("Recognised on"), DATE_FORMAT),
    (N_("Recognised during the year"), None),
    (N_("Shares"), INTEGER_FORMAT),
    (N_("Telegram reach"), INTEGER_FORMAT),
    (N_("Reported reach"), INTEGER_FORMAT),
    (N_("Link visits"), INTEGER_FORMAT),
    (N_("Propagation volume"), VOLUME_FORMAT),
    (N_("Activities"), INTEGER_FORMAT),
    (N_("Content uses"), INTEGER_FORMAT),
    (N_("Last active"), DATE_FORMAT),
    (N_("Score"), SCORE_FORMAT),
    (N_("County rank"), INTEGER_FORMAT),
    (N_("City rank"), INTEGER_FORMAT),
    (N_("Province rank"), INTEGER_FORMAT),
)
PROPOSAL_COLUMNS: tuple[ColumnSpec, ...] = (
    (N_("Proposal no."), INTEGER_FORMAT),
    (N_("Station no."), INTEGER_FORMAT),
    (N_("Station"), None),
    (N_("County"), None),
    (N_("Proposal"), None),
    (N_("Why"), None),
    (N_("Score"), SCORE_FORMAT),
    (N_("City rank"), INTEGER_FORMAT),
    (N_("Decision"), None),
    (N_("Decided on"), DATE_FORMAT),
    (N_("Decision reason"), None),
)
INFORMANT_COLUMNS: tuple[ColumnSpec, ...] = (
    (N_("Rank"), INTEGER_FORMAT),
    (N_("Real name"), None),
    (N_("Station"), None),
    (N_("Propagation volume"), VOLUME_FORMAT),
)


@dataclass(frozen=True)
class IntegrityLine:
    """One row of the integrity sheet, already localised; fields in INTEGRITY_COLUMNS order."""

    finding: str
    station_id: int | None
    station: str
    county: str
    details: str
    raised_on: dt.date | None = None  # stored findings only
    status: str = ""  # the finding's review status; empty where no stored finding exists


# One spec per IntegrityLine field, in the same order.
INTEGRITY_COLUMNS: tuple[ColumnSpec, ...] = (
    (N_("Finding"), None),
    (N_("Station no."), INTEGER_FORMAT),
    (N_("Station"), None),
    (N_("County"), None),
    (N_("Details"), None),
    (N_("Raised on"), DATE_FORMAT),
    (N_("Finding status"), None),
)
PROPOSAL_STATES = {
    "proposed": N_("awaiting decision"),
    "confirmed": N_("confirmed"),
    "overridden": N_("overridden"),
}
# What the report finds on the fly, before (or without) a stored finding; each sorts with
# the stored kind it would be raised as.
ON_THE_FLY = {
    "no_informants": (N_("paper station: no informant"), "paper_station"),
    "inactive": (N_("paper station: nothing for {days} days"), "paper_station"),
    "unverified": (N_("reported audiences without a verified visit"), "unverified_reach"),
}
# The sheet lists findings in the order of the one table of kinds (finding_text.KIND_NAMES).
_FINDING_ORDER = {kind: i for i, kind in enumerate(STORED_KINDS)}
_LAST = 1_000_000_000  # sorts after every rank


def held_note(t: Translator, detail: dict[str, object] | None, status: str) -> str:
    """Say that an open commendation waits for the review of findings (#ids)."""
    held = (detail or {}).get("held_by") if status == "proposed" else None
    if not isinstance(held, list) or not held:
        return ""
    return t(" (awaiting review of findings {ids})", ids="、".join(f"#{i}" for i in held))


def _columns(t: Translator, specs: Sequence[ColumnSpec]) -> list[Column]:
    """Return the localised columns of a spec."""
    return [Column(t(header), fmt) for header, fmt in specs]


async def evaluation_workbook(
    *,
    session: AsyncSession,
    evaluation: EvaluationSettings,
    propagation: PropagationSettings,
    tz: dt.tzinfo,
    year: int,
    region_code: str,
    t: Translator,
) -> bytes | None:
    """Return the workbook of ``region_code`` for ``year``, or None if it was not evaluated."""
    run = await evaluation_service.run_for(session=session, year=year, region_code=region_code)
    if run is None or run.id is None:
        return None
    params = evaluation
    prefixes = [region_prefix(region_code)]
    start = dt.date.fromisoformat(run.params.get("start", f"{year}-01-01"))
    end = dt.date.fromisoformat(run.params.get("end", f"{year}-12-31"))
    scores = await store.scores_in(session=session, run_id=run.id, prefixes=prefixes)
    proposals = await store.proposals_in(
        session=session, year=year, prefixes=prefixes, limit=1_000_000
    )
    outstanding = await store.outstanding_in(
        session=session, run_id=run.id, region_code=region_code
    )
    report = await integrity_report(
        session=session,
        evaluation=evaluation,
        propagation=propagation,
        tz=tz,
        region_code=region_code,
        start=dt.date(year, 1, 1),
        end=end,
    )
    codes = {region_code, *(s.region_code for s, _st in scores)}
    codes |= {st.region_code for _p, st in proposals if st.region_code}
    codes |= {paper.region_code for paper in report.paper}
    codes |= {flag.region_code for flag in report.findings}
    codes |= {item.region_code for item in report.unverified}
    regions = await get_regions(session=session, codes=sorted(c for c in codes if c))

    def region_name(code: str | None) -> str:
        region = regions.get(code or "")
        return region.name if region else (code or "")

    def heading(part: str, window: str) -> str:
        return t(
            "{region} e-station evaluation {year} · {part} · {window}",
            region=region_name(region_code) or t("all regions"),
            year=year,
            part=part,
            window=window,
        )

    window = date_range(t, start, end)
    by_score = sorted(scores, key=lambda pair: (-pair[0].score, pair[1].id or 0))
    # Every station is counted over the calendar year (docs/figures.md); a station
    # recognised during it is marked, so a reader knows its year was partly before.
    recognised = {st.id: local_date(st.recognised_at, tz) for _s, st in scores}
    marker = t("recognised during the year")
    score_rows: list[list[object]] = [
        [
            st.id,
            st.name,
            region_name(s.region_code),
            t(STATE_NAMES.get(st.status, st.status)),
            recognised[st.id],
            marker if (day := recognised[st.id]) is not None and start < day <= end else "",
            s.shares,
            s.telegram_reach,
            s.reported_reach,
            s.visits,
            s.volume,
            s.activities,
            s.content_uses,
            s.last_active_on,
            s.score,
            s.rank_county,
            s.rank_city,
            s.rank_province,
        ]
        for s, st in by_score
    ]
    by_station = {s.station_id: s for s, _st in scores}

    def proposal_order(pair: tuple[EvaluationProposal, Station]) -> tuple[int, int, float, int]:
        p, _st = pair
        score = by_station.get(p.station_id)
        return (
            KINDS.index(p.kind),
            score.rank_city if score else _LAST,
            -score.score if score else 0.0,
            p.id or 0,
        )

    proposal_rows: list[list[object]] = []
    for p, st in sorted(proposals, key=proposal_order):
        score = by_station.get(p.station_id)
        proposal_rows.append(
            [
                p.id,
                st.id,
                st.name,
                region_name(st.region_code),
                t(KIND_NAMES[p.kind]),
                why_text(p, params, t),
                score.score if score else None,
                score.rank_city if score else None,
                t(PROPOSAL_STATES[p.status]) + held_note(t, p.detail, p.status),
                p.decided_at.astimezone(tz).date() if p.decided_at else None,
                p.decision_reason or "",
            ]
        )
    informant_rows: list[list[object]] = [
        [o.rank, inf.real_name or "", st.name, o.volume] for o, inf, st in outstanding
    ]
    findings = _integrity_lines(t, report, params, region_name)
    findings.sort(key=lambda item: (_FINDING_ORDER.get(item[0], _LAST), item[1].station_id or 0))
    integrity_rows = [list(astuple(line)) for _kind, line in findings]
    counted = t(
        "Every station is counted over {window}; stations recognised during the year are "
        "marked “recognised during the year”.",
        window=window,
    )
    return write_table_xlsx(
        [
            Sheet(
                t("Scores and ranks"),
                _columns(t, SCORE_COLUMNS),
                score_rows,
                heading=heading(t("Scores and ranks"), window),
                notes=[t("Rows by score, highest first."), counted],
                frozen_columns=2,
            ),
            Sheet(
                t("Proposals"),
                _columns(t, PROPOSAL_COLUMNS),
                proposal_rows,
                heading=heading(t("Proposals"), window),
                notes=[
                    t(
                        "Rows by proposal ({kinds}), then by city rank.",
                        kinds="、".join(t(KIND_NAMES[kind]) for kind in KINDS),
                    )
                ],
                frozen_columns=3,
            ),
            Sheet(
                t("Outstanding informants"),
                _columns(t, INFORMANT_COLUMNS),
                informant_rows,
                heading=heading(t("Outstanding informants"), window),
                notes=[t("Rows by rank.")],
                frozen_columns=2,
            ),
            Sheet(
                t("Integrity"),
                _columns(t, INTEGRITY_COLUMNS),
                integrity_rows,
                heading=heading(t("Integrity"), date_range(t, dt.date(year, 1, 1), end)),
                notes=[
                    t("Rows by finding, then by station number."),
                    t(
                        "Stored findings carry their review status; a paper station or "
                        "unverified reach without one is what the check finds today."
                    ),
                ],
                frozen_columns=3,
            ),
        ]
    )


def _integrity_lines(
    t: Translator,
    report: IntegrityReport,
    params: EvaluationSettings,
    region_name: Callable[[str | None], str],
) -> list[tuple[str, IntegrityLine]]:
    """Return (finding kind, row) for every finding of the report: every stored finding,
    with its status, and what the check finds today that no stored finding covers yet."""
    lines: list[tuple[str, IntegrityLine]] = []
    for paper in report.paper_unstored:
        last = date_text(t, paper.last_active_on) if paper.last_active_on else "—"
        for reason in paper.reasons:
            label, kind = ON_THE_FLY[reason]
            lines.append(
                (
                    kind,
                    IntegrityLine(
                        finding=t(label, days=params.inactive_days),
                        station_id=paper.station_id,
                        station=paper.name,
                        county=region_name(paper.region_code),
                        details=t(
                            "informants: {n}; last active: {day}",
                            n=t.number(paper.informants),
                            day=last,
                        ),
                    ),
                )
            )
    for item in report.unverified_unstored:
        label, kind = ON_THE_FLY["unverified"]
        lines.append(
            (
                kind,
                IntegrityLine(
                    finding=t(label),
                    station_id=item.station_id,
                    station=item.name,
                    county=region_name(item.region_code),
                    details=t(
                        "{shares} reported shares, reach {reach}, verified visits {visits}",
                        shares=t.number(item.shares),
                        reach=t.number(item.reported_reach),
                        visits=t.number(item.visits),
                    ),
                ),
            )
        )
    for found in report.findings:
        if found.flag is None:
            continue
        lines.append(
            (
                found.kind,
                IntegrityLine(
                    finding=t(FINDING_KINDS.get(found.kind, found.kind)),
                    station_id=found.station_id,
                    station=found.station_name,
                    county=region_name(found.region_code),
                    details=why(t, found.flag),
                    raised_on=found.raised_on,
                    status=status_of(t, found.flag),
                ),
            )
        )
    return lines
