"""Browser tests of the desk: a real headless Chromium against the real bot's web server.

One Chromium per test session (``browser``), driven through Playwright's sync API in one
worker thread of its own, so each test's event loop keeps serving the bot (and its web
server) while the browser talks to it. Every request outside 127.0.0.1 is refused by the
browser (Telegram's telegram-web-app.js included, whose absence the desk must survive):
no test touches the network.

No Chromium (or no Playwright): the tests skip, saying how to get one; with
``KEPUBOT_REQUIRE_BROWSER=1`` (CI) they fail instead. ``KEPUBOT_CHROMIUM`` names the
executable; by default Debian's ``/usr/bin/chromium`` or the first ``chromium`` /
``chromium-browser`` / ``google-chrome`` on the PATH. Screenshots are kept in
``var/test-artifacts/desk-*.png``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from bot.sandbox import Sandbox
from bot.sandbox.browser import (
    CHROMIUM_ENV,
    BrowserUnavailable,
    browser_env,
    find_chromium,
    launch_args,
)
from bot.sandbox.harness import RunningBot, running_bot, sandbox_settings
from bot.sandbox.miniapp import loopback_port
from tests.conftest import FixedClock

REQUIRE_ENV = "KEPUBOT_REQUIRE_BROWSER"
# Read at import: tests/conftest.py clears KEPUBOT_* variables around each test.
REQUIRED = bool(os.environ.get(REQUIRE_ENV))
NAMED_CHROMIUM = os.environ.get(CHROMIUM_ENV)
ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artifacts"
T = TypeVar("T")


def _unavailable(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"{REQUIRE_ENV} is set but the browser tests cannot run: {reason}")
    pytest.skip(reason)


class BrowserThread:
    """A Chromium owned by one worker thread; ``run`` calls into it from async tests."""

    def __init__(self, executable: str) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chromium")
        self._pool.submit(self._start, executable).result(timeout=60)

    def _start(self, executable: str) -> None:
        from playwright.sync_api import sync_playwright  # optional test dependency

        self._playwright = sync_playwright().start()
        self.browser = self._playwright.chromium.launch(
            executable_path=executable,
            args=launch_args(),
            env=browser_env(ARTIFACTS.parent / "chromium"),
            timeout=30_000,
        )

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` in the browser's thread while this loop keeps serving."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    def close(self) -> None:
        def stop() -> None:
            self.browser.close()
            self._playwright.stop()

        self._pool.submit(stop).result(timeout=30)
        self._pool.shutdown()


@pytest.fixture(scope="session")
def chromium() -> Iterator[BrowserThread]:
    """One headless Chromium for the whole session."""
    try:
        import playwright  # noqa: F401  (optional: the "test" extra)
    except ImportError:
        _unavailable("Playwright is not installed: pip install -e '.[test]'")
    try:
        executable = find_chromium(NAMED_CHROMIUM)
    except BrowserUnavailable as exc:
        _unavailable(str(exc))
    thread = BrowserThread(executable)
    try:
        yield thread
    finally:
        thread.close()


@dataclass
class Tab:
    """One browser page (its own context: no shared storage); methods run in the thread."""

    chromium: BrowserThread
    page: Any
    context: Any
    errors: list[str]

    async def do(self, fn: Callable[[Any], T]) -> T:
        """Run ``fn(page)`` in the browser's thread."""
        return await self.chromium.run(fn, self.page)

    async def goto(self, url: str) -> None:
        await self.do(lambda p: p.goto(url, wait_until="domcontentloaded"))

    async def click(self, selector: str) -> None:
        await self.do(lambda p: p.click(selector))

    async def fill(self, selector: str, value: str) -> None:
        await self.do(lambda p: p.fill(selector, value))

    async def text(self, selector: str = "#desk-main") -> str:
        return await self.do(lambda p: p.inner_text(selector))

    async def wait_for(self, selector: str) -> None:
        await self.do(lambda p: p.wait_for_selector(selector, state="visible"))

    async def wait_for_text(self, text: str, selector: str = "#desk-main") -> str:
        """Wait until ``selector`` shows ``text``; return what it shows."""
        await self.do(
            lambda p: p.wait_for_function(
                "([sel, text]) => (document.querySelector(sel)?.innerText || '').includes(text)",
                arg=[selector, text],
            )
        )
        return await self.text(selector)

    async def screenshot(self, name: str) -> Path:
        """Keep a full-page screenshot as a test artifact; return its path."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"desk-{name}.png"
        await self.do(lambda p: p.screenshot(path=str(path), full_page=True))
        return path


@pytest.fixture
async def tab(chromium: BrowserThread) -> AsyncIterator[Tab]:
    """A fresh page the size of a phone, offline except for 127.0.0.1."""

    def open_tab() -> tuple[Any, Any, list[str]]:
        context = chromium.browser.new_context(
            viewport={"width": 412, "height": 860}, device_scale_factor=1, locale="zh-CN"
        )
        context.route(
            "**/*",
            lambda route: (
                route.continue_()
                if route.request.url.startswith("http://127.0.0.1:")
                else route.abort()
            ),
        )
        page = context.new_page()
        page.set_default_timeout(10_000)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        return page, context, errors

    page, context, errors = await chromium.run(open_tab)
    yield Tab(chromium, page, context, errors)
    await chromium.run(lambda: context.close())


@pytest.fixture
async def desk_bot(
    sandbox: Sandbox, sqlite_url: str, clock: FixedClock
) -> AsyncIterator[RunningBot]:
    """The real bot against the sandbox, its web server (the desk) at a known address."""
    port = loopback_port()
    settings = sandbox_settings(
        sandbox,
        sqlite_url,
        web={"host": "127.0.0.1", "port": port, "public_base_url": f"http://127.0.0.1:{port}"},
    )
    async with running_bot(sandbox, settings, clock=clock) as running:
        yield running
