"""`kepubot evaluate --year 2026 [--region CODE] [--export DIR]`: run the annual evaluation."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from bot.cli import CliError, cli_session, set_command, translator
from bot.cli.speech import ArgValueError
from bot.config import Settings
from bot.core.error_text import error_text as domain_text
from bot.i18n import N_
from bot.reports.evaluation import evaluation_workbook
from bot.services import evaluation as ev
from bot.services.evaluation import KIND_NAMES, KINDS, EvaluationError
from storage.regions import get_region

_REGION_RE = re.compile(r"^\d{6}$")
TOP = 5


def _year(value: str) -> int:
    if not (value.isdigit() and len(value) == 4):
        raise ArgValueError(N_("not a year: {value!r} (e.g. 2026)"), value=value)
    return int(value)


async def _evaluate(args: argparse.Namespace, settings: Settings) -> int:
    t = translator(args, settings)
    if args.region and not _REGION_RE.match(args.region):
        raise CliError(t("The region must be a 6-digit code, e.g. 330106."))
    files: list[Path] = []
    async with cli_session(settings) as (runtime, session):
        if args.region and await get_region(session=session, code=args.region) is None:
            raise CliError(
                t("Unknown region code {code}. Import regions first.", code=args.region)
            )
        try:
            result = await ev.run_evaluation(
                session=session,
                evaluation=settings.evaluation,
                propagation=settings.propagation,
                tz=settings.scheduler.tz,
                year=args.year,
                region_code=args.region,
                as_of=runtime.today(),
                now=runtime.now(),
            )
        except EvaluationError as exc:
            raise CliError(domain_text(exc, t)) from exc
        print(
            t(
                "Annual evaluation {year}, region {region}: {n} stations counted from {start} "
                "to {end}.",
                year=args.year,
                region=result.region_code or t("all"),
                n=len(result.scores),
                start=result.start.isoformat(),
                end=result.end.isoformat(),
            )
        )
        for item in result.scores[:TOP]:
            print(
                t(
                    "  {rank}. {name} (#{id}) score {score}",
                    rank=item.rank_province,
                    name=item.figures.name,
                    id=item.station_id,
                    score=format(item.score, ".2f"),
                )
            )
        for kind in KINDS:
            got = result.counts.get(kind, {})
            print(
                t(
                    "{kind}: {open} awaiting decision, {done} decided",
                    kind=t(KIND_NAMES[kind]),
                    open=got.get("proposed", 0),
                    done=got.get("confirmed", 0) + got.get("overridden", 0),
                )
            )
        if args.export:
            out = Path(args.export)
            try:
                out.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise CliError(
                    t("Cannot write {path}: {error}", path=out, error=exc.strerror), code=1
                ) from exc
            codes = sorted({ev.city_of(s.figures.region_code) for s in result.scores})
            if not result.region_code or result.region_code.endswith("0000"):
                codes += sorted({ev.province_of(c) for c in codes})
            for code in codes:
                data = await evaluation_workbook(
                    session=session,
                    evaluation=settings.evaluation,
                    propagation=settings.propagation,
                    tz=settings.scheduler.tz,
                    year=args.year,
                    region_code=code,
                    t=t,
                )
                if data is not None:
                    path = out / f"evaluation-{code}-{args.year}.xlsx"
                    path.write_bytes(data)
                    files.append(path)
    for path in files:
        print(t("Wrote {path}.", path=path))
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the `evaluate` command."""
    parser = sub.add_parser(
        "evaluate",
        help=N_("run the annual evaluation (scores, ranks, proposals)"),
        description=N_(
            "Score and rank the counted stations of a year, propose commend / "
            "rectify / eliminate / revoke decisions for coordinators, and optionally export "
            "one XLSX per city (and province). Re-running replaces undecided proposals and "
            "keeps decided ones."
        ),
    )
    parser.add_argument("--year", required=True, type=_year, help=N_("the year, e.g. 2026"))
    parser.add_argument(
        "--region",
        metavar="CODE",
        help=N_("6-digit region code (a county is widened to its city); default: every region"),
    )
    parser.add_argument(
        "--export", metavar="DIR", help=N_("write evaluation-CODE-YEAR.xlsx files into DIR")
    )
    set_command(parser, _evaluate)
