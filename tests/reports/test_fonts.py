"""The bundled CJK font is found, is the Simplified Chinese face, and covers our text."""

from __future__ import annotations

import subprocess
import sys

from bot.reports.fonts import (
    CJK_FAMILY,
    cjk_face_index,
    cjk_font_path,
    cjk_font_properties,
    display_width,
    ellipsize,
    missing_glyphs,
    pil_font,
)

from .samples import ALL_TEXT


def test_font_file_comes_from_the_python_dependency() -> None:
    path = cjk_font_path()
    assert path.is_file()
    assert path.name == "NotoSansCJK-Regular.ttc"
    assert "noto_cjk_sans_otc" in path.parts


def test_every_sample_character_is_covered() -> None:
    assert missing_glyphs(ALL_TEXT) == set()


def test_missing_glyphs_detects_uncovered_characters() -> None:
    # Private-use code points are in no font's standard cmap.
    assert missing_glyphs("科普\ue000中国\U0010fffd") == {"\ue000", "\U0010fffd"}


def test_matplotlib_resolves_the_simplified_chinese_face() -> None:
    from matplotlib import font_manager

    found = font_manager.fontManager.findfont(cjk_font_properties(), fallback_to_default=False)
    assert found == str(cjk_font_path())
    assert getattr(found, "face_index", None) == cjk_face_index()
    assert font_manager.get_font(found).family_name == CJK_FAMILY


def test_pillow_loads_the_simplified_chinese_face() -> None:
    font = pil_font(40)
    assert font.getname() == (CJK_FAMILY, "Regular")
    assert font.getlength("科普中国") == 160  # full-width glyphs, one em each


def test_display_width_and_ellipsize_count_cjk_as_double() -> None:
    assert display_width("科普e站") == 7
    assert ellipsize("科普中国信息员", 9) == "科普中国…"
    assert ellipsize("short", 9) == "short"
    assert display_width(ellipsize("科普中国信息员网络站点", 12)) <= 12


def test_importing_the_package_loads_no_heavy_library() -> None:
    code = (
        "import sys, bot.reports, bot.reports.chart, bot.reports.xlsx, bot.reports.poster;"
        "heavy = {'matplotlib', 'openpyxl', 'numpy'};"
        "print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
