"""Parse Arabic and Chinese numerals, exact or approximate, into integers.

Decisions (see docs/activity-message-format.md):

* ``parse_number`` is strict: it accepts only an exact number (``45``, ``４５``, ``1,200``,
  ``1.5万``, ``四十五``, ``一百零五``, ``二〇二六``) and returns ``None`` for approximate
  forms such as ``三十多``; ``parse_quantity`` accepts both and says which it was.
* A digit written right after a unit takes the next lower unit, as in speech:
  ``一万二`` = 12000, ``两千三`` = 2300, ``一百二`` = 120; after ``零`` it does not
  (``一万零二`` = 10002).
* Approximate forms keep the number that was written and set ``approx``: ``三十多`` → 30,
  ``约120`` → 120, ``近百``/``上百``/``过百``/``百余`` → 100, ``120左右`` → 120, ``100+`` → 100.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_NUMBER_CHARS = 64  # longer input is not a number a person typed

# Full-width ASCII (U+FF01..U+FF5E) and the ideographic space fold to ASCII, one char to one
# char, so match offsets found in the folded text are valid in the original text.
_WIDTH_FOLD = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}

CN_DIGITS: dict[str, int] = {
    "零": 0, "〇": 0, "○": 0, "一": 1, "壹": 1, "二": 2, "贰": 2, "貳": 2, "两": 2, "兩": 2,
    "三": 3, "叁": 3, "四": 4, "肆": 4, "五": 5, "伍": 5, "六": 6, "陆": 6, "陸": 6,
    "七": 7, "柒": 7, "八": 8, "捌": 8, "九": 9, "玖": 9,
}  # fmt: skip
_SMALL_UNITS: dict[str, int] = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
_BIG_UNITS: dict[str, int] = {"万": 10**4, "萬": 10**4, "亿": 10**8, "億": 10**8}
_ALL_UNITS = _SMALL_UNITS | _BIG_UNITS

CN_NUMERAL_CHARS = "".join(CN_DIGITS) + "".join(_ALL_UNITS)

_APPROX_PREFIX = r"(?:大约|大概|约莫|差不多|将近|接近|超过|约|近|逾|过|上|~)"
_APPROX_SUFFIX = r"(?:多|余|来|几|\+)"
_ARABIC_CORE = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?[十百千万亿萬億]?"

# A regex fragment (no groups) for a quantity written inside a longer text.
QUANTITY_PATTERN = (
    rf"(?:{_APPROX_PREFIX}[ \t]*)?(?:{_ARABIC_CORE}|[{CN_NUMERAL_CHARS}]+)"
    rf"(?:[ \t]*{_APPROX_SUFFIX})?"
)

_ARABIC_RE = re.compile(
    r"(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<frac>\d+))?(?P<unit>[十百千万亿萬億]?)"
)
_QUANTITY_RE = re.compile(
    rf"(?P<pre>{_APPROX_PREFIX})?\s*(?P<core>.+?)\s*(?P<suf>{_APPROX_SUFFIX}|左右|上下)?"
)
_BARE_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10**4, "萬": 10**4}


@dataclass(frozen=True)
class Quantity:
    """A parsed count; ``approx`` is set when the text hedged it (约, 多, 余, 近, +)."""

    value: int
    approx: bool


def fold_width(text: str) -> str:
    """Return text with full-width ASCII folded to ASCII, keeping every offset."""
    return text.translate(_WIDTH_FOLD)


def parse_number(text: str) -> int | None:
    """Return the exact integer written in text, or None; never raise."""
    s = fold_width(text).strip()
    if not s or len(s) > MAX_NUMBER_CHARS:
        return None
    if s[0].isascii() and s[0].isdigit():
        return _parse_arabic(s)
    return _parse_chinese(s)


def parse_quantity(text: str) -> Quantity | None:
    """Return the exact or approximate count written in text, or None; never raise."""
    s = fold_width(text).strip()
    if not s or len(s) > MAX_NUMBER_CHARS:
        return None
    match = _QUANTITY_RE.fullmatch(s)
    if match is None:
        return None
    core = match["core"]
    approx = bool(match["pre"] or match["suf"])
    value = parse_number(core)
    if value is None and approx:
        value = _BARE_UNITS.get(core)
    if value is None:
        return None
    return Quantity(value=value, approx=approx)


def _parse_arabic(s: str) -> int | None:
    """Parse ASCII digits with optional grouping commas, decimals and one unit character."""
    match = _ARABIC_RE.fullmatch(s)
    if match is None:
        return None
    unit = _ALL_UNITS.get(match["unit"], 1)
    whole = int(match["int"].replace(",", "")) * unit
    frac = match["frac"]
    if frac is None:
        return whole
    scaled = int(frac) * unit
    if unit == 1 or scaled % 10 ** len(frac):
        return None  # 1.5 or 1.55万 is not a whole count
    return whole + scaled // 10 ** len(frac)


def _parse_chinese(s: str) -> int | None:
    """Parse a Chinese numeral such as 四十五, 一百零五, 一万二 or 二〇二六."""
    if any(ch not in CN_NUMERAL_CHARS for ch in s):
        return None
    if all(ch in CN_DIGITS for ch in s):
        return int("".join(str(CN_DIGITS[ch]) for ch in s))
    total = 0  # completed 万 / 亿 groups
    section = 0  # value inside the current group
    digit: int | None = None
    last_unit = 0
    small_cap = 10**4  # within a group units must fall: 千 > 百 > 十
    big_cap = 10**9
    zero_seen = False
    for ch in s:
        if ch in CN_DIGITS:
            if digit is not None:
                return None  # 二三 inside a numeral with units
            value = CN_DIGITS[ch]
            zero_seen = zero_seen or value == 0
            digit = value or None
        elif ch in _SMALL_UNITS:
            unit = _SMALL_UNITS[ch]
            if unit >= small_cap or (digit is None and unit != 10):
                return None
            section += (1 if digit is None else digit) * unit
            digit, last_unit, small_cap, zero_seen = None, unit, unit, False
        else:
            unit = _BIG_UNITS[ch]
            section += digit or 0
            if section == 0 or unit >= big_cap:
                return None
            total = (total + section) * unit if unit == 10**8 else total + section * unit
            section, digit, last_unit, zero_seen = 0, None, unit, False
            small_cap, big_cap = 10**4, unit
    if digit is not None:
        # 一万二 = 12000: a trailing digit right after a unit means the next lower unit.
        section += digit if zero_seen or last_unit <= 10 else digit * (last_unit // 10)
    return total + section
