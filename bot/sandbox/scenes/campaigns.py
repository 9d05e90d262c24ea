"""Demo scene: a curator gives 全国科普日 its dates; informants browse it; its report.

Reads ``demo.state["curator_key"]`` and ``informant_keys`` (from the content and informants
scenes; a curator is made here if missing, the reader's part needs informants). Sets
``campaign_key``.
"""

from __future__ import annotations

from bot.sandbox.stage import Demo
from bot.services import roles as role_service


async def play(demo: Demo) -> None:
    """Define a campaign in the bot, browse it from /feed, push it, get its XLSX."""
    t = demo.t
    runtime = demo.bot.runtime
    demo.scene(t("Day 1 — a national campaign: 全国科普日"))
    key = demo.state.get("curator_key")
    curator = demo.users[key] if key else demo.user("curator", "国家科普内容编辑")
    if not key:
        async with runtime.sessions() as session, session.begin():
            await role_service.grant(
                session=session, telegram_id=curator.id, role="curator", now=runtime.now()
            )
    keys = list(demo.state.get("informant_keys") or [])
    demo.narrate(
        t(
            "The curator gives this year's 全国科普日 its dates and regions in the bot "
            "(campaigns can also be set in the config file, [[campaigns]])."
        )
    )
    listing = (await demo.command(curator, "campaigns"))[-1]
    ask_name = (await demo.press(curator, listing, t("➕ New campaign")))[-1]
    await demo.press(curator, ask_name, "全国科普日")
    ask_regions = (await demo.say(curator, "11月20日至11月29日"))[-1]
    await demo.press(curator, ask_regions, t("Everywhere"))
    demo.state["campaign_key"] = "science_day"

    if keys:
        demo.narrate(t("Every card of its content now says so; informants find it in /feed."))
        reader = demo.users[keys[0]]
        feed = (await demo.command(reader, "feed", show=False))[-1]
        label = next(
            (b.text for row in feed.buttons for b in row if b.text.startswith("🎯")), None
        )
        demo.show(reader.first_name, feed)
        if label is not None:
            page = (await demo.press(reader, feed, label))[-1]
            if page.buttons:
                await demo.press(reader, page, page.buttons[0][0].text)

    demo.narrate(
        t(
            "The curator looks at the campaign and its figures, tries to push its newest item "
            "(pushes keep to informants' interests) and gets the XLSX."
        )
    )
    listing = (await demo.command(curator, "campaigns"))[-1]
    view = (await demo.press(curator, listing, listing.buttons[0][0].text))[-1]
    confirm = (await demo.press(curator, view, t("🚀 Push its newest item")))[-1]
    if confirm.buttons:  # someone's interests match: push it
        await demo.press(curator, confirm, t("Yes, push"))
    for message in await demo.press(curator, view, t("📊 Report (XLSX)"), show=False):
        demo.show(curator.first_name, message)
        data = message.document_bytes()
        if data:
            demo.save_file(message.filename or "campaign.xlsx", data)
