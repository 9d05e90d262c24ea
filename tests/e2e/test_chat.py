"""`kepubot chat`: driven through its input stream and as a process on a pipe."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bot.sandbox.chat import button_number, run_chat

ROOT = Path(__file__).resolve().parents[2]
Line = str | Callable[[str], str]


async def feed(lines: list[Line], out: io.StringIO | None = None) -> AsyncIterator[str]:
    """Yield typed lines; a callable line is computed from what the chat printed so far."""
    for line in lines:
        yield line(out.getvalue() if out is not None else "") if callable(line) else line


def join_line(printed: str) -> str:
    """Return the /start line the seeded world's hint tells an informant to type."""
    match = re.search(r"/start \S+", printed)
    assert match, printed
    return match[0]


async def chat(tmp_path: Path, role: str, lines: list[Line], *, ansi: bool = False) -> str:
    out = io.StringIO()
    code = await run_chat(
        role=role, out=out, work_dir=tmp_path, lang="zh_CN", lines=feed(lines, out), ansi=ansi
    )
    assert code == 0
    return out.getvalue()


def test_only_hash_and_digits_press_a_button() -> None:
    assert button_number("#2") == 2
    assert button_number("#12") == 12
    assert button_number("2") is None  # a region code or a head count is text
    assert button_number("330106") is None
    assert button_number("#活动 11月28日 讲座 30人") is None
    assert button_number("#２") is None  # full-width digits are text too
    assert button_number("#") is None


async def test_digits_are_text_and_hash_n_presses(tmp_path: Path) -> None:
    text = await chat(
        tmp_path, "informant", ["/language", "2", "#7", "#2", ":location x y", ":quit", "/help"]
    )
    assert "#1 [简体中文]" in text and "#2 [English]" in text
    before_press = text.split("没有第 7 个按钮")[0]
    # "2" went to the bot as a message (answered in Chinese), it did not switch the language.
    assert "Done! I will talk to you in English" not in before_press
    assert before_press.count("🤖") == 2  # the language prompt, then an answer to "2"
    assert "(已修改)" in text and "Done! I will talk to you in English" in text
    assert "用法：:location" in text
    assert "我能为您做这些" not in text  # nothing after :quit is sent


async def test_informant_joins_with_the_seeded_invite_and_sees_the_alert(
    tmp_path: Path,
) -> None:
    text = await chat(
        tmp_path,
        "informant",
        [join_line, "#1", "王小明", ":contact", "#10", ":quit"],
    )
    assert "加入“西湖区文化馆科普e站”" in text
    assert "💬 弹出提示：" in text  # the consent button's answer
    alert = re.search(r"(⚠ 提示框|💬 弹出提示)：(.+)", text.split("第 3 步")[-1])
    assert alert and alert[2].strip(), text  # 完成 with no topic chosen answers something


async def test_each_role_starts_in_a_seeded_world(tmp_path: Path) -> None:
    coordinator = await chat(tmp_path / "c", "coordinator", ["/pending", ":quit"])
    assert "待您审核：文三路小学科普e站" in coordinator
    assert coordinator.count("文三路小学科普e站") >= 2  # the hint and /pending's list
    admin = await chat(tmp_path / "s", "station-admin", ["/invite", ":quit"])
    assert "https://t.me/kepubot_chat_bot?start=" in admin  # only /invite prints a link
    assert list((tmp_path / "s").glob("invite-poster*.png"))  # the poster is saved
    curator = await chat(tmp_path / "k", "curator", ["/catalog", ":quit"])
    assert re.search(r"内容目录共 \d+ 条", curator)
    assert "#1 [" in curator.split("/catalog 或 /newcontent")[-1]


async def test_html_is_styled_on_a_tty_and_plain_otherwise(tmp_path: Path) -> None:
    lines: list[Line] = ["/informants", ":quit"]
    plain = await chat(tmp_path / "p", "station-admin", lines)
    styled = await chat(tmp_path / "a", "station-admin", lines, ansi=True)
    assert not re.search(r"</?(b|i|u|s|code|a|blockquote)\b", plain), plain
    assert "\x1b[" not in plain
    assert "\x1b[1m" in styled or "\x1b[3m" in styled, styled


async def test_long_and_odd_input_never_ends_the_session(tmp_path: Path) -> None:
    text = await chat(
        tmp_path,
        "informant",
        [
            "粘贴\udcff" + "长" * 5000,  # a lone surrogate (a paste cut mid-character), >4 KB
            "控制\x00字符\x07\x1b[31m",
            "😀" * 2100,  # 4,200 UTF-16 units: two messages
            "#",
            "/help",
            ":quit",
        ],
    )
    assert "Traceback" not in text
    assert "我能为您做这些" in text or "/help" in text.split("😀")[-1]
    assert "/language" in text.split("/help")[-1]  # /help still answered after the pastes


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
    assert "Chatting with kepubot as station admin" in proc.stdout
    assert "What I can do for you:" in proc.stdout
