"""Storage: tables, engine and sessions, migrations, data-access functions. No Telegram."""
