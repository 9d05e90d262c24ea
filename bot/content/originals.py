"""Original files of content items: which file is the original, and how it may be sent.

A poster's card shows a photo, which Telegram recompresses (to a JPEG of at most 1280 px a
side): nothing to print. The original is the file as the author made it: sent as a
document it arrives byte for byte. A video's original is the video itself, sent as a
video so the venue screen can play it. Plain rules here; the sending is in
``bot.handlers.content_originals``.
"""

from __future__ import annotations

import mimetypes
import re
from dataclasses import dataclass
from pathlib import Path

# Telegram's limits for bots (core.telegram.org/bots/api#sending-files): an upload
# (multipart) up to 50 MB; a file already on Telegram's servers is re-sent by its file_id
# whatever its size.
BOT_UPLOAD_LIMIT = 50 * 1024 * 1024
VIDEO_SUFFIXES = (".mp4", ".mov", ".webm")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".tif", ".tiff")
# Characters no file name may hold on the phones and PCs the file is saved on.
_UNSAFE_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')
NAME_MAX = 120


@dataclass(frozen=True)
class OriginalFile:
    """An item's original as stored on the item: where, what it is called, type, size."""

    path: Path
    name: str
    mime: str
    size: int


def is_video_file(name: str | None) -> bool:
    """Tell whether a file name is a video's."""
    return bool(name) and str(name).lower().endswith(VIDEO_SUFFIXES)


def is_image_file(name: str | None) -> bool:
    """Tell whether a file name is a picture's."""
    return bool(name) and str(name).lower().endswith(IMAGE_SUFFIXES)


def file_name_for(title: str, suffix: str) -> str:
    """Return the name the original is saved under: its title, safe on any system."""
    stem = _UNSAFE_NAME.sub(" ", title).strip(" .") or "original"
    return stem[:NAME_MAX] + suffix.lower()


def pick_original(kind: str, media: Path | None, original: Path | None) -> Path | None:
    """Return the original of an item: the one named, else its media when that is one.

    A video item's picture is only its preview, so it is no original; any other item's
    media (a poster, an article's picture) is, when no separate original is given.
    """
    if original is not None:
        return original
    if media is None:
        return None
    if kind == "video" and not is_video_file(media.name):
        return None
    return media


def describe_original(title: str, path: Path) -> OriginalFile:
    """Return the original's stored description (name from the title, type, size)."""
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return OriginalFile(
        path=path, name=file_name_for(title, path.suffix), mime=mime, size=path.stat().st_size
    )


def fits_upload(size: int | None, limit: int = BOT_UPLOAD_LIMIT) -> bool:
    """Tell whether a file of ``size`` bytes may be uploaded by a bot."""
    return size is not None and size <= limit


def megabytes(size: int) -> str:
    """Return a size in MB with one decimal (Telegram's MB are MiB)."""
    return f"{size / (1024 * 1024):.1f}"


def size_text(size: int) -> str:
    """Return a file size for people: ``14 KB``, ``3.2 MB``."""
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024))} KB"
    return f"{megabytes(size)} MB"
