"""Message catalogues (gettext through Babel), zh_CN first, en second.

Message ids are English source text with ``{name}`` placeholders.  Catalogues live in
``bot/locales/<locale>/LC_MESSAGES/<area>.po``, one file per area of the product, and are
merged per locale at load time.  ``make`` compiles them to ``.mo``; a missing or stale
``.mo`` is compiled in memory from its ``.po``, so there is never a manual step.
"""

from __future__ import annotations

import datetime as dt
import gettext
import io
from collections.abc import Iterable
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from babel import Locale, dates, numbers
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALES_DIR = Path(__file__).parent / "locales"
SUPPORTED_LOCALES: tuple[str, ...] = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"


def N_(message: str) -> str:
    """Mark a message for extraction without translating it yet."""
    return message


def normalize_locale(language_code: str | None, default: str = DEFAULT_LOCALE) -> str:
    """Map a Telegram ``language_code`` (``zh-hans``, ``en-US``…) to a supported locale."""
    if not language_code:
        return default
    code = language_code.replace("-", "_").lower()
    if code.startswith("zh"):
        return "zh_CN"
    if code.startswith("en"):
        return "en"
    return default


def _catalog_files(locale: str) -> Iterable[Path]:
    folder = LOCALES_DIR / locale / "LC_MESSAGES"
    return sorted(folder.glob("*.po")) if folder.is_dir() else []


def _load_one(po_path: Path) -> Translations:
    mo_path = po_path.with_suffix(".mo")
    if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
        with mo_path.open("rb") as fh:
            return Translations(fp=fh, domain=po_path.stem)

    with po_path.open("rb") as fh:
        catalog = read_po(fh, locale=po_path.parent.parent.name)
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return Translations(fp=buf, domain=po_path.stem)


@lru_cache(maxsize=8)
def load_translations(locale: str) -> gettext.NullTranslations:
    """Load and merge every area catalogue of one locale."""
    merged: Translations | None = None
    for po_path in _catalog_files(locale):
        one = _load_one(po_path)
        if merged is None:
            merged = one
        else:
            merged.merge(one)
    return merged if merged is not None else gettext.NullTranslations()


def compile_catalogs() -> list[Path]:
    """Compile every ``.po`` to ``.mo`` next to it (run by ``make`` at install time)."""
    written: list[Path] = []
    for locale in SUPPORTED_LOCALES:
        for po_path in _catalog_files(locale):
            with po_path.open("rb") as fh:
                catalog = read_po(fh, locale=locale)
            mo_path = po_path.with_suffix(".mo")
            with mo_path.open("wb") as out:
                write_mo(out, catalog, use_fuzzy=False)
            written.append(mo_path)
    load_translations.cache_clear()
    return written


def catalog_messages(locale: str) -> dict[str, str]:
    """Return msgid → translation for one locale (used by tests and tooling)."""
    result: dict[str, str] = {}
    for po_path in _catalog_files(locale):
        with po_path.open("rb") as fh:
            catalog = read_po(fh, locale=locale)
        for message in catalog:
            if message.id and isinstance(message.id, str):
                result[message.id] = message.string if isinstance(message.string, str) else ""
    return result


class Translator:
    """Translate and format for one locale."""

    def __init__(self, locale: str) -> None:
        self.locale = locale if locale in SUPPORTED_LOCALES else DEFAULT_LOCALE
        self._babel_locale = Locale.parse(self.locale)
        self._tr = load_translations(self.locale)

    def __call__(self, message: str, /, **kwargs: object) -> str:
        """Translate ``message`` and fill its ``{placeholders}``."""
        text = self._tr.gettext(message)
        return text.format(**kwargs) if kwargs else text

    t = __call__

    def catalogue(self) -> gettext.NullTranslations:
        """Return the merged gettext catalogue (for libraries that call gettext themselves)."""
        return self._tr

    def plural(self, singular: str, plural: str, n: int, /, **kwargs: object) -> str:
        """Translate with a plural form chosen by ``n`` (``{n}`` is always available)."""
        text = self._tr.ngettext(singular, plural, n)
        return text.format(n=self.number(n), **kwargs)

    def sentences(self, *parts: str) -> str:
        """Join whole sentences: back to back after Chinese 。, with a space in English."""
        return ("" if self.locale == "zh_CN" else " ").join(p for p in parts if p)

    def number(self, value: int | float | Decimal) -> str:
        """Format a number the locale's way."""
        return numbers.format_decimal(value, locale=self._babel_locale)

    def percent(self, value: float) -> str:
        """Format a ratio as a percentage."""
        return numbers.format_percent(value, locale=self._babel_locale)

    def date(self, value: dt.date, fmt: str = "medium") -> str:
        """Format a date the locale's way."""
        return dates.format_date(value, format=fmt, locale=self._babel_locale)

    def span(self, start: dt.date, end: dt.date, *, year: bool = True) -> str:
        """Format the window of a figure, both ends included: 2026年11月23日—11月29日.

        Within one year the second date drops its year; ``year=False`` drops it from both
        (when the year is said next to it: 2026年全年（1月1日—12月31日）).  English uses
        Babel's interval format (Nov 1 – 30, 2026).  docs/figures.md.
        """
        if self.locale != "zh_CN":
            skeleton = "yMMMd" if year or end.year != start.year else "MMMd"
            return dates.format_interval(start, end, skeleton, locale=self._babel_locale)
        first = f"{start.month}月{start.day}日"
        if year:
            first = f"{start.year}年{first}"
        if start == end:
            return first
        last = f"{end.month}月{end.day}日"
        if end.year != start.year:
            last = f"{end.year}年{last}"
        return f"{first}—{last}"

    def datetime(
        self, value: dt.datetime, fmt: str = "medium", tz: str | dt.tzinfo | None = None
    ) -> str:
        """Format a timezone-aware datetime in ``tz`` (default: keep its own zone)."""
        return dates.format_datetime(
            value,
            format=fmt,
            tzinfo=dates.get_timezone(tz) if tz else value.tzinfo,
            locale=self._babel_locale,
        )


@lru_cache(maxsize=8)
def get_translator(locale: str | None = None) -> Translator:
    """Return the shared translator for ``locale`` (default zh_CN)."""
    return Translator(locale or DEFAULT_LOCALE)


__all__ = [
    "DEFAULT_LOCALE",
    "SUPPORTED_LOCALES",
    "N_",
    "Translator",
    "catalog_messages",
    "compile_catalogs",
    "get_translator",
    "normalize_locale",
    "read_mo",
]
