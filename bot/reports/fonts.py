"""Locate the CJK font shipped with our dependencies and hand it to matplotlib and Pillow.

The font is the Simplified Chinese face of Noto Sans CJK (SIL OFL 1.1), read straight out
of the OpenType collection (``.ttc``) installed by the ``noto-cjk-sans-otc`` PyPI package.
matplotlib >= 3.10 registers every face of a collection (``FontManager.addfont``) and
``findfont`` returns a ``FontPath`` carrying the face index, and Pillow takes
``index=`` directly, so no face is extracted to disk. Everything is resolved lazily on
first use and cached for the life of the process.

Start-up speed: matplotlib is imported only when a chart is drawn (``_font_manager``);
tests/reports/test_fonts.py checks that importing the reports loads no heavy library.
"""

from __future__ import annotations

import os
import threading
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fontTools.ttLib import TTCollection, TTFont
from PIL import ImageFont

if TYPE_CHECKING:
    from matplotlib.font_manager import FontProperties
    from PIL.ImageFont import FreeTypeFont

# PostScript name of the face we want inside the collection; looked up, never assumed
# to sit at a fixed index, so a re-ordered collection still yields the SC face.
CJK_POSTSCRIPT_NAME = "NotoSansCJKsc-Regular"
# matplotlib family name of that face, as registered by FontManager.addfont.
CJK_FAMILY = "Noto Sans CJK SC"
# Debian/Ubuntu `fonts-noto-cjk` ships the same collection; used only if the PyPI
# package is somehow absent.
_SYSTEM_FALLBACKS = (
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc"),
)

_mpl_lock = threading.Lock()


class CJKFontNotFoundError(RuntimeError):
    """Raised when no font with Chinese glyphs can be found."""


def _package_font_path() -> Path | None:
    """Return the collection shipped by the noto-cjk-sans-otc package, if installed."""
    try:
        import noto_cjk_sans_otc
    except ImportError:
        return None
    path = Path(os.fspath(noto_cjk_sans_otc.FONT_PATH))
    return path if path.is_file() else None


@lru_cache(maxsize=1)
def cjk_font_path() -> Path:
    """Return the path of the font collection holding the Simplified Chinese face."""
    candidates = [_package_font_path(), *_SYSTEM_FALLBACKS]
    for candidate in candidates:
        if candidate is not None and candidate.is_file():
            return candidate.resolve()
    raise CJKFontNotFoundError(
        "No CJK font found: install the 'noto-cjk-sans-otc' package "
        "(or the Debian package 'fonts-noto-cjk')."
    )


@lru_cache(maxsize=1)
def cjk_face_index() -> int:
    """Return the index of the Simplified Chinese face inside the collection."""
    path = cjk_font_path()
    if path.suffix.lower() not in {".ttc", ".otc"}:
        return 0
    collection = TTCollection(str(path), lazy=True)
    try:
        for index, face in enumerate(collection.fonts):
            if face["name"].getDebugName(6) == CJK_POSTSCRIPT_NAME:
                return index
    finally:
        collection.close()
    raise CJKFontNotFoundError(f"{path} has no face named {CJK_POSTSCRIPT_NAME}")


@lru_cache(maxsize=1)
def _cmap() -> frozenset[int]:
    """Return the code points the chosen face maps to a glyph."""
    path = cjk_font_path()
    is_collection = path.suffix.lower() in {".ttc", ".otc"}
    font_number = cjk_face_index() if is_collection else -1
    with TTFont(str(path), fontNumber=font_number, lazy=True) as font:
        best = font.getBestCmap()
    return frozenset(best)


def missing_glyphs(text: str) -> set[str]:
    """Return the characters of text that the chosen face cannot render."""
    covered = _cmap()
    # Line breaks and tabs are layout, not glyphs; no renderer draws them.
    return {ch for ch in text if ord(ch) not in covered and ch not in "\n\r\t"}


def _font_manager() -> Any:
    """Return matplotlib's font manager, imported when a chart is first drawn.

    matplotlib adds about half a second to every start of the bot and the CLI, and most
    runs draw no chart (see reports/chart.py).
    """
    from matplotlib import font_manager

    return font_manager


def register_with_matplotlib() -> str:
    """Register the collection with matplotlib's font manager if needed; return the family."""
    font_manager = _font_manager()
    with _mpl_lock:
        manager = font_manager.fontManager
        # Checked every time, not cached: matplotlib may rebuild its FontManager.
        if not any(entry.name == CJK_FAMILY for entry in manager.ttflist):
            manager.addfont(str(cjk_font_path()))
            found = manager.findfont(
                font_manager.FontProperties(family=CJK_FAMILY), fallback_to_default=False
            )
            index = getattr(found, "face_index", 0)
            if Path(found).resolve() != cjk_font_path() or index != cjk_face_index():
                raise CJKFontNotFoundError(f"matplotlib resolved {CJK_FAMILY} to {found!r}")
    return CJK_FAMILY


def cjk_font_properties() -> FontProperties:
    """Return matplotlib FontProperties selecting the Simplified Chinese face."""
    family = register_with_matplotlib()
    properties: FontProperties = _font_manager().FontProperties(family=family)
    return properties


@lru_cache(maxsize=32)
def pil_font(size: int) -> FreeTypeFont:
    """Return a Pillow font of the Simplified Chinese face at the given pixel size."""
    return ImageFont.truetype(str(cjk_font_path()), size, index=cjk_face_index())


def display_width(text: str) -> int:
    """Return the width of text in columns, counting wide (CJK) characters as two."""

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def ellipsize(text: str, max_width: int) -> str:
    """Shorten text to at most max_width columns, ending with an ellipsis if cut."""
    if display_width(text) <= max_width:
        return text
    kept: list[str] = []
    width = 1  # the ellipsis itself
    for ch in text:
        step = display_width(ch)
        if width + step > max_width:
            break
        kept.append(ch)
        width += step
    return "".join(kept).rstrip() + "…"
