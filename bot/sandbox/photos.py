"""Synthetic photos of poster boards for tests and the integrity benchmark (Pillow only).

A poster is drawn from a seed. ``recompressed`` and ``resized`` are what a re-upload of the
same file looks like; ``reshot`` is an honest new photo of the same board: another scene
around it, another position and size in the frame, a slight tilt, other light.
"""

from __future__ import annotations

import io
import random

from PIL import Image, ImageDraw, ImageEnhance, ImageFilter

POSTER_SIZE = (360, 480)
FRAME_SIZE = (640, 480)


def poster(seed: int) -> Image.Image:
    """Draw a poster board: a coloured ground, a headline band, text lines, figures."""
    rng = random.Random(seed)
    w, h = POSTER_SIZE
    ground = tuple(rng.randrange(150, 256) for _ in range(3))
    image = Image.new("RGB", POSTER_SIZE, ground)  # type: ignore[arg-type]
    draw = ImageDraw.Draw(image)
    band = tuple(rng.randrange(0, 150) for _ in range(3))
    top = rng.randrange(10, 60)
    draw.rectangle((0, top, w, top + rng.randrange(50, 100)), fill=band)  # type: ignore[arg-type]
    y = top + 120
    while y < h - 30:
        x0 = rng.randrange(10, 60)
        draw.rectangle((x0, y, rng.randrange(w // 2, w - 10), y + 8), fill=(40, 40, 40))
        y += rng.randrange(16, 34)
    for _ in range(rng.randrange(2, 6)):
        cx, cy, r = rng.randrange(w), rng.randrange(h), rng.randrange(20, 80)
        colour = tuple(rng.randrange(256) for _ in range(3))
        if rng.random() < 0.5:
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour)  # type: ignore[arg-type]
        else:
            draw.rectangle((cx - r, cy - r, cx + r, cy + r // 2), fill=colour)  # type: ignore[arg-type]
    return image


def scene(seed: int, board: Image.Image) -> Image.Image:
    """Photograph ``board`` in a scene drawn from ``seed`` (wall, floor, people, framing)."""
    rng = random.Random(seed)
    wall = tuple(rng.randrange(90, 230) for _ in range(3))
    frame = Image.new("RGB", FRAME_SIZE, wall)  # type: ignore[arg-type]
    draw = ImageDraw.Draw(frame)
    floor = rng.randrange(300, 420)
    draw.rectangle(
        (0, floor, FRAME_SIZE[0], FRAME_SIZE[1]),
        fill=tuple(  # type: ignore[arg-type]
            rng.randrange(40, 160) for _ in range(3)
        ),
    )
    scale = rng.uniform(0.45, 0.8)
    bw, bh = int(board.width * scale), int(board.height * scale)
    tilted = board.resize((bw, bh)).rotate(rng.uniform(-6, 6), expand=True, fillcolor=wall)
    x = rng.randrange(0, max(1, FRAME_SIZE[0] - tilted.width))
    y = rng.randrange(0, max(1, FRAME_SIZE[1] - tilted.height))
    frame.paste(tilted, (x, y))
    for _ in range(rng.randrange(2, 7)):  # people in front of the board
        px, py = rng.randrange(FRAME_SIZE[0]), rng.randrange(200, FRAME_SIZE[1])
        colour = tuple(rng.randrange(256) for _ in range(3))
        draw.ellipse((px - 18, py - 110, px + 18, py - 74), fill=(230, 190, 160))
        draw.rectangle((px - 30, py - 74, px + 30, py + 60), fill=colour)  # type: ignore[arg-type]
    light = ImageEnhance.Brightness(frame).enhance(rng.uniform(0.7, 1.3))
    return light.filter(ImageFilter.GaussianBlur(rng.uniform(0, 1.2)))


def photo(seed: int) -> Image.Image:
    """Return an honest, distinct activity photo (its own board in its own scene)."""
    return scene(seed * 7919 + 1, poster(seed))


def reshot(seed: int, shot: int) -> Image.Image:
    """Return another honest photo of the board of ``photo(seed)``, taken another time."""
    return scene(seed * 7919 + 1 + 104729 * (shot + 1), poster(seed))


def jpeg(image: Image.Image, quality: int = 85) -> bytes:
    """Encode ``image`` as JPEG bytes (what Telegram stores)."""
    buf = io.BytesIO()
    image.convert("RGB").save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def recompressed(data: bytes, quality: int = 60) -> bytes:
    """Return the same picture saved again at another quality (a re-upload)."""
    return jpeg(Image.open(io.BytesIO(data)), quality)


def resized(data: bytes, factor: float = 0.5, quality: int = 80) -> bytes:
    """Return the same picture scaled by ``factor`` (a resized copy)."""
    image = Image.open(io.BytesIO(data))
    size = (max(1, int(image.width * factor)), max(1, int(image.height * factor)))
    return jpeg(image.resize(size), quality)


def cropped(data: bytes, margin: float = 0.05, quality: int = 80) -> bytes:
    """Return the same picture with a thin border cut off (a screenshot-like copy)."""
    image = Image.open(io.BytesIO(data))
    dx, dy = int(image.width * margin), int(image.height * margin)
    return jpeg(image.crop((dx, dy, image.width - dx, image.height - dy)), quality)
