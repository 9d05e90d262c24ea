"""In-memory file storage of the Bot API sandbox."""

from __future__ import annotations

import hashlib
import io
import mimetypes
from dataclasses import dataclass
from typing import Any

try:  # Pillow gives real photo sizes; without it sizes are faked.
    from PIL import Image
except ImportError:  # pragma: no cover - Pillow is a project dependency
    Image = None  # type: ignore[assignment]

_THUMB_SIDE = 90
# Telegram's limits for bots (core.telegram.org/bots/api#sending-files, #getfile): a
# multipart upload of more than 50 MB is refused by the front end with HTTP 413, getFile
# serves files up to 20 MB; a file already on Telegram's servers is re-sent by file_id
# whatever its size (up to the 2 GB a user may upload).
UPLOAD_LIMIT = 50 * 1024 * 1024
DOWNLOAD_LIMIT = 20 * 1024 * 1024
# The Bot API's names of file types, as its "can't use file of type X as Y" error says them.
TYPE_NAMES = {"photo": "Photo", "video": "Video", "document": "Document", "audio": "Audio"}


@dataclass
class StoredFile:
    """One stored file and the metadata the Bot API reports for it."""

    file_id: str
    file_unique_id: str
    kind: str
    data: bytes
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None
    width: int | None = None
    height: int | None = None
    duration: int | None = None
    declared_size: int | None = None  # a stand-in's size (tests of big files keep no bytes)

    @property
    def size(self) -> int:
        """Return the file's size in bytes, as Telegram reports it."""
        return self.declared_size if self.declared_size is not None else len(self.data)

    def as_dict(self) -> dict[str, Any]:
        """Return the File object of getFile."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.size,
            "file_path": self.file_path,
        }

    def photo_size(self) -> dict[str, Any]:
        """Return the PhotoSize object of this file."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "width": self.width or 0,
            "height": self.height or 0,
            "file_size": len(self.data),
        }


class FileStore:
    """Keep uploaded files by file_id and by content."""

    def __init__(self) -> None:
        self._by_id: dict[str, StoredFile] = {}
        self._by_path: dict[str, StoredFile] = {}
        self._counter = 0

    def get(self, file_id: str) -> StoredFile | None:
        """Return a stored file by file_id."""
        return self._by_id.get(file_id)

    def by_path(self, file_path: str) -> StoredFile | None:
        """Return a stored file by its download path."""
        return self._by_path.get(file_path)

    def add(
        self,
        data: bytes,
        kind: str,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        size: tuple[int, int] | None = None,
    ) -> StoredFile:
        """Store bytes and return the new file; the unique id depends only on the content."""
        self._counter += 1
        digest = hashlib.sha256(data).hexdigest()
        unique = "AgAD" + digest[:16]
        file_id = f"{kind[:2].upper()}ACAg{self._counter:06d}{digest[:12]}"
        ext = _extension(file_name, mime_type, kind)
        path = f"{kind}s/file_{self._counter}{ext}"
        if mime_type is None and file_name:
            mime_type = mimetypes.guess_type(file_name)[0]
        stored = StoredFile(
            file_id=file_id,
            file_unique_id=unique,
            kind=kind,
            data=data,
            file_path=path,
            file_name=file_name,
            mime_type=mime_type,
            width=size[0] if size else None,
            height=size[1] if size else None,
        )
        self._by_id[file_id] = stored
        self._by_path[path] = stored
        return stored

    def add_photo(self, data: bytes) -> list[StoredFile]:
        """Store a photo and return its sizes, smallest first, like Telegram."""
        dims = image_size(data)
        if dims is None:
            return [self.add(data, "photo", mime_type="image/jpeg", size=(320, 320))]
        sizes: list[StoredFile] = []
        if max(dims) > _THUMB_SIDE and Image is not None:
            thumb = _thumbnail(data)
            if thumb is not None:
                sizes.append(self.add(thumb[0], "photo", mime_type="image/jpeg", size=thumb[1]))
        sizes.append(self.add(data, "photo", mime_type="image/jpeg", size=dims))
        return sizes


def image_size(data: bytes) -> tuple[int, int] | None:
    """Return (width, height) of an image, or None if it is not one Pillow reads."""
    if Image is None:
        return None
    try:
        with Image.open(io.BytesIO(data)) as img:
            return int(img.width), int(img.height)
    except Exception:  # noqa: BLE001 - any unreadable upload is "not an image"
        return None


def _thumbnail(data: bytes) -> tuple[bytes, tuple[int, int]] | None:
    """Return a small JPEG copy of an image and its size."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.thumbnail((_THUMB_SIDE, _THUMB_SIDE))
            out = io.BytesIO()
            img.convert("RGB").save(out, "JPEG")
            return out.getvalue(), (int(img.width), int(img.height))
    except Exception:  # noqa: BLE001
        return None


def _extension(file_name: str | None, mime_type: str | None, kind: str) -> str:
    """Pick a file extension for the download path."""
    if file_name and "." in file_name:
        return "." + file_name.rsplit(".", 1)[1][:8]
    if mime_type:
        ext = mimetypes.guess_extension(mime_type)
        if ext:
            return ext
    return {"photo": ".jpg", "video": ".mp4"}.get(kind, "")


def video_meta(data: bytes) -> tuple[int, int, int] | None:
    """Return (width, height, seconds) of an MP4/MOV file, read from its moov box, or None.

    Walks the ISO BMFF boxes: ``mvhd`` gives the time scale and duration, the first
    ``tkhd`` with a non-zero size the track's width and height (16.16 fixed point).
    """
    moov = _box(data, b"moov")
    if moov is None:
        return None
    mvhd = _box(moov, b"mvhd")
    if mvhd is None or len(mvhd) < 32:
        return None
    if mvhd[0] == 1:
        scale = int.from_bytes(mvhd[20:24], "big")
        length = int.from_bytes(mvhd[24:32], "big")
    else:
        scale = int.from_bytes(mvhd[12:16], "big")
        length = int.from_bytes(mvhd[16:20], "big")
    seconds = round(length / scale) if scale else 0
    for trak in _boxes(moov, b"trak"):
        tkhd = _box(trak, b"tkhd")
        if tkhd is None or len(tkhd) < 84:
            continue
        width = int.from_bytes(tkhd[-8:-4], "big") >> 16
        height = int.from_bytes(tkhd[-4:], "big") >> 16
        if width and height:
            return width, height, seconds
    return None


def _boxes(data: bytes, kind: bytes) -> list[bytes]:
    """Return the bodies of the top-level boxes of ``data`` of one type."""
    found: list[bytes] = []
    offset = 0
    while offset + 8 <= len(data):
        size = int.from_bytes(data[offset : offset + 4], "big")
        name = data[offset + 4 : offset + 8]
        header = 8
        if size == 1 and offset + 16 <= len(data):
            size = int.from_bytes(data[offset + 8 : offset + 16], "big")
            header = 16
        elif size == 0:
            size = len(data) - offset
        if size < header:
            break
        if name == kind:
            found.append(data[offset + header : offset + size])
        offset += size
    return found


def _box(data: bytes, kind: bytes) -> bytes | None:
    """Return the body of the first top-level box of one type, or None."""
    boxes = _boxes(data, kind)
    return boxes[0] if boxes else None
