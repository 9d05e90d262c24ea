"""Renderers for charts, spreadsheets and posters; plain values in, bytes out.

Submodules import matplotlib, Pillow, openpyxl and segno lazily, inside the functions
that need them, so importing this package costs nothing.
"""

from bot.reports.chart import ChartSeries, WeeklyChartData, render_weekly_chart
from bot.reports.fonts import cjk_font_path, cjk_font_properties, missing_glyphs, pil_font
from bot.reports.poster import render_invite_poster
from bot.reports.xlsx import Column, Sheet, write_table_xlsx

__all__ = [
    "ChartSeries",
    "Column",
    "Sheet",
    "WeeklyChartData",
    "cjk_font_path",
    "cjk_font_properties",
    "missing_glyphs",
    "pil_font",
    "render_invite_poster",
    "render_weekly_chart",
    "write_table_xlsx",
]
