"""The sandbox checks web_app and menu buttons as Telegram does (bot/sandbox/miniapp.py)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from bot.sandbox import Sandbox
from bot.sandbox.miniapp import web_app_url_problem


async def _call(sb: Sandbox, method: str, **params: Any) -> dict[str, Any]:
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{sb.base_url}{sb.token}/{method}", json=params)
    answer: dict[str, Any] = response.json()
    return answer


def _web_app(url: str) -> dict[str, Any]:
    return {"inline_keyboard": [[{"text": "科普工作台", "web_app": {"url": url}}]]}


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://desk.example.org/desk/", None),
        ("http://127.0.0.1:8080/desk/?p=/desk/p/home", None),  # sandbox only: loopback http
        ("http://localhost:8080/desk/", None),
        ("http://desk.example.org/desk/", "Only HTTPS links are allowed"),
        ("http://192.168.1.5/desk/", "Only HTTPS links are allowed"),
        ("ftp://desk.example.org/", "Wrong URL"),
        ("", "URL must be non-empty"),
    ],
)
def test_web_app_urls(url: str, problem: str | None) -> None:
    assert web_app_url_problem(url) == problem


async def test_web_app_button_private_only_and_https(sandbox: Sandbox) -> None:
    alice = sandbox.user("Alice", started=True)
    group = sandbox.group("科普群", members=[alice])
    group.chat.bot_status = "member"
    ok = await _call(
        sandbox,
        "sendMessage",
        chat_id=alice.id,
        text="周报",
        reply_markup=_web_app("https://d.example/desk/"),
    )
    assert ok["ok"], ok
    [[button]] = (await alice.wait_for_message()).buttons
    assert button.web_app == "https://d.example/desk/"
    in_group = await _call(
        sandbox,
        "sendMessage",
        chat_id=group.id,
        text="周报",
        reply_markup=_web_app("https://d.example/"),
    )
    assert in_group == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: BUTTON_TYPE_INVALID",
    }
    plain_http = await _call(
        sandbox,
        "sendMessage",
        chat_id=alice.id,
        text="周报",
        reply_markup=_web_app("http://kepu.test/desk/"),
    )
    assert plain_http["description"] == (
        "Bad Request: inline keyboard button Web App URL 'http://kepu.test/desk/' is invalid: "
        "Only HTTPS links are allowed"
    )
    assert len(alice.messages) == 1 and not group.messages  # nothing refused was stored


async def test_menu_button_set_and_get(sandbox: Sandbox) -> None:
    alice = sandbox.user("Alice", started=True)
    bob = sandbox.user("Bob", started=True)
    assert alice.menu_button == {"type": "commands"}  # Telegram's default: the command list
    desk = {"type": "web_app", "text": "科普工作台", "web_app": {"url": "https://d.example/desk/"}}
    assert (await _call(sandbox, "setChatMenuButton", chat_id=alice.id, menu_button=desk))["ok"]
    assert alice.menu_button == desk and bob.menu_button == {"type": "commands"}
    got = await _call(sandbox, "getChatMenuButton", chat_id=alice.id)
    assert got == {"ok": True, "result": desk}
    # MenuButtonDefault: the chat shows the bot's default again (getChatMenuButton says so).
    reset = {"type": "default"}
    assert (await _call(sandbox, "setChatMenuButton", chat_id=alice.id, menu_button=reset))["ok"]
    assert (await _call(sandbox, "getChatMenuButton", chat_id=alice.id))["result"] == reset
    assert alice.menu_button == {"type": "commands"}
    # The bot's default button (no chat_id) applies to every chat without its own.
    assert (await _call(sandbox, "setChatMenuButton", menu_button=desk))["ok"]
    assert bob.menu_button == desk and alice.menu_button == desk
    assert (await _call(sandbox, "getChatMenuButton"))["result"] == desk


@pytest.mark.parametrize(
    ("button", "description"),
    [
        (42, "Bad Request: can't parse menu button: MenuButton must be an Object"),
        ({"type": "nope"}, "Bad Request: can't parse menu button: unsupported menu button type"),
        (
            {"type": "web_app", "text": "", "web_app": {"url": "https://d.example/"}},
            "Bad Request: can't parse menu button: text must be non-empty",
        ),
        (
            {"type": "web_app", "text": "工作台", "web_app": {"url": "http://kepu.test/desk/"}},
            "Bad Request: menu button Web App URL 'http://kepu.test/desk/' is invalid: "
            "Only HTTPS links are allowed",
        ),
    ],
)
async def test_menu_button_refusals(sandbox: Sandbox, button: Any, description: str) -> None:
    alice = sandbox.user("Alice", started=True)
    answer = await _call(sandbox, "setChatMenuButton", chat_id=alice.id, menu_button=button)
    assert answer == {"ok": False, "error_code": 400, "description": description}
    assert alice.menu_button == {"type": "commands"}


async def test_menu_button_of_a_group_or_unknown_chat(sandbox: Sandbox) -> None:
    group = sandbox.group("科普群")
    for chat_id in (group.id, 424242):
        answer = await _call(
            sandbox, "setChatMenuButton", chat_id=chat_id, menu_button={"type": "commands"}
        )
        assert answer["description"] == "Bad Request: chat not found"
