"""The coordinator's desk (Telegram Mini App, docs/desk.md): its web routes.

The pages live in ``bot.desk``; this feature only plugs them into the bot's web server.
"""

from __future__ import annotations

from bot.desk.app import install_desk
from bot.handlers.feature import Feature

FEATURE = Feature(name="desk", web_routes=(install_desk,))
