"""Parse and validate a regions CSV (GB/T 2260 codes) without touching the database."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.core.zh_numbers import fold_width

LEVELS: tuple[str, ...] = ("province", "city", "county")
REQUIRED_COLUMNS: tuple[str, ...] = ("code", "name", "level", "parent_code")
OPTIONAL_COLUMNS: tuple[str, ...] = ("name_en",)
NAME_MAX = 50

_CODE_RE = re.compile(r"^[1-9][0-9]{5}$")  # ASCII only: "\d" also takes full-width digits
# Latin-1 letters and U+FFFD never occur in a Chinese region name: they mean the bytes were
# decoded with the wrong codec (typically a GBK file read as UTF-8 or Latin-1).
_MOJIBAKE_RE = re.compile("[\u0080-\u00ff\ufffd]")
_OTHER_DELIMITERS: tuple[str, ...] = (";", "\t", "|", "，")


@dataclass(frozen=True)
class RegionRow:
    """One valid region from the file."""

    code: str
    name: str
    name_en: str
    level: str
    parent_code: str | None


@dataclass(frozen=True)
class RowError:
    """One problem found in the file; ``code`` is a machine code, never a sentence."""

    line: int
    column: str | None
    code: str
    params: dict[str, str | int] = field(default_factory=dict)


@dataclass(frozen=True)
class RegionsParse:
    """The valid rows (file order) and the errors (line order) of one file."""

    rows: list[RegionRow]
    errors: list[RowError]

    @property
    def ok(self) -> bool:
        """Return whether the file had no errors at all."""
        return not self.errors


@dataclass(frozen=True)
class _Candidate:
    line: int
    row: RegionRow


def region_level_for_code(code: str) -> str:
    """Return the level a 6-digit code denotes: xx0000 province, xxxx00 city, else county."""
    if code.endswith("0000"):
        return "province"
    if code.endswith("00"):
        return "city"
    return "county"


def is_region_code(code: str) -> bool:
    """Return whether ``code`` looks like a 6-digit GB/T 2260 code."""
    return bool(_CODE_RE.match(code))


def decode_regions_csv(data: bytes) -> str:
    """Decode an uploaded file: UTF-8 (with or without BOM), else GB18030 (covers GBK)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        # Undecodable bytes become U+FFFD, which the parser reports as ``bad_encoding``.
        return data.decode("utf-8", errors="replace")


def parse_regions_csv(text: str, known: Mapping[str, str] | None = None) -> RegionsParse:
    """Parse a regions CSV; ``known`` maps codes already stored to their level."""
    known = known or {}
    text = text.lstrip("\ufeff")
    if not text.strip():
        return RegionsParse(rows=[], errors=[RowError(1, None, "empty_file")])
    reader = csv.reader(io.StringIO(text, newline=""))
    errors: list[RowError] = []
    header: list[str] = []
    try:
        for record in reader:
            if any(cell.strip() for cell in record):
                header = record
                break
    except csv.Error as exc:
        error = RowError(reader.line_num or 1, None, "bad_csv", {"detail": str(exc)})
        return RegionsParse(rows=[], errors=[error])
    header_line = reader.line_num
    columns = {name.strip().lower(): index for index, name in enumerate(header)}
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        joined = ",".join(header)
        delimiter = next((d for d in _OTHER_DELIMITERS if d in joined), None)
        if delimiter is not None and len(header) == 1:
            errors.append(RowError(header_line, None, "bad_delimiter", {"delimiter": delimiter}))
        else:
            errors.extend(RowError(header_line, name, "missing_column") for name in missing)
        return RegionsParse(rows=[], errors=errors)

    candidates: list[_Candidate] = []
    first_line: dict[str, int] = {}
    previous = reader.line_num
    try:
        for record in reader:
            line = previous + 1
            previous = reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            candidate = _check_record(record, columns, line, first_line, errors)
            if candidate is not None:
                candidates.append(candidate)
    except csv.Error as exc:
        errors.append(RowError(previous + 1, None, "bad_csv", {"detail": str(exc)}))

    accepted = _check_parents(candidates, known, errors)
    errors.sort(key=lambda error: error.line)
    return RegionsParse(rows=[c.row for c in candidates if c.row.code in accepted], errors=errors)


def _cell(record: list[str], columns: Mapping[str, int], name: str) -> str:
    """Return the stripped cell of ``name``, or an empty string if the record is short."""
    index = columns.get(name)
    if index is None or index >= len(record):
        return ""
    return record[index].strip()


def _check_record(
    record: list[str],
    columns: Mapping[str, int],
    line: int,
    first_line: dict[str, int],
    errors: list[RowError],
) -> _Candidate | None:
    """Validate one record on its own; return it as a candidate if nothing is wrong."""
    code = fold_width(_cell(record, columns, "code"))
    name = _cell(record, columns, "name")
    name_en = _cell(record, columns, "name_en")
    level = _cell(record, columns, "level").lower()
    parent_code = fold_width(_cell(record, columns, "parent_code"))
    found: list[RowError] = []
    if not is_region_code(code):
        found.append(RowError(line, "code", "bad_code", {"value": code}))
    if level not in LEVELS:
        found.append(RowError(line, "level", "bad_level", {"value": level}))
    elif is_region_code(code) and region_level_for_code(code) != level:
        expected = region_level_for_code(code)
        found.append(
            RowError(line, "level", "level_code_mismatch", {"value": level, "expected": expected})
        )
    if not name:
        found.append(RowError(line, "name", "empty_name"))
    elif _MOJIBAKE_RE.search(name):
        found.append(RowError(line, "name", "bad_encoding", {"value": name}))
    elif len(name) > NAME_MAX:
        found.append(RowError(line, "name", "name_too_long", {"max": NAME_MAX}))
    if parent_code and not is_region_code(parent_code):
        found.append(RowError(line, "parent_code", "bad_code", {"value": parent_code}))
    if is_region_code(code):
        if code in first_line:
            params: dict[str, str | int] = {"value": code, "first_line": first_line[code]}
            found.append(RowError(line, "code", "duplicate_code", params))
        else:
            first_line[code] = line
    errors.extend(found)
    if found:
        return None
    row = RegionRow(code, name, name_en, level, parent_code or None)
    return _Candidate(line=line, row=row)


def _check_parents(
    candidates: list[_Candidate], known: Mapping[str, str], errors: list[RowError]
) -> set[str]:
    """Check each candidate's parent, provinces first; return the codes accepted."""
    accepted: dict[str, str] = {}
    for level in LEVELS:
        for candidate in candidates:
            if candidate.row.level != level:
                continue
            error = _parent_error(candidate.row, accepted, known)
            if error is None:
                accepted[candidate.row.code] = level
            else:
                code, params = error
                errors.append(RowError(candidate.line, "parent_code", code, params))
    return set(accepted)


def _parent_error(
    row: RegionRow, accepted: Mapping[str, str], known: Mapping[str, str]
) -> tuple[str, dict[str, str | int]] | None:
    """Return the error code and params for a row's parent, or None if it is fine."""
    parent = row.parent_code
    if row.level == "province":
        if parent is None:
            return None
        return "unexpected_parent", {"parent_code": parent}
    if parent is None:
        return "missing_parent", {"parent_code": ""}
    parent_level = accepted.get(parent) or known.get(parent)
    if parent_level is None:
        return "missing_parent", {"parent_code": parent}
    allowed = _allowed_parent_levels(row.code, row.level)
    if parent_level not in allowed:
        expected = "|".join(allowed)
        return "parent_level_mismatch", {
            "parent_code": parent,
            "expected": expected,
            "actual": parent_level,
        }
    prefix = 2 if parent_level == "province" else 4
    if row.code[:prefix] != parent[:prefix]:
        return "code_prefix_mismatch", {"parent_code": parent, "prefix": parent[:prefix]}
    return None


def _allowed_parent_levels(code: str, level: str) -> tuple[str, ...]:
    """Return the parent levels a row may have."""
    if level == "city":
        return ("province",)
    # 省直辖县级行政区划 (e.g. 429004 仙桃市): county codes xx90xx sit under the xx9000
    # placeholder or, in some datasets, directly under the province.
    if code[2:4] == "90":
        return ("city", "province")
    return ("city",)
