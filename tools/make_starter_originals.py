"""Draw the starter pack's print originals: A4 at 300 dpi, the preview's picture and its title.

    PYTHONPATH=. python tools/make_starter_originals.py

Each item of bot/content/packs/starter/pack.toml whose ``original`` lies under
``originals/`` is drawn from its 600×800 preview (``media``): the title in Chinese (Noto
Sans CJK SC, bot/reports/fonts.py) on a coloured band, the picture scaled up, the pack's
name below. Deterministic for one Pillow and font version; saved as 32-colour PNGs so the
ten files stay small (docs/content-originals.md). The venue-screen video media/quake.mp4
was made once with ffmpeg (the command is in docs/content-originals.md).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from PIL import Image, ImageDraw

from bot.reports.fonts import pil_font
from bot.reports.poster import wrap_text

ROOT = Path(__file__).resolve().parents[1]
PACK = ROOT / "bot" / "content" / "packs" / "starter"
PAGE = (2480, 3508)  # A4 portrait at 300 dpi
MARGIN = 160
BAND = "#1f6fb2"
TITLE_PX = 150
FOOTER_PX = 64


def draw(preview: Path, title: str, out: Path) -> None:
    """Draw one original from its preview and title."""
    page = Image.new("RGB", PAGE, "white")
    pen = ImageDraw.Draw(page)
    font = pil_font(TITLE_PX)
    lines = wrap_text(title, font, PAGE[0] - 2 * MARGIN)[:2]
    band = MARGIN + len(lines) * round(TITLE_PX * 1.35) + MARGIN // 2
    pen.rectangle((0, 0, PAGE[0], band), fill=BAND)
    y = MARGIN
    for line in lines:
        pen.text((MARGIN, y), line, font=font, fill="white")
        y += round(TITLE_PX * 1.35)
    footer_top = PAGE[1] - MARGIN - FOOTER_PX
    room = (PAGE[0] - 2 * MARGIN, footer_top - band - 2 * MARGIN // 2)
    with Image.open(preview) as art:
        scale = min(room[0] / art.width, room[1] / art.height)
        size = (round(art.width * scale), round(art.height * scale))
        picture = art.convert("RGB").resize(size, Image.Resampling.LANCZOS)
    page.paste(picture, ((PAGE[0] - size[0]) // 2, band + MARGIN // 2))
    pen.text(
        (MARGIN, footer_top), "科普中国e站 · 入门内容包", font=pil_font(FOOTER_PX), fill="#5c5c5c"
    )
    small = page.quantize(colors=32, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    small.save(out, "PNG", optimize=True, dpi=(300, 300))


def main() -> None:
    """Draw every original the starter pack names under originals/."""
    manifest = tomllib.loads((PACK / "pack.toml").read_text(encoding="utf-8"))
    for item in manifest["items"]:
        original = item.get("original", "")
        if original.startswith("originals/") and original.endswith(".png"):
            out = PACK / original
            out.parent.mkdir(exist_ok=True)
            draw(PACK / item["media"], item["title"], out)
            print(out.relative_to(ROOT), out.stat().st_size)


if __name__ == "__main__":
    main()
