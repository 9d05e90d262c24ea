"""`kepubot station invite ID`: create, list, revoke."""

from __future__ import annotations

import asyncio

import pytest

from bot.__main__ import main
from bot.sandbox.factories import make_region_tree, make_station
from storage.db import create_nullpool_engine, session_factory


async def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = await asyncio.to_thread(main, ["--lang", "en", *argv])
    out, err = capsys.readouterr()
    return code, out, err


async def test_station_invite_cli(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KEPUBOT_DATABASE__URL", sqlite_url)
    engine = create_nullpool_engine(sqlite_url)
    async with session_factory(engine)() as s, s.begin():
        await make_region_tree(s)
        station = await make_station(s)
        draft = await make_station(s, name="草稿站", status="draft")
    await engine.dispose()

    code, _, err = await _run(capsys, "station", "invite", str(station.id))
    assert code == 2 and "bot_username" in err
    monkeypatch.setenv("KEPUBOT_TELEGRAM__BOT_USERNAME", "kepu_bot")

    code, out, _ = await _run(
        capsys, "station", "invite", str(station.id), "--expires-days", "30", "--max-uses", "50"
    )
    assert code == 0
    link = out.strip()
    assert link.startswith("https://t.me/kepu_bot?start=j_")
    code, out, _ = await _run(capsys, "station", "invite", str(station.id), "--list")
    assert code == 0 and link in out and "active" in out and "0/50" in out
    code, out, _ = await _run(capsys, "station", "invite", str(station.id), "--revoke", link)
    assert code == 0 and "Revoked" in out
    code, out, _ = await _run(capsys, "station", "invite", str(station.id), "--list")
    assert "revoked" in out
    code, _, err = await _run(capsys, "station", "invite", str(station.id), "--revoke", link)
    assert code == 2 and "already revoked" in err
    code, _, err = await _run(capsys, "station", "invite", str(draft.id))
    assert code == 2 and "only recognised stations" in err
    code, _, err = await _run(capsys, "station", "invite", "999")
    assert code == 2 and "Unknown station 999" in err
