"""Every error code raised in bot/ has a message in the one table, in both locales."""

from __future__ import annotations

import importlib
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

import bot.content.importer
import bot.services.digest
import bot.services.evaluation
import bot.services.informants
import bot.services.push
import bot.services.roles
import bot.services.shares
import bot.services.stations
from bot.core.error_text import MESSAGES, UNKNOWN, code_text, error_text
from bot.core.errors import DomainError
from bot.i18n import get_translator
from bot.services.invites import InviteError
from bot.services.stations import StationError

BOT = Path(__file__).resolve().parents[2] / "bot"
ZH, EN = get_translator("zh_CN"), get_translator("en")

# A code passed as a variable: the values it can take, by area.
DYNAMIC = {
    "invite": ("revoked", "expired", "used_up"),  # InviteError(invite_status(...))
    "push": ("retired", "expired"),  # PushError(item_state(...))
    # CoadminInviteError(invite_status(...))
    "coadmin_invite": ("revoked", "expired", "used_up"),
}
# Importing wraps a pack's or a feed's error: ImportFailed(f"pack_{code}"), f"feed_{code}".
WRAPPED = {"pack": "import.pack_", "feed": "import.feed_"}
# Read in the log when categories.toml is broken at start-up; never shown to a user.
NOT_SHOWN = ("taxonomy",)
# Station codes of validators that the stations CSV import turns into line errors.
LINE_FROM_STATION = (
    "bad_name",
    "bad_address",
    "bad_venue",
    "bad_region_code",
    "unknown_region",
    "not_county",
    "region_required",
)
# `_refuse(..., "code")` raises the error of its module's area.
REFUSE_AREA = {"review.py": "station", "evaluation_decisions.py": "evaluation"}

RAISED = re.compile(r"\b(\w+Error|ImportFailed)\(\s*([^,()]*)")
REFUSED = re.compile(r"\b_refuse\([^()]*?\"(\w+)\"\)")
LINE = re.compile(r"\b(?:RowError|LineError)\([^,()]+,\s*[^,()]+,\s*\"(\w+)\"")
PARENT = re.compile(r"return \"(\w+)\", \{")
REJECTED = re.compile(r"\b(?:Rejection\([^,()]+,\s*[^,()]+,\s*|reject\()\"(\w+)\"")


def _areas() -> dict[str, str]:
    for path, text in _sources():  # every area's class, not only those imported so far
        if "(DomainError" in text:
            importlib.import_module(".".join(path.relative_to(BOT.parent).with_suffix("").parts))
    found: dict[str, str] = {}
    todo = list(DomainError.__subclasses__())
    while todo:
        cls = todo.pop()
        found[cls.__name__] = cls.area
        todo.extend(cls.__subclasses__())
    return found


def _sources() -> Iterator[tuple[Path, str]]:
    for path in sorted(BOT.rglob("*.py")):
        yield path, path.read_text(encoding="utf-8")


def raised_keys() -> set[str]:
    """Return ``area.code`` of every constant code a domain error is raised with."""
    areas = _areas()
    keys: set[str] = set()
    for path, text in _sources():
        for name, first in RAISED.findall(text):
            if name in areas:
                keys |= {f"{areas[name]}.{code}" for code in re.findall(r'"(\w+)"', first)}
        if path.name in REFUSE_AREA:
            keys |= {f"{REFUSE_AREA[path.name]}.{code}" for code in REFUSED.findall(text)}
    keys |= {f"{area}.{code}" for area, codes in DYNAMIC.items() for code in codes}
    for area, prefix in WRAPPED.items():
        keys |= {prefix + key.split(".", 1)[1] for key in keys if key.startswith(area + ".")}
    return {key for key in keys if key.split(".", 1)[0] not in (*NOT_SHOWN, *WRAPPED)}


def line_and_rejection_keys() -> set[str]:
    """Return the keys of every CSV line problem and every rejected import item."""
    keys = {f"line.{code}" for code in LINE_FROM_STATION}
    for path, text in _sources():
        keys |= {f"line.{code}" for code in LINE.findall(text)}
        if path.name == "regions_csv.py":
            keys |= {f"line.{code}" for code in PARENT.findall(text)}
        keys |= {f"rejection.{code}" for code in REJECTED.findall(text)}
    return keys


def test_the_scan_finds_codes_of_every_area() -> None:
    areas = {key.split(".", 1)[0] for key in raised_keys() | line_and_rejection_keys()}
    assert areas >= {
        "activity",
        "catalogue",
        "content_use",
        "evaluation",
        "import",
        "informant",
        "invite",
        "line",
        "push",
        "rejection",
        "role",
        "share",
        "station",
        "tally",
    }
    assert {"station.not_allowed", "evaluation.not_allowed", "import.pack_bad_toml"} <= (
        raised_keys()
    )


@pytest.mark.parametrize("key", sorted(raised_keys() | line_and_rejection_keys()))
def test_every_raised_code_has_a_message(key: str) -> None:
    assert key in MESSAGES, f"add a message for {key!r} to bot/core/error_text.py"


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_every_message_is_translated_and_renders_in_both_locales(key: str) -> None:
    msgid = MESSAGES[key]
    assert ZH(msgid) != msgid, f"{key}: {msgid!r} has no zh_CN translation"
    for t in (ZH, EN):
        text = code_text(key, {}, t)
        assert text and "{" not in text


def test_areas_keep_their_own_wording_of_a_shared_code() -> None:
    assert error_text(StationError("not_allowed"), EN) != error_text(
        bot.services.evaluation.EvaluationError("not_allowed"), EN
    )
    expired = InviteError("expired")
    assert "invite link has expired" in error_text(expired, EN)
    push_expired = bot.services.push.PushError("expired", content_id=7)
    assert error_text(push_expired, EN) == "This item has expired; it cannot be pushed."
    assert error_text(push_expired, EN, cli=True) == "Item #7 has expired; it cannot be pushed."


def test_params_fill_the_message_and_overrides_win() -> None:
    error = StationError("not_found", station_id=12)
    assert error_text(error, EN) == "Station #12 was not found."
    assert error_text(error, EN, params={"station_id": "<b>12</b>"}) == (
        "Station #<b>12</b> was not found."
    )
    assert error_text(error, ZH) == ZH(MESSAGES["station.not_found"], station_id=12)
    assert error_text(StationError("not_found"), EN) == "Station #? was not found."


def test_an_unknown_code_reads_generically_and_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.core.error_text"):
        text = error_text(StationError("no_such_code"), ZH)
    assert text == ZH(UNKNOWN, code="station.no_such_code")
    assert "station.no_such_code" in caplog.text


def test_str_names_the_area_code_and_params() -> None:
    assert str(InviteError("used_up")) == "invite.used_up"
    assert str(StationError("not_found", station_id=3)) == "station.not_found (station_id=3)"
    assert isinstance(bot.services.roles.RoleError("unknown_role"), ValueError)
    assert bot.services.digest.DigestError.area == "tally"
