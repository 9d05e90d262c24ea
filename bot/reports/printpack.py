"""The print pack: a week's posters as one A4 PDF, one poster a page, for a station to print.

Each page has the station's name and the window at the top, the poster's title, its
picture, its summary, and a QR code of the item's tracked link with the link written
beside it (so it can be typed, and found by text search). Drawn with matplotlib's PDF
backend: the project already draws its charts with it, and with ``pdf.fonttype = 42`` it
embeds a subset of Noto Sans CJK SC (bot/reports/fonts.py) with a ToUnicode map, so the
Chinese text can be selected, searched and extracted. No new dependency.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import segno
from PIL import Image

from bot.reports.fonts import pil_font, register_with_matplotlib
from bot.reports.poster import wrap_text

A4_INCHES = (210 / 25.4, 297 / 25.4)
A4_POINTS = (A4_INCHES[0] * 72, A4_INCHES[1] * 72)
MARGIN = 42.0  # points
PICTURE_MAX_PX = 1400  # long side of a picture read for the PDF
PICTURE_DPI = 200  # pictures are resampled to this at their printed size
TITLE_PT = 22
STATION_PT = 13
SMALL_PT = 9
SUMMARY_PT = 12
SUMMARY_LINES = 6
QR_SIDE = 118.0  # points (about 4 cm: easy to scan from a metre away)
HEADER_COLOR = "#1f6fb2"
TEXT_COLOR = "#1a1a1a"
MUTED_COLOR = "#5c5c5c"
_render_lock = threading.Lock()  # matplotlib's rc parameters are global


@dataclass(frozen=True)
class PrintPoster:
    """One page of the pack."""

    title: str
    summary: str
    link: str  # the tracked link the QR code holds
    picture: bytes | None  # the poster's image (the original when there is one)


@dataclass(frozen=True)
class PrintPackText:
    """The pack's words, already in the reader's language."""

    station: str
    window: str  # e.g. 本周挂图（2026年11月24日—11月30日）
    scan_hint: str  # e.g. 扫码阅读全文
    no_picture: str
    page: str  # a format with {n} and {total}


def _matplotlib() -> Any:
    """Return matplotlib, imported when a pack is first drawn.

    The one lazy import of this module: matplotlib adds about half a second to every start
    of the bot and the CLI, and most runs draw no PDF.
    """
    import matplotlib.backends.backend_pdf
    import matplotlib.figure

    return matplotlib


def qr_png(link: str) -> bytes:
    """Return the QR code of ``link`` as a PNG (quiet zone of 4 modules)."""
    out = io.BytesIO()
    segno.make(link, error="m").save(out, kind="png", scale=8, border=4)
    return out.getvalue()


def render_printpack(posters: Sequence[PrintPoster], text: PrintPackText) -> bytes:
    """Return the PDF of ``posters``, one A4 page each."""
    mpl = _matplotlib()
    family = register_with_matplotlib()
    out = io.BytesIO()
    params = {"pdf.fonttype": 42, "font.family": family, "pdf.compression": 6}
    with _render_lock, mpl.rc_context(params):
        metadata = {"Title": text.window, "Creator": "kepubot", "CreationDate": None}
        with mpl.backends.backend_pdf.PdfPages(out, metadata=metadata) as pdf:
            for number, poster in enumerate(posters, start=1):
                fig = mpl.figure.Figure(figsize=A4_INCHES)
                _draw_page(fig, poster, text, number, len(posters))
                pdf.savefig(fig, dpi=PICTURE_DPI)
    return out.getvalue()


def _fig_xy(x: float, y: float) -> tuple[float, float]:
    """Convert points from the page's top left to figure fractions."""
    return x / A4_POINTS[0], 1 - y / A4_POINTS[1]


def _text(fig: Any, x: float, y: float, s: str, size: float, **kwargs: Any) -> None:
    fx, fy = _fig_xy(x, y)
    kwargs.setdefault("color", TEXT_COLOR)
    fig.text(fx, fy, s, fontsize=size, va="top", **kwargs)


def _image_axes(fig: Any, left: float, top: float, width: float, height: float) -> Any:
    """Return axes without decoration covering a box given in points from the top left."""
    x, y = _fig_xy(left, top + height)
    ax = fig.add_axes((x, y, width / A4_POINTS[0], height / A4_POINTS[1]))
    ax.set_axis_off()
    return ax


def _picture(data: bytes) -> Any:
    """Return an RGB copy of a picture no longer than PICTURE_MAX_PX a side, or None."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.thumbnail((PICTURE_MAX_PX, PICTURE_MAX_PX))
            return img.convert("RGB")
    except Exception:  # noqa: BLE001 - an unreadable picture leaves its page without one
        return None


def _draw_page(fig: Any, poster: PrintPoster, text: PrintPackText, n: int, total: int) -> None:
    width = A4_POINTS[0] - 2 * MARGIN
    # Header: the station, the window, a rule.
    _text(fig, MARGIN, MARGIN, text.station, STATION_PT, color=HEADER_COLOR)
    _text(fig, MARGIN, MARGIN + STATION_PT * 1.6, text.window, SMALL_PT, color=MUTED_COLOR)
    y = MARGIN + STATION_PT * 1.6 + SMALL_PT * 2.2
    for line in wrap_text(poster.title, pil_font(TITLE_PT), width)[:2]:
        _text(fig, MARGIN, y, line, TITLE_PT)
        y += TITLE_PT * 1.4
    y += 8
    # The picture fills what the summary and the QR code leave.
    bottom_block = QR_SIDE + SMALL_PT * 4 + SUMMARY_PT * 1.5 * SUMMARY_LINES
    picture_height = A4_POINTS[1] - MARGIN - bottom_block - y - 12
    picture = _picture(poster.picture) if poster.picture else None
    ax = _image_axes(fig, MARGIN, y, width, picture_height)
    if picture is not None:
        ax.imshow(picture, interpolation="none")
        ax.set_anchor("C")
    else:
        ax.text(0.5, 0.5, text.no_picture, ha="center", va="center", color=MUTED_COLOR)
    y += picture_height + 14
    # The summary, then the QR code at the bottom right with its link.
    qr_left = A4_POINTS[0] - MARGIN - QR_SIDE
    lines = wrap_text(poster.summary, pil_font(SUMMARY_PT), width)
    if len(lines) > SUMMARY_LINES:
        lines = [*lines[: SUMMARY_LINES - 1], lines[SUMMARY_LINES - 1].rstrip("，。；、") + "…"]
    for line in lines:
        _text(fig, MARGIN, y, line, SUMMARY_PT)
        y += SUMMARY_PT * 1.5
    qr_top = A4_POINTS[1] - MARGIN - SMALL_PT * 3 - QR_SIDE
    with Image.open(io.BytesIO(qr_png(poster.link))) as qr:
        qr_ax = _image_axes(fig, qr_left, qr_top, QR_SIDE, QR_SIDE)
        qr_ax.imshow(qr.convert("L"), cmap="gray", vmin=0, vmax=255, interpolation="none")
    hint_top = qr_top + QR_SIDE * 0.35
    _text(fig, MARGIN, hint_top, text.scan_hint, SUMMARY_PT, color=HEADER_COLOR)
    _text(fig, MARGIN, hint_top + SUMMARY_PT * 1.8, poster.link, SMALL_PT, url=poster.link)
    footer = text.page.format(n=n, total=total)
    _text(fig, MARGIN, A4_POINTS[1] - MARGIN - SMALL_PT, footer, SMALL_PT, color=MUTED_COLOR)
