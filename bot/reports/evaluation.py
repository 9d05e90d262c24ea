"""The annual evaluation of a region as an XLSX workbook (scores, proposals, informants,
integrity), with localised headers (Chinese by default)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import EvaluationSettings, PropagationSettings
from bot.i18n import N_, Translator
from bot.reports.xlsx import Sheet, write_table_xlsx
from bot.services import evaluation as evaluation_service
from bot.services.access import region_prefix
from bot.services.evaluation import KIND_NAMES
from bot.services.evaluation_decisions import why_text
from bot.services.findings import finding_status
from bot.services.integrity import integrity_report
from bot.services.stations import STATE_NAMES
from storage import evaluation as store
from storage.regions import get_regions

SCORE_HEADERS = [
    N_("Station no."),
    N_("Station"),
    N_("County"),
    N_("Status"),
    N_("Counted from"),
    N_("Shares"),
    N_("Telegram reach"),
    N_("Reported reach"),
    N_("Verified visits"),
    N_("Propagation volume"),
    N_("Activities"),
    N_("Content uses"),
    N_("Last active"),
    N_("Score"),
    N_("County rank"),
    N_("City rank"),
    N_("Province rank"),
]
PROPOSAL_HEADERS = [
    N_("Proposal no."),
    N_("Station no."),
    N_("Station"),
    N_("County"),
    N_("Proposal"),
    N_("Why"),
    N_("Score"),
    N_("City rank"),
    N_("Decision"),
    N_("Decided on"),
    N_("Decision reason"),
]
INFORMANT_HEADERS = [N_("Rank"), N_("Real name"), N_("Station"), N_("Propagation volume")]
INTEGRITY_HEADERS = [
    N_("Finding"),
    N_("Station no."),
    N_("Station"),
    N_("Region code"),
    N_("Details"),
    N_("Finding status"),
]
PROPOSAL_STATES = {
    "proposed": N_("awaiting decision"),
    "confirmed": N_("confirmed"),
    "overridden": N_("overridden"),
}
FINDINGS = {
    "no_informants": N_("paper station: no informant"),
    "inactive": N_("paper station: nothing for {days} days"),
    "application_burst": N_("application burst"),
    "photo_reuse": N_("reused evidence photo"),
    "unverified": N_("reported audiences without a verified visit"),
}


def held_note(t: Translator, detail: dict[str, object] | None, status: str) -> str:
    """Say that an open commendation waits for the review of findings (#ids)."""
    held = (detail or {}).get("held_by") if status == "proposed" else None
    if not isinstance(held, list) or not held:
        return ""
    return t(" (awaiting review of findings {ids})", ids="、".join(f"#{i}" for i in held))


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
    scores = await store.scores_in(session=session, run_id=run.id, prefixes=prefixes)
    counties = await get_regions(
        session=session, codes=sorted({s.region_code for s, _st in scores})
    )

    def county(code: str | None) -> str:
        region = counties.get(code or "")
        return region.name if region else (code or "")

    score_rows: list[list[object]] = [
        [
            st.id,
            st.name,
            county(s.region_code),
            t(STATE_NAMES.get(st.status, st.status)),
            s.counted_from,
            s.shares,
            s.telegram_reach,
            s.reported_reach,
            s.visits,
            s.volume,
            s.activities,
            s.content_uses,
            s.last_active_on or "",
            s.score,
            s.rank_county,
            s.rank_city,
            s.rank_province,
        ]
        for s, st in scores
    ]
    by_station = {s.station_id: s for s, _st in scores}
    proposal_rows: list[list[object]] = []
    for p, st in await store.proposals_in(
        session=session, year=year, prefixes=prefixes, limit=1_000_000
    ):
        score = by_station.get(p.station_id)
        decided = p.decided_at.astimezone(tz).date() if p.decided_at else ""
        proposal_rows.append(
            [
                p.id,
                st.id,
                st.name,
                county(st.region_code),
                t(KIND_NAMES[p.kind]),
                why_text(p, params, t),
                score.score if score else "",
                score.rank_city if score else "",
                t(PROPOSAL_STATES[p.status]) + held_note(t, p.detail, p.status),
                decided,
                p.decision_reason or "",
            ]
        )
    informant_rows: list[list[object]] = [
        [o.rank, inf.real_name or "", st.name, o.volume]
        for o, inf, st in await store.outstanding_in(
            session=session, run_id=run.id, region_code=region_code
        )
    ]
    end = dt.date.fromisoformat(run.params.get("end", f"{year}-12-31"))
    report = await integrity_report(
        session=session,
        evaluation=evaluation,
        propagation=propagation,
        tz=tz,
        region_code=region_code,
        start=dt.date(year, 1, 1),
        end=end,
    )
    integrity_rows: list[list[object]] = []
    for paper in report.paper:
        for reason in paper.reasons:
            integrity_rows.append(
                [
                    t(FINDINGS[reason], days=params.inactive_days),
                    paper.station_id,
                    paper.name,
                    paper.region_code,
                    t(
                        "informants: {n}; last active: {day}",
                        n=paper.informants,
                        day=paper.last_active_on.isoformat() if paper.last_active_on else "—",
                    ),
                    "",
                ]
            )
    for flag in report.bursts + report.reused:
        integrity_rows.append(
            [
                t(FINDINGS[flag.kind]),
                flag.station_id or "",
                flag.station_name,
                flag.region_code,
                t(
                    "raised {day}{resolved}",
                    day=flag.raised_on.isoformat(),
                    resolved=t(" (resolved)") if flag.resolved else "",
                ),
                finding_status(t, flag.status, flag.decision_reason),
            ]
        )
    for item in report.unverified:
        integrity_rows.append(
            [
                t(FINDINGS["unverified"]),
                item.station_id,
                item.name,
                item.region_code,
                t(
                    "{shares} reported shares, reach {reach}, verified visits {visits}",
                    shares=item.shares,
                    reach=item.reported_reach,
                    visits=item.visits,
                ),
                "",
            ]
        )
    note = t(
        "{year} annual evaluation, region {code}, counted up to {end}.",
        year=year,
        code=region_code,
        end=end.isoformat(),
    )
    return write_table_xlsx(
        [
            Sheet(
                t("Scores and ranks"),
                [t(h) for h in SCORE_HEADERS],
                score_rows,
                number_formats={13: "0.00"},
                notes=[note],
            ),
            Sheet(t("Proposals"), [t(h) for h in PROPOSAL_HEADERS], proposal_rows),
            Sheet(t("Outstanding informants"), [t(h) for h in INFORMANT_HEADERS], informant_rows),
            Sheet(t("Integrity"), [t(h) for h in INTEGRITY_HEADERS], integrity_rows),
        ]
    )
