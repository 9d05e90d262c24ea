"""Demo scene: the county coordinator opens the desk (the Mini App) from the menu button.

Reads ``demo.state["coordinator_keys"]["county"]`` (the digest scene's coordinator; one is
created and granted when missing). The bot gave that person the "科普工作台" menu button
when the role was granted; pressing it gives the URL a Telegram app opens (signed launch
data in the hash). With Chromium (and Playwright) on the machine, a headless browser opens
it as a phone would and every menu page is saved as ``desk-NN-<page>.png``; without, the
transcript says how to get one.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

from bot.i18n import N_
from bot.sandbox.browser import (
    BrowserUnavailable,
    capture_desk,
    find_chromium,
    playwright_available,
)
from bot.sandbox.stage import Demo
from bot.sandbox.world import SimUser
from bot.services import regions as region_service
from bot.services import roles as role_service
from storage.models import Region

TITLE = N_("The coordinator's desk: a Mini App in the chat")
HOW_TO_GET = N_(
    "No Chromium here, so the desk is not photographed. To get the screenshots: "
    "sudo apt-get install -y chromium, then pip install -e '.[test]' (Playwright), then make "
    "demo again."
)


async def _coordinator(demo: Demo) -> SimUser:
    """Return the digest scene's county coordinator, or make one."""
    key = (demo.state.get("coordinator_keys") or {}).get("county") or "county_coordinator"
    if key in demo.users:
        return demo.users[key]
    user = demo.user(key, "西湖区科协 李老师")
    await demo.command(user, "start", show=False)
    runtime = demo.bot.runtime
    region = str(demo.state.get("region_code") or "330106")
    async with runtime.sessions() as session, session.begin():
        if await session.get(Region, region) is None:  # played alone: the sample regions
            await region_service.import_sample(session=session, now=runtime.now())
        await role_service.grant(
            session=session,
            telegram_id=user.id,
            role="coordinator",
            region_code=region,
            now=runtime.now(),
        )
    await demo.settle()
    return user


def _served_here(demo: Demo, url: str) -> str:
    """Return the menu button's URL on the bot's own web server (the demo's proxy address)."""
    parts = urlsplit(url)
    return demo.bot.web_url + parts.path + (f"?{parts.query}" if parts.query else "")


async def play(demo: Demo) -> None:
    """Press the menu button; photograph the desk when a browser is at hand."""
    t = demo.t
    demo.scene(t(TITLE))
    user = await _coordinator(demo)
    await demo.settle()
    button = user.menu_button
    if button.get("type") != "web_app":
        demo.narrate(t("The desk cannot open here: its address is not https."))
        return
    demo.narrate(
        t(
            "{name} taps the menu button [{button}] next to the input field; Telegram opens "
            "the desk inside the chat, with launch data it signed for this person.",
            name=user.first_name,
            button=button["text"],
        )
    )
    url = user.launch(_served_here(demo, button["web_app"]["url"]), auth_date=demo.clock())
    try:
        executable = find_chromium()
    except BrowserUnavailable:
        demo.narrate(t(HOW_TO_GET))
        return
    if not playwright_available():
        demo.narrate(t(HOW_TO_GET))
        return
    try:
        shots = await asyncio.to_thread(capture_desk, executable, url, demo.out_dir)
    except Exception as exc:  # noqa: BLE001 — a browser problem never ends the demo
        demo.narrate(
            t("The browser did not finish ({error}); no screenshots.", error=type(exc).__name__)
        )
        return
    demo.narrate(
        t(
            "A headless Chromium opened it as a phone would: {n} pages of the desk, "
            "each saved as a picture.",
            n=len(shots),
        )
    )
    for path, shot in shots:
        demo.line(f"    🖥 /desk/p/{path} → {shot.name}")
        demo.files.append(shot)
