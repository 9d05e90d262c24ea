"""Configurable taxonomy: content categories, content kinds and national campaigns."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from bot.core.errors import DomainError

DEFAULT_TAXONOMY_PATH = Path(__file__).resolve().parent / "categories.toml"
_CODE_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_SECTIONS: tuple[str, ...] = ("categories", "kinds", "campaigns")


class TaxonomyError(DomainError, area="taxonomy"):
    """The taxonomy file is unusable; ``code`` is a machine code."""


@dataclass(frozen=True)
class Term:
    """One category, kind or campaign with its names in both locales."""

    code: str
    zh: str
    en: str
    emoji: str = ""
    aliases: tuple[str, ...] = ()
    months: tuple[int, ...] = ()

    def name(self, locale: str | None) -> str:
        """Return the name in ``locale`` (``en*`` → English, anything else → Chinese)."""
        return self.en if _is_english(locale) else self.zh

    def label(self, locale: str | None) -> str:
        """Return the name prefixed with the emoji, if any."""
        return f"{self.emoji} {self.name(locale)}" if self.emoji else self.name(locale)


@dataclass(frozen=True)
class Taxonomy:
    """Categories, kinds and campaigns, each in configured order."""

    categories: tuple[Term, ...]
    kinds: tuple[Term, ...]
    campaigns: tuple[Term, ...]
    _labels: Mapping[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        labels: dict[str, str] = {}
        for term in self.categories:
            for label in (term.code, term.zh, term.en, *term.aliases):
                # The first category to claim a label keeps it: configured order decides.
                labels.setdefault(_fold(label), term.code)
        object.__setattr__(self, "_labels", labels)

    @property
    def codes(self) -> tuple[str, ...]:
        """Return the category codes in configured order."""
        return tuple(term.code for term in self.categories)

    @property
    def kind_codes(self) -> tuple[str, ...]:
        """Return the kind codes in configured order."""
        return tuple(term.code for term in self.kinds)

    @property
    def campaign_codes(self) -> tuple[str, ...]:
        """Return the campaign codes in configured order."""
        return tuple(term.code for term in self.campaigns)

    def get(self, code: str) -> Term | None:
        """Return the category with ``code``, or None."""
        return _find(self.categories, code)

    def get_kind(self, code: str) -> Term | None:
        """Return the kind with ``code``, or None."""
        return _find(self.kinds, code)

    def get_campaign(self, code: str) -> Term | None:
        """Return the campaign with ``code``, or None."""
        return _find(self.campaigns, code)

    def name(self, code: str, locale: str | None) -> str:
        """Return a category's name in ``locale``; an unknown code is returned as is."""
        term = self.get(code)
        return term.name(locale) if term else code

    def kind_name(self, code: str, locale: str | None) -> str:
        """Return a kind's name in ``locale``; an unknown code is returned as is."""
        term = self.get_kind(code)
        return term.name(locale) if term else code

    def campaign_name(self, code: str, locale: str | None) -> str:
        """Return a campaign's name in ``locale``; an unknown code is returned as is."""
        term = self.get_campaign(code)
        return term.name(locale) if term else code

    def with_campaigns(self, extra: tuple[Term, ...]) -> Taxonomy:
        """Return this taxonomy with dated campaigns added (config and /campaigns ones).

        A campaign whose code is already a term keeps the term (its emoji, aliases) but
        takes the dated campaign's names; new codes follow in the order given.
        """
        given = {term.code: term for term in extra}
        merged = [
            Term(t.code, given[t.code].zh, given[t.code].en or t.en, t.emoji, t.aliases, t.months)
            if t.code in given
            else t
            for t in self.campaigns
        ]
        known = {t.code for t in self.campaigns}
        merged += [term for term in extra if term.code not in known]
        return Taxonomy(categories=self.categories, kinds=self.kinds, campaigns=tuple(merged))

    def match_category(self, label: str) -> str | None:
        """Return the category whose code, zh/en name or alias equals ``label`` (any case)."""
        return self._labels.get(_fold(label))


def load_taxonomy(path: Path | None = None) -> Taxonomy:
    """Load and validate a taxonomy TOML file (the bundled one by default)."""
    source = path or DEFAULT_TAXONOMY_PATH
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise TaxonomyError("not_found", path=str(source)) from exc
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise TaxonomyError("bad_toml", path=str(source), detail=str(exc)) from exc
    return taxonomy_from_mapping(data)


@cache
def default_taxonomy() -> Taxonomy:
    """Return the bundled taxonomy, loaded once."""
    return load_taxonomy()


def taxonomy_from_mapping(data: Mapping[str, Any]) -> Taxonomy:
    """Build a taxonomy from already-parsed data, validating every entry."""
    sections = {name: _parse_section(data, name) for name in _SECTIONS}
    return Taxonomy(
        categories=sections["categories"],
        kinds=sections["kinds"],
        campaigns=sections["campaigns"],
    )


def _parse_section(data: Mapping[str, Any], section: str) -> tuple[Term, ...]:
    """Parse one ``[[section]]`` array into terms."""
    entries = data.get(section)
    if not isinstance(entries, list) or not entries:
        raise TaxonomyError("missing_section", section=section)
    terms: list[Term] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise TaxonomyError("bad_entry", section=section, index=index)
        code = entry.get("code")
        if not isinstance(code, str) or not _CODE_RE.match(code):
            raise TaxonomyError("bad_code", section=section, index=index, value=str(code))
        if code in seen:
            raise TaxonomyError("duplicate_code", section=section, value=code)
        seen.add(code)
        for key in ("zh", "en"):
            if not isinstance(entry.get(key), str) or not entry[key].strip():
                raise TaxonomyError("missing_name", section=section, value=code, field=key)
        aliases = entry.get("aliases", [])
        months = entry.get("months", [])
        if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
            raise TaxonomyError("bad_aliases", section=section, value=code)
        if not isinstance(months, list) or not all(
            isinstance(m, int) and 1 <= m <= 12 for m in months
        ):
            raise TaxonomyError("bad_months", section=section, value=code)
        terms.append(
            Term(
                code=code,
                zh=entry["zh"].strip(),
                en=entry["en"].strip(),
                emoji=str(entry.get("emoji", "")),
                aliases=tuple(aliases),
                months=tuple(months),
            )
        )
    return tuple(terms)


def _find(terms: tuple[Term, ...], code: str) -> Term | None:
    """Return the term with ``code`` from ``terms``, or None."""
    return next((term for term in terms if term.code == code), None)


def _fold(label: str) -> str:
    """Normalise a label for matching: trimmed, case-folded, ``-``/space → ``_``."""
    return re.sub(r"[\s\-]+", "_", label.strip()).casefold()


def _is_english(locale: str | None) -> bool:
    """Return whether ``locale`` asks for English."""
    return bool(locale) and str(locale).lower().startswith("en")
