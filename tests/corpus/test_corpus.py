"""The natural-input corpus: what station admins and volunteers really type, and its parse.

Each line of ``*.tsv`` here is ``kind<TAB>input<TAB>expected``. At least 97 % must parse as
meant, and every line that does not must be listed in docs/natural-input.md (so a miss is a
known, documented limitation, and a fixed one must leave the list). Run this file with
``-s`` to see the score and the misses.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.core.zh_dates import DateError, read_date, read_upcoming
from bot.core.zh_durations import DurationError, read_duration
from bot.core.zh_numbers import QuantityError, read_quantity
from bot.services.activity_text import parse_activity_text

HERE = Path(__file__).parent
DOC = HERE.parent.parent / "docs" / "natural-input.md"
TODAY = dt.date(2026, 12, 1)  # a Tuesday
NOW = dt.datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
PASS_RATE = 0.97
MIN_LINES = 300


@dataclass(frozen=True)
class Line:
    """One corpus line and where it came from."""

    where: str
    kind: str
    text: str
    expected: str


def load() -> list[Line]:
    """Return every corpus line (``\\n`` in an input stands for a line break)."""
    lines = []
    for path in sorted(HERE.glob("*.tsv")):
        for number, raw in enumerate(path.read_text("utf-8").splitlines(), 1):
            if not raw.strip() or raw.startswith("#"):
                continue
            kind, text, expected = raw.split("\t")
            lines.append(Line(f"{path.name}:{number}", kind, text.replace("\\n", "\n"), expected))
    return lines


def parse_qty(text: str) -> str:
    """Render the quantity reader's answer like the corpus writes it."""
    try:
        quantity = read_quantity(text)
    except QuantityError as exc:
        return f"!{exc.code}"
    return f"{quantity.value}{'~' if quantity.approx else ''}"


def parse_day(text: str) -> str:
    """Render the past-oriented date reader's answer."""
    try:
        return read_date(text, today=TODAY).value.isoformat()
    except DateError as exc:
        return f"!{exc.code}"


def parse_schedule(text: str) -> str:
    """Render the future-oriented (schedule) reader's answer."""
    try:
        return read_upcoming(text, now=NOW).strftime("%Y-%m-%dT%H:%M")
    except DateError as exc:
        return f"!{exc.code}"


def parse_length(text: str) -> str:
    """Render the duration reader's answer (seconds, or !code)."""
    try:
        return str(read_duration(text))
    except DurationError as exc:
        return f"!{exc.code}"


def report_fields(text: str) -> dict[str, str]:
    """Render a one-message report's parse as the corpus's field strings."""
    parsed = parse_activity_text(text, today=TODAY)
    n = "-" if parsed.participants is None else str(parsed.participants)
    return {
        "type": parsed.type or "-",
        "date": parsed.held_on.isoformat() if parsed.held_on else "-",
        "n": n + ("~" if parsed.participants_approx and parsed.participants is not None else ""),
        "title": parsed.title or "-",
        "place": parsed.place or "-",
        "campaign": parsed.campaign or "-",
        "err": ",".join(sorted(parsed.errors)) or "-",
    }


def check(line: Line) -> tuple[bool, str]:
    """Return whether a line parses as meant, and what came out."""
    if line.kind == "qty":
        got = parse_qty(line.text)
        return got == line.expected, got
    if line.kind == "date":
        got = parse_day(line.text)
        return got == line.expected, got
    if line.kind == "upcoming":
        got = parse_schedule(line.text)
        return got == line.expected, got
    if line.kind == "duration":
        got = parse_length(line.text)
        return got == line.expected, got
    assert line.kind == "report", line
    fields = report_fields(line.text)
    wanted = dict(part.strip().split("=", 1) for part in line.expected.split("|"))
    if "err" in wanted:
        wanted["err"] = ",".join(sorted(wanted["err"].split(","))) if wanted["err"] != "-" else "-"
    got = " | ".join(f"{key}={fields[key]}" for key in wanted)
    return all(fields[key] == value for key, value in wanted.items()), got


def score() -> tuple[int, list[tuple[Line, str]]]:
    """Return the number of lines and the misses with what they gave."""
    lines = load()
    misses = [(line, got) for line in lines for ok, got in [check(line)] if not ok]
    return len(lines), misses


def documented_misses() -> set[str]:
    """Return the inputs listed as known misses in docs/natural-input.md."""
    text = DOC.read_text("utf-8")
    section = text.split("## Known misses", 1)[1].split("\n## ", 1)[0]
    return {m.replace("\\n", "\n") for m in re.findall(r"^\| `([^`]*)` \|", section, re.M)}


def test_corpus_is_big_enough_and_well_formed() -> None:
    lines = load()
    assert len(lines) >= MIN_LINES
    assert {line.kind for line in lines} == {"qty", "date", "upcoming", "report", "duration"}
    assert sum(line.kind == "report" for line in lines) >= 100


def test_corpus_parses_as_meant() -> None:
    total, misses = score()
    rate = 1 - len(misses) / total
    print(f"\ncorpus: {total - len(misses)}/{total} parse as meant ({rate:.1%})")
    for line, got in misses:
        print(f"  miss {line.where}: {line.text!r} expected {line.expected!r}, got {got!r}")
    assert rate >= PASS_RATE


def test_every_miss_is_documented() -> None:
    _, misses = score()
    listed = documented_misses()
    undocumented = [line.text for line, _ in misses if line.text not in listed]
    assert not undocumented, f"list these misses in {DOC.name}: {undocumented}"
    stale = listed - {line.text for line, _ in misses}
    assert not stale, f"these now parse; remove them from {DOC.name}: {sorted(stale)}"


def test_documented_score_is_current() -> None:
    total, misses = score()
    assert f"{total - len(misses)} of {total}" in DOC.read_text("utf-8")
