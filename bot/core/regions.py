"""Region codes (GB/T 2260): the level a code denotes and which codes lie inside it.

A province covers codes with its first two digits, a city those with its first four
(including 省直辖县 such as 429004 under 429000), a county only itself.
"""

from __future__ import annotations

LEVEL_PREFIX = {"province": 2, "city": 4, "county": 6}


def level_of(code: str) -> str:
    """Return the level a 6-digit code denotes (xx0000 province, xxxx00 city, else county)."""
    if code.endswith("0000"):
        return "province"
    if code.endswith("00"):
        return "city"
    return "county"


def region_prefix(code: str, level: str | None = None) -> str:
    """Return the code prefix every region inside ``code`` starts with."""
    return code[: LEVEL_PREFIX[level or level_of(code)]]


def region_contains(outer: str, inner: str, outer_level: str | None = None) -> bool:
    """Tell whether region ``inner`` lies inside (or is) region ``outer``."""
    return inner.startswith(region_prefix(outer, outer_level))
