"""Add or update translations in one area catalogue: po_add.py AREA LOCALE FILE.json.

FILE.json maps msgid → translation. Creates the .po (and an empty en one) if missing.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]


def update(area: str, locale: str, entries: dict[str, str]) -> Path:
    """Merge ``entries`` into bot/locales/<locale>/LC_MESSAGES/<area>.po."""
    path = ROOT / "bot" / "locales" / locale / "LC_MESSAGES" / f"{area}.po"
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        with path.open("rb") as fh:
            catalog = read_po(fh, locale=locale, domain=area)
    else:
        catalog = Catalog(locale=locale, domain=area, project="kepubot", charset="utf-8")
    for msgid, text in entries.items():
        catalog.add(msgid, text)
    with path.open("wb") as fh:
        write_po(fh, catalog, width=99)
    en = ROOT / "bot" / "locales" / "en" / "LC_MESSAGES" / f"{area}.po"
    if not en.exists():
        with en.open("wb") as fh:
            write_po(fh, Catalog(locale="en", domain=area, project="kepubot", charset="utf-8"))
    return path


if __name__ == "__main__":
    area, locale, file = sys.argv[1:4]
    print(update(area, locale, json.loads(Path(file).read_text(encoding="utf-8"))))
