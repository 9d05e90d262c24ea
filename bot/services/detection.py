"""The matching rules of automatic findings (疑点), as pure functions (docs/integrity.md).

Plain values in, plain values out; no database. ``bot.services.findings_auto`` applies them
when an activity, a content use or a photo hash is saved, and in the daily sweep.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import imagehash
from PIL import Image, UnidentifiedImageError

K = TypeVar("K", bound=Hashable)

WARNING_REACH = 6  # characters before a sales word searched for a warning (防范, 警惕…)
# Everything that is not a letter, digit or CJK ideograph is dropped from a title.
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)


# --- photos ------------------------------------------------------------------------------
def photo_hash(data: bytes) -> str | None:
    """Return the 64-bit perceptual hash (pHash) of an image as 16 hex digits, or None."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            return str(imagehash.phash(image))
    except (UnidentifiedImageError, OSError, ValueError):
        return None


def hamming(a: str, b: str) -> int:
    """Return how many bits two hex hashes of the same length differ in."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


def near_matches(
    phash: str, candidates: Iterable[tuple[K, str]], distance: int
) -> list[tuple[K, int]]:
    """Return the candidates whose hash is within ``distance`` bits, nearest first."""
    value = int(phash, 16)
    found = [
        (key, (value ^ int(other, 16)).bit_count())
        for key, other in candidates
        if other and len(other) == len(phash)
    ]
    return sorted(((k, d) for k, d in found if d <= distance), key=lambda kd: kd[1])


# --- duplicates ---------------------------------------------------------------------------
def normalise_title(title: str) -> str:
    """Fold a title for comparison: full/half width, case, spaces and punctuation ignored."""
    folded = unicodedata.normalize("NFKC", title).casefold()
    return _NOT_WORD.sub("", folded)


@dataclass(frozen=True)
class ActivityKey:
    """What makes two activities the same report: station, date, type, folded title."""

    station_id: int
    held_on: dt.date
    type: str
    title: str

    @classmethod
    def of(cls, station_id: int, held_on: dt.date, type_: str, title: str) -> ActivityKey:
        """Build the key of one activity."""
        return cls(station_id, held_on, type_, normalise_title(title))


@dataclass(frozen=True)
class UseKey:
    """What makes two content uses the same report: station, item, day, kind, place, audience."""

    station_id: int
    content_id: int
    used_on: dt.date
    use_kind: str
    place: str
    audience: int

    @classmethod
    def of(
        cls,
        station_id: int,
        content_id: int,
        used_on: dt.date,
        use_kind: str,
        place: str | None,
        audience: int,
    ) -> UseKey:
        """Build the key of one content use."""
        return cls(
            station_id, content_id, used_on, use_kind, normalise_title(place or ""), audience
        )


def duplicates(rows: Iterable[tuple[int, Hashable]]) -> dict[int, int]:
    """Map each row id whose key an earlier (lower) id already has to that first id."""
    first: dict[Hashable, int] = {}
    found: dict[int, int] = {}
    for row_id, key in sorted(rows, key=lambda r: r[0]):
        if key in first:
            found[row_id] = first[key]
        else:
            first[key] = row_id
    return found


# --- commercial activities ----------------------------------------------------------------
def commercial_words(
    texts: Sequence[str | None],
    words: Sequence[str],
    claims: Sequence[str],
    exempt_before: Sequence[str] = (),
) -> tuple[str, ...]:
    """Return the sales words and health claims found in ``texts`` (warnings excepted).

    A word shortly after an exempting word (防范保健品诈骗, 谨防降血压神药: one within the
    ``WARNING_REACH`` characters before it) warns against it and does not count.
    """
    found: list[str] = []
    for raw in texts:
        if not raw:
            continue
        text = unicodedata.normalize("NFKC", raw)
        for word in (*words, *claims):
            if word in found:
                continue
            for match in re.finditer(re.escape(word), text):
                before = text[max(0, match.start() - WARNING_REACH) : match.start()]
                if not any(e in before for e in exempt_before):
                    found.append(word)
                    break
    return tuple(found)


# --- application bursts -----------------------------------------------------------------------
def bursts(
    submissions: Sequence[tuple[int, dt.datetime]], window: dt.timedelta, threshold: int
) -> list[tuple[dt.datetime, list[int]]]:
    """Return the windows in which more than ``threshold`` submissions fall (not overlapping).

    ``submissions`` are (station id, submitted at); each burst is (its first submission,
    the station ids in it).
    """
    ordered = sorted(submissions, key=lambda s: s[1])
    found: list[tuple[dt.datetime, list[int]]] = []
    start = 0
    while start < len(ordered):
        end = start
        while end + 1 < len(ordered) and ordered[end + 1][1] - ordered[start][1] <= window:
            end += 1
        if end - start + 1 > threshold:
            found.append((ordered[start][1], [sid for sid, _ in ordered[start : end + 1]]))
            start = end + 1
        else:
            start += 1
    return found
