"""Domain services: plain values in, plain values out; no Telegram types."""
