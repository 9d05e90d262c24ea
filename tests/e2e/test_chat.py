"""`kepubot chat`: driven through its input stream and as a process on a pipe."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.sandbox.chat import run_chat

ROOT = Path(__file__).resolve().parents[2]


async def feed(lines: list[str]) -> AsyncIterator[str]:
    for line in lines:
        yield line


async def test_chat_sends_presses_and_shows_edits(tmp_path: Path) -> None:
    out = io.StringIO()
    code = await run_chat(
        role="informant",
        out=out,
        work_dir=tmp_path,
        lang="zh_CN",
        lines=feed(["/start", "/language", "2", "7", ":location x y", ":quit", "/help"]),
    )
    text = out.getvalue()
    assert code == 0
    assert "欢迎来到科普中国" in text
    assert "1. [简体中文]" in text and "2. [English]" in text
    assert "(已修改)" in text and "Done! I will talk to you in English" in text
    assert "没有第 7 个按钮" in text
    assert "用法：:location" in text
    assert text.count("我能为您做这些") == 0  # nothing after :quit is sent


@pytest.mark.slow
def test_chat_process_on_a_pipe(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "--lang",
            "en",
            "chat",
            "--as",
            "station-admin",
            "--dir",
            str(tmp_path),
        ],
        input="/help\n:quit\n",
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Chatting with kepubot as station-admin" in proc.stdout
    assert "What I can do for you:" in proc.stdout
