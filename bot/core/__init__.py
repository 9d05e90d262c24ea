"""Pure helpers: no I/O, no database, no Telegram. The bottom layer of the bot."""
