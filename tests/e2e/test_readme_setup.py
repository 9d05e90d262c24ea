"""The README's "Running against real Telegram" steps work in the order written, on a
fresh SQLite database (every `kepubot …` command of the section is run, except those with
an elided argument "…" and `kepubot run` itself)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from bot.__main__ import main

ROOT = Path(__file__).resolve().parents[2]
SECTION = "## Running against real Telegram"
# What the section must contain, in this order (a test that cannot silently shrink).
EXPECTED = [
    ["db", "upgrade"],
    ["regions", "import", "bot/data/regions_sample.csv"],
    ["admin", "grant", "--telegram-id", "123456789", "--role", "admin"],
    [
        "admin",
        "grant",
        "--telegram-id",
        "234567890",
        "--role",
        "coordinator",
        "--region",
        "330106",
    ],
    [
        "station",
        "add",
        "--name",
        "西湖区文化馆科普e站",
        "--region",
        "330106",
        "--venue-type",
        "cultural_centre",
    ],
    ["admin", "grant", "--telegram-id", "345678901", "--role", "station-admin", "--station", "1"],
    ["admin", "list"],
]


def readme_steps() -> list[list[str]]:
    """Return the runnable `kepubot …` commands of the README section, in order."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0].split("\n### ", 1)[0]
    section = re.sub(r"\s*\n\s*", " ", section)  # commands may wrap across lines
    commands = []
    for match in re.finditer(r"`(?:KEPUBOT_\S+ )*kepubot ([^`]+)`", section):
        argv = shlex.split(match[1])
        if "…" in match[1] or argv[0] == "run":
            continue
        commands.append(argv)
    return commands


def test_the_readme_lists_the_setup_steps() -> None:
    assert readme_steps() == EXPECTED
    text = (ROOT / "README.md").read_text(encoding="utf-8").split(SECTION, 1)[1]
    assert "web.public_base_url" in text.split("**Run**")[0]  # said before the bot is run


def test_the_readme_steps_work_in_order_on_a_fresh_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("KEPUBOT_DATABASE__URL", f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}")
    monkeypatch.delenv("KEPUBOT_CONFIG", raising=False)
    for argv in readme_steps():
        code = main(argv)
        captured = capsys.readouterr()
        assert code == 0, (argv, captured.out, captured.err)
        if argv[:2] == ["station", "add"]:
            assert "#1 " in captured.out  # the id the next step grants on
    listing = captured.out
    assert "234567890\t县级科协\t西湖区（330106）" in listing
    assert "345678901\t站点管理员\t西湖区文化馆科普e站" in listing
