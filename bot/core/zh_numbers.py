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
* An unknown leading digit counts as 3 ("a few"): ``几十`` → 30, ``数百`` → 300, ``好几千``
  → 3000; ``十几`` keeps what was written (10). A range counts its lower end, never more than
  was written: ``三四十`` → 30, ``一两百`` → 100, ``30-40`` / ``30到40`` → 30 (all approximate).
* ``read_quantity`` is the one reader of a typed count (audiences, participants, head
  counts): spaces anywhere, a unit (人, 个人, 名, 位, 人次, 个, 次) and a trailing particle
  (吧, 。) are allowed; refusals are ``QuantityError`` codes ``empty``, ``unreadable``,
  ``negative`` (-45, 负45), ``zero`` and ``too_many``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.core.errors import DomainError

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

_APPROX_PREFIX = (
    r"(?:大约|大概|约莫|约摸|差不多|将近|接近|超过|不到|至少|起码|少说|约|近|逾|过|上|~)"
)
_APPROX_SUFFIX = r"(?:多|余|来|几|\+)"
_ARABIC_CORE = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?[十百千万亿萬億]?"
_FEW_CORE = r"(?:好几|几|数)[十百千万]"  # 几十, 数百, 好几千: an unknown leading digit
_CN_CORE = rf"(?:{_FEW_CORE}|[{CN_NUMERAL_CHARS}]+)"
_RANGE_SEP = r"(?:-|~|到|至|—|–)"

# A regex fragment (no groups) for a quantity written inside a longer text.
QUANTITY_PATTERN = (
    rf"(?:{_APPROX_PREFIX}[ \t]*)?"
    rf"(?:{_ARABIC_CORE}(?:[ \t]*{_RANGE_SEP}[ \t]*{_ARABIC_CORE})?|{_CN_CORE})"
    rf"(?:[ \t]*{_APPROX_SUFFIX})?"
)
FEW = 3  # the value of 几 / 数 as a leading digit (几十 → 30); see the module docstring
UNITS = ("个人", "人次", "人", "名", "位", "个", "次")

_ARABIC_RE = re.compile(
    r"(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<frac>\d+))?(?P<unit>[十百千万亿萬億]?)"
)
_QUANTITY_RE = re.compile(
    rf"(?P<pre>{_APPROX_PREFIX})?\s*(?P<core>.+?)\s*(?P<suf>{_APPROX_SUFFIX}|左右|上下)?"
)
_BARE_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10**4, "萬": 10**4}
_FEW_RE = re.compile(r"(?:好几|几|数)(?P<unit>[十百千万])")
_CN_RANGE_RE = re.compile(
    r"(?P<a>[一二两三四五六七八九])(?P<b>[二两三四五六七八九])(?P<unit>[十百千万]?)"
)
_RANGE_RE = re.compile(rf"(?P<low>.+?){_RANGE_SEP}(?P<high>.+)")
_NEGATIVE_RE = re.compile(r"^(?:-|−|负|减)(?=\S)")
_READ_RE = re.compile(
    rf"(?P<pre>{_APPROX_PREFIX})?(?:有|共|共计|一共|总共|合计)?(?P<core>.+?)"
    rf"(?P<suf>{_APPROX_SUFFIX})?(?P<unit>个人|人次|人|名|位|个|次)?"
    r"(?P<after>左右|上下|以上|多|余)?"
)
_TRAILING_JUNK = "吧呀啊哦呢嗯。.!！?？~～,，、 "


class QuantityError(DomainError, area="quantity"):
    """A typed count that cannot be taken; ``code`` says why (see ``read_quantity``)."""


@dataclass(frozen=True)
class Quantity:
    """A parsed count; ``approx`` is set when the text hedged it (约, 多, 余, 近, +)."""

    value: int
    approx: bool
    unit: str = field(default="", compare=False)  # 人, 名, 人次… as written, if any


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
    value, hedged = _core_value(core)
    if value is None and approx:
        value = _BARE_UNITS.get(core)
    if value is None:
        return None
    return Quantity(value=value, approx=approx or hedged)


def read_quantity(text: str, *, minimum: int = 1, limit: int | None = None) -> Quantity:
    """Read a typed count (约80人, 200人左右, 五十, 1,000, 1.2万…) or raise QuantityError."""
    s = "".join(fold_width(text or "").split()).rstrip(_TRAILING_JUNK)
    if not s:
        raise QuantityError("empty")
    if len(s) > MAX_NUMBER_CHARS:
        raise QuantityError("unreadable", text=s[:20])
    negative = _NEGATIVE_RE.match(s)
    if negative is not None:
        if _scan(s[negative.end() :]) is not None:
            raise QuantityError("negative", text=s)
        raise QuantityError("unreadable", text=s)
    quantity = _scan(s)
    if quantity is None:
        raise QuantityError("unreadable", text=s)
    if quantity.value < minimum:
        raise QuantityError("zero", text=s, minimum=minimum)
    if limit is not None and quantity.value > limit:
        raise QuantityError("too_many", text=s, limit=limit)
    return quantity


def _scan(s: str) -> Quantity | None:
    """Read a blank-free count with its hedges and unit, or None."""
    match = _READ_RE.fullmatch(s)
    if match is None:
        return None
    quantity = parse_quantity((match["pre"] or "") + match["core"] + (match["suf"] or ""))
    if quantity is None:
        return None
    hedged = quantity.approx or match["after"] in ("左右", "上下", "以上", "多", "余")
    return Quantity(quantity.value, hedged, match["unit"] or "")


def _core_value(core: str) -> tuple[int | None, bool]:
    """Return the value of a bare core (number, 几十, 三四十, 30-40) and whether it hedges."""
    value = parse_number(core)
    if value is not None:
        return value, False
    few = _FEW_RE.fullmatch(core)
    if few is not None:
        return FEW * _ALL_UNITS[few["unit"]], True
    pair = _CN_RANGE_RE.fullmatch(core)
    if pair is not None and _adjacent(CN_DIGITS[pair["a"]], CN_DIGITS[pair["b"]]):
        return CN_DIGITS[pair["a"]] * _ALL_UNITS.get(pair["unit"], 1), True
    span = _RANGE_RE.fullmatch(core)
    if span is not None:
        low, high = parse_number(span["low"].strip()), parse_number(span["high"].strip())
        if low is not None and high is not None and 0 < low < high:
            return low, True
    return None, False


def _adjacent(low: int, high: int) -> bool:
    """Tell whether two digits read as a spoken range (三四, 七八, 一两)."""
    return high == low + 1


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
