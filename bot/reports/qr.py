"""A QR code of a link, as PNG (for the bot) or inline SVG (for the desk)."""

from __future__ import annotations

import io

import segno


def qr_png(link: str, *, scale: int = 8) -> bytes:
    """Return a PNG of the link's QR code (a quiet zone of four modules)."""
    buffer = io.BytesIO()
    segno.make(link, error="m", micro=False).save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


def qr_svg(link: str, *, scale: int = 4) -> str:
    """Return the link's QR code as an inline ``<svg>`` element (no XML declaration)."""
    buffer = io.BytesIO()
    segno.make(link, error="m", micro=False).save(
        buffer,
        kind="svg",
        scale=scale,
        border=4,
        dark="black",
        light="white",  # readable on a dark Telegram theme too
        xmldecl=False,
        svgns=True,
        nl=False,
    )
    return buffer.getvalue().decode("utf-8")
