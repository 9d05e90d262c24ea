"""The coordinator's desk: a Telegram Mini App served by the bot's web server (docs/desk.md).

``bot.desk`` is the web's presentation layer, below ``bot.handlers`` and above ``bot.jobs``:
``auth`` checks Telegram's signed initData, ``web`` turns it into a ``Viewer`` and registers
pages and actions, ``nav`` lists the menu, ``app`` installs every route module.
"""
