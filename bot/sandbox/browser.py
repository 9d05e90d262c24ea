"""Finding and launching the headless Chromium that browser tests and the demo use.

Chromium comes from the system (Debian: ``apt-get install chromium``), never from
``playwright install``; Playwright (the ``test`` extra) drives it. ``KEPUBOT_CHROMIUM``
names another executable.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from xml.sax.saxutils import escape

from bot.reports.fonts import CJKFontNotFoundError, cjk_font_path

CHROMIUM_ENV = "KEPUBOT_CHROMIUM"
CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")
# Headless, no GPU, and nothing that phones home (updates, sync, background fetches).
LAUNCH_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
# fontconfig's cache of the CJK collection (slow to build): kept between runs.
FONT_CACHE = Path(tempfile.gettempdir()) / "kepubot-fontconfig-cache"
HOW_TO_GET = (
    "install Chromium (Debian/Ubuntu: sudo apt-get install -y chromium) and Playwright "
    "(pip install -e '.[test]'), or set KEPUBOT_CHROMIUM to a Chromium executable"
)


class BrowserUnavailable(RuntimeError):
    """No Chromium executable was found; the message says how to get one."""


def find_chromium(named: str | None = None) -> str:
    """Return the Chromium executable to launch, or raise ``BrowserUnavailable``.

    ``named`` (default: ``$KEPUBOT_CHROMIUM``) is used when given; else the candidates.
    """
    named = named if named is not None else os.environ.get(CHROMIUM_ENV)
    if named:
        if Path(named).is_file() and os.access(named, os.X_OK):
            return named
        raise BrowserUnavailable(f"{CHROMIUM_ENV}={named} is not an executable file")
    for candidate in CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    raise BrowserUnavailable(f"no Chromium found: {HOW_TO_GET}")


def launch_args() -> list[str]:
    """Return Chromium's command-line switches for a quiet headless run."""
    return list(LAUNCH_ARGS)


def browser_env(work_dir: Path) -> dict[str, str]:
    """Return Chromium's environment: the system fonts plus the bot's Chinese font.

    Chromium finds fonts through fontconfig; the Chinese face the charts use (the
    ``noto-cjk-sans-otc`` package, bot/reports/fonts.py) is added with a ``fonts.conf`` in
    ``work_dir``, so pages and screenshots show Chinese even where no CJK font is installed.
    """
    env = dict(os.environ)
    try:
        font_dir = cjk_font_path().parent
    except CJKFontNotFoundError:
        return env
    work_dir.mkdir(parents=True, exist_ok=True)
    conf = work_dir / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
        '  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>\n'
        f"  <dir>{escape(str(font_dir))}</dir>\n"
        f"  <cachedir>{escape(str(FONT_CACHE))}</cachedir>\n"
        "</fontconfig>\n",
        encoding="utf-8",
    )
    env["FONTCONFIG_FILE"] = str(conf)
    return env


def playwright_available() -> bool:
    """Tell whether Playwright (the ``test`` extra) is installed."""
    try:
        import playwright  # noqa: F401  (optional dependency, only probed)
    except ImportError:
        return False
    return True


PHONE_WIDTH, PHONE_HEIGHT = 412, 860  # CSS pixels of a common Android phone
# The shell is done with a page when its answer replaced "loading" in <main>.
PAGE_SHOWN = (
    "(path) => history.state && history.state.path && history.state.path.startsWith(path)"
    " && !document.querySelector('#desk-main .desk-loading')"
)


def capture_desk(
    executable: str,
    url: str,
    out_dir: Path,
    *,
    prefix: str = "desk",
    timeout: float = 15.0,
    limit: int | None = None,
) -> list[tuple[str, Path]]:
    """Open the desk at ``url`` in a headless Chromium; screenshot every menu page.

    Blocking (Playwright's sync API): call it in a worker thread while the bot's event
    loop serves the desk. Requests outside 127.0.0.1 are refused, so nothing leaves the
    machine. Returns ``(page path, screenshot)`` for each page that rendered (a page the
    menu lists but the desk refuses or lacks is left out); ``limit`` stops after that many.
    """
    from playwright.sync_api import sync_playwright  # optional: the "test" extra

    shots: list[tuple[str, Path]] = []
    with tempfile.TemporaryDirectory() as scratch, sync_playwright() as playwright:
        env: dict[str, str | float | bool] = {**browser_env(Path(scratch))}
        browser = playwright.chromium.launch(
            executable_path=executable, args=launch_args(), env=env
        )
        try:
            context = browser.new_context(
                viewport={"width": PHONE_WIDTH, "height": PHONE_HEIGHT},
                device_scale_factor=2,
                locale="zh-CN",
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
            page.set_default_timeout(timeout * 1000)
            page.goto(url, wait_until="domcontentloaded")
            page.wait_for_selector("#desk-nav a[data-path]")
            paths = page.eval_on_selector_all(
                "#desk-nav a[data-path]", "links => links.map(a => a.dataset.path)"
            )
            for number, path in enumerate(paths[:limit], start=1):
                page.click(f"#desk-nav a[data-path='{path}']")
                page.wait_for_function(PAGE_SHOWN, arg=f"/desk/p/{path}")
                # Only pages the desk rendered (not a refusal, not a page it lacks).
                rendered = page.query_selector("#desk-main .desk-page")
                if rendered is None or page.query_selector("#desk-main .desk-refusal"):
                    continue
                shot = out_dir / f"{prefix}-{number:02d}-{path.replace('/', '-')}.png"
                page.screenshot(path=str(shot), full_page=True)
                shots.append((path, shot))
        finally:
            browser.close()
    return shots
