"""Demo scene: people meet the bot; roles are granted from the command line."""

from __future__ import annotations

from bot.sandbox.stage import Demo
from bot.services import roles as role_service


async def play(demo: Demo) -> None:
    """Grant the national admin role, then a newcomer says /start and asks for help."""
    t = demo.t
    demo.scene(t("Day 1 — first contact"))
    admin = demo.user("admin", "国家科普中心")
    async with demo.bot.runtime.sessions() as session, session.begin():
        await role_service.grant(
            session=session, telegram_id=admin.id, role="admin", now=demo.bot.runtime.now()
        )
    demo.narrate(t("kepubot admin grant --telegram-id {id} --role admin", id=admin.id))
    newcomer = demo.user("newcomer", "路人甲")
    demo.narrate(t("A newcomer opens the bot without an invite link."))
    await demo.command(newcomer, "start")
    await demo.command(newcomer, "help")
