"""Find every translatable message in the code (Babel's extractor with our keywords)."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir

KEYWORDS = {"t": None, "N_": None, "plural": (1, 2), "_": None}
PACKAGE_DIRS = ("bot", "storage")
ROOT = Path(__file__).resolve().parents[1]


def extract_messages() -> dict[str | tuple[str, str], list[str]]:
    """Return msgid (or singular/plural pair) → places it is used."""
    found: dict[str | tuple[str, str], list[str]] = {}
    for package in PACKAGE_DIRS:
        for filename, lineno, message, _comments, _context in extract_from_dir(
            ROOT / package,
            method_map=[("**.py", "python")],
            keywords=KEYWORDS,
        ):
            if not message:
                continue
            key = message if isinstance(message, str) else (message[0], message[1])
            if isinstance(key, tuple) and not key[0]:
                continue
            found.setdefault(key, []).append(f"{package}/{filename}:{lineno}")
    return found
