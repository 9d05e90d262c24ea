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

    def as_dict(self) -> dict[str, Any]:
        """Return the File object of getFile."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
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
