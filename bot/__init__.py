"""kepubot: a Telegram bot for the Kepu China e-station informant network."""

__version__ = "0.1.0"
