"""Render a printable A4 invite poster with the station's QR code and Chinese text."""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO
from typing import TYPE_CHECKING

import segno
from PIL import Image, ImageDraw

from bot.reports.fonts import pil_font

if TYPE_CHECKING:
    from PIL import Image, ImageDraw
    from PIL.ImageFont import FreeTypeFont

# A4 portrait at 150 dpi.
PAGE_SIZE = (1240, 1754)
MARGIN = 90
QR_BORDER_MODULES = 4  # the quiet zone the QR specification asks for
QR_MAX_PX = 820
QR_MIN_PX = 420
HEADER_COLOR = "#1f6fb2"
TEXT_COLOR = "#1a1a1a"
MUTED_COLOR = "#5c5c5c"
RULE_COLOR = "#d0d7de"
HEADING_PX = 58
STATION_PX = (84, 72, 62, 54)  # tried in turn until the name fits in STATION_MAX_LINES
STATION_MAX_LINES = 3
LINK_PX = 28
INSTRUCTION_PX = 36
FOOTER_PX = 26
LINE_SPACING = 1.35
# Never start a line with these; they hang at the end of the previous line instead.
_NO_LINE_START = set("，。、；：？！）》」』】〉”’,.;:?!)]}%·…—")


@dataclass(frozen=True)
class _Block:
    """A run of wrapped lines set in one font and colour."""

    lines: list[str]
    font: FreeTypeFont
    color: str

    @property
    def line_height(self) -> int:
        """Return the distance between baselines of two consecutive lines."""
        return round(self.font.size * LINE_SPACING)

    @property
    def height(self) -> int:
        """Return the height the block occupies."""
        return self.line_height * len(self.lines)


def wrap_text(text: str, font: FreeTypeFont, max_width: float) -> list[str]:
    """Break text into lines no wider than max_width, keeping Latin words whole."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for token in _tokens(paragraph):
            candidate = line + token
            fits = font.getlength(candidate.rstrip()) <= max_width
            # Hanging punctuation: a little overflow beats a line starting with "，".
            if fits or (line.strip() and token[0] in _NO_LINE_START):
                line = candidate
                continue
            if line.strip():
                lines.append(line.rstrip())
            line = "" if token.isspace() else token
            # A single token wider than the line (a long word) is split by character.
            while len(line) > 1 and font.getlength(line) > max_width:
                cut = _fit_prefix(line, font, max_width)
                lines.append(line[:cut])
                line = line[cut:]
        lines.append(line.rstrip())
    return lines


def _fit_prefix(text: str, font: FreeTypeFont, max_width: float) -> int:
    """Return how many leading characters of text fit in max_width (at least one)."""
    for n in range(len(text), 0, -1):
        if font.getlength(text[:n]) <= max_width:
            return n
    return 1


def _tokens(text: str) -> list[str]:
    """Split text into break units: a Latin word, a run of spaces, or one other char."""
    tokens: list[str] = []
    for ch in text:
        prev = tokens[-1] if tokens else ""
        if prev and ch.isascii() and ch.isalnum() and prev[-1].isascii() and prev[-1].isalnum():
            tokens[-1] = prev + ch
        elif prev and ch.isspace() and prev.isspace():
            tokens[-1] = prev + ch
        else:
            tokens.append(ch)
    return tokens


def render_invite_poster(
    *, station_name: str, link: str, heading: str, instructions: list[str], footer: str
) -> bytes:
    """Render the invite poster for a station to PNG bytes (1240x1754, A4 at 150 dpi)."""
    width, height = PAGE_SIZE
    text_width = width - 2 * MARGIN
    page = Image.new("RGB", PAGE_SIZE, "white")
    draw = ImageDraw.Draw(page)

    # Header band with the heading in white.
    heading_font = pil_font(HEADING_PX)
    heading_block = _Block(wrap_text(heading, heading_font, text_width), heading_font, "white")
    band_height = heading_block.height + 2 * 48
    draw.rectangle((0, 0, width, band_height), fill=HEADER_COLOR)
    _draw_block(draw, heading_block, 48, width, bold=True)

    station = _station_block(station_name, text_width)
    link_block = _Block(
        wrap_text(link, pil_font(LINK_PX), text_width), pil_font(LINK_PX), MUTED_COLOR
    )
    step_font = pil_font(INSTRUCTION_PX)
    # Continuation lines of a step hang under its text, not under its number.
    indent = round(step_font.getlength(f"{len(instructions)}. "))
    steps = [wrap_text(step, step_font, text_width - indent) for step in instructions]
    steps_line_height = round(INSTRUCTION_PX * LINE_SPACING)
    steps_height = steps_line_height * sum(len(lines) for lines in steps)
    steps_width = indent + max(
        (step_font.getlength(line) for lines in steps for line in lines), default=0
    )
    footer_block = _Block(
        wrap_text(footer, pil_font(FOOTER_PX), text_width), pil_font(FOOTER_PX), MUTED_COLOR
    )

    # Fixed gaps; the QR code takes whatever height is left, within its bounds.
    y = band_height + 56
    footer_top = height - MARGIN // 2 - footer_block.height
    fixed = station.height + 40 + 24 + link_block.height + 56 + steps_height + 48
    qr_room = footer_top - 40 - y - fixed
    qr_image = _qr_image(link, max(QR_MIN_PX, min(QR_MAX_PX, qr_room)))
    y += max(0, qr_room - qr_image.height) // 2  # centre the middle part vertically

    y = _draw_block(draw, station, y, width, bold=True) + 40
    page.paste(qr_image, ((width - qr_image.width) // 2, y))
    y += qr_image.height + 24
    y = _draw_block(draw, link_block, y, width) + 56
    left = max(MARGIN, round((width - steps_width) / 2))
    for number, lines in enumerate(steps, start=1):
        draw.text((left, y), f"{number}.", font=step_font, fill=HEADER_COLOR, anchor="la")
        for line in lines:
            draw.text((left + indent, y), line, font=step_font, fill=TEXT_COLOR, anchor="la")
            y += steps_line_height

    draw.line((MARGIN, footer_top - 24, width - MARGIN, footer_top - 24), fill=RULE_COLOR, width=2)
    _draw_block(draw, footer_block, footer_top, width)

    buf = BytesIO()
    page.save(buf, format="PNG", dpi=(150, 150))
    return buf.getvalue()


def _station_block(name: str, max_width: int) -> _Block:
    """Wrap the station name in the largest size that fits in a few lines."""
    for size in STATION_PX:
        font = pil_font(size)
        lines = wrap_text(name, font, max_width)
        if len(lines) <= STATION_MAX_LINES:
            break
    else:
        # Absurdly long names are cut so the QR code keeps its room.
        lines = lines[:STATION_MAX_LINES]
        last = lines[-1]
        while last and font.getlength(last + "…") > max_width:
            last = last[:-1]
        lines[-1] = last + "…"
    return _Block(lines, font, TEXT_COLOR)


def _draw_block(
    draw: ImageDraw.ImageDraw,
    block: _Block,
    top: int,
    page_width: int,
    *,
    bold: bool = False,
) -> int:
    """Draw block centred with its first line at top; return the y just below it."""
    # The bundled face is Regular only; a hairline stroke in the fill colour reads as bold.
    stroke = max(1, round(block.font.size / 40)) if bold else 0
    y = top
    for line in block.lines:
        draw.text(
            (page_width / 2, y),
            line,
            font=block.font,
            fill=block.color,
            anchor="ma",
            stroke_width=stroke,
            stroke_fill=block.color,
        )
        y += block.line_height
    return y


def _qr_image(link: str, max_px: int) -> Image.Image:
    """Return the QR code of link (level M or better, quiet zone kept) at most max_px wide."""
    qr = segno.make(link, error="m", boost_error=True, micro=False)
    modules = qr.symbol_size(scale=1, border=QR_BORDER_MODULES)[0]
    scale = max(1, max_px // modules)  # whole pixels per module keep the code crisp
    buf = BytesIO()
    qr.save(buf, kind="png", scale=scale, border=QR_BORDER_MODULES)
    buf.seek(0)
    return Image.open(buf).convert("RGB")
