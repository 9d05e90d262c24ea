"""Read a typed length of time (a video's duration) into seconds.

Accepted, with Arabic or Chinese numerals, full-width or not, spaces anywhere:

* clock forms: ``3:20`` (minutes:seconds), ``1:02:03`` (hours:minutes:seconds), ``3：20``;
* units: ``3分20秒``, ``3分钟20秒``, ``三分二十秒``, ``1小时5分``, ``1个半小时``, ``200秒``,
  ``3分20`` (the seconds' unit left out after 分), ``半小时``, ``一刻钟``, ``3分半``;
* English and symbols: ``3m20s``, ``3 min 20 s``, ``1h5m``, ``3'20"``, ``3′20″``.

A bare number (``3``, ``200``) is refused (``no_unit``): minutes or seconds cannot be
told apart. Refusals are ``DurationError`` codes ``empty``, ``unreadable``, ``no_unit``,
``zero``, ``bad_seconds`` (``3:75``) and ``too_long`` (over ``MAX_SECONDS``).
"""

from __future__ import annotations

import re

from bot.core.errors import DomainError
from bot.core.zh_numbers import CN_NUMERAL_CHARS, fold_width, parse_number

MAX_SECONDS = 24 * 3600

_NUM = rf"(?:\d+(?:\.\d+)?|[{CN_NUMERAL_CHARS}]+)"
_CLOCK_RE = re.compile(r"(?:(?P<h>\d{1,2})[:：])?(?P<m>\d{1,3})[:：](?P<s>\d{1,2})")
_HOURS = r"(?:个?小时|个?钟头|h|hr|hrs|hour|hours)"
_MINUTES = r"(?:分钟|分|m|min|mins|minute|minutes|'|′)"
_SECONDS = r"(?:秒钟|秒|s|sec|secs|second|seconds|\"|″)"
_UNITS_RE = re.compile(
    rf"(?:(?P<h>{_NUM}|半)(?P<hhalf>个半)?{_HOURS}(?P<hhalf2>半)?)?"
    rf"(?:(?P<quarter>{_NUM}|一)刻钟?)?"
    rf"(?:(?P<m>{_NUM}|半){_MINUTES}(?P<mhalf>半)?)?"
    rf"(?:(?P<s>{_NUM}){_SECONDS}?)?",
    re.IGNORECASE,
)
_TRAILING = "左右吧。.!！~～ "


class DurationError(DomainError, area="duration"):
    """A typed duration that cannot be taken; ``code`` says why (see the module docstring)."""


def _value(token: str | None) -> float:
    if not token:
        return 0.0
    if token == "半":
        return 0.5
    if re.fullmatch(r"\d+(?:\.\d+)?", token):
        return float(token)
    number = parse_number(token)
    if number is None:
        raise DurationError("unreadable")
    return float(number)


def read_duration(text: str) -> int:
    """Return the duration written in ``text`` in whole seconds, or raise DurationError."""
    work = re.sub(r"\s+", "", fold_width(text)).strip(_TRAILING)
    work = work.removeprefix("时长").removeprefix("约").removeprefix("大约")
    if not work:
        raise DurationError("empty")
    if re.fullmatch(_NUM, work):
        raise DurationError("no_unit", value=work)
    clock = _CLOCK_RE.fullmatch(work)
    if clock is not None:
        minutes, seconds = int(clock["m"]), int(clock["s"])
        if seconds >= 60 or (clock["h"] and minutes >= 60):
            raise DurationError("bad_seconds", value=work)
        total = int(clock["h"] or 0) * 3600 + minutes * 60 + seconds
        return _checked(total)
    match = _UNITS_RE.fullmatch(work)
    if match is None or not any(match[g] for g in ("h", "quarter", "m", "s")):
        raise DurationError("unreadable")
    if match["s"] and not re.search(rf"{_SECONDS}$", work, re.IGNORECASE):
        # "3分20": seconds without their unit only right after minutes.
        if not match["m"]:
            raise DurationError("no_unit", value=work)
    h = _value(match["h"]) + (0.5 if match["hhalf"] or match["hhalf2"] else 0.0)
    m = _value(match["m"]) + (0.5 if match["mhalf"] else 0.0) + 15 * _value(match["quarter"])
    s = _value(match["s"])
    if match["m"] and match["s"] and s >= 60:
        raise DurationError("bad_seconds", value=work)
    return _checked(round(h * 3600 + m * 60 + s))


def _checked(total: int) -> int:
    if total <= 0:
        raise DurationError("zero")
    if total > MAX_SECONDS:
        raise DurationError("too_long", max_hours=MAX_SECONDS // 3600)
    return total


def format_duration(seconds: int) -> str:
    """Return ``3:20`` or ``1:02:03`` for a number of seconds (a clock form, any locale)."""
    hours, rest = divmod(max(seconds, 0), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
