"""Cutting text to Telegram's limits: measured as Telegram does, never breaking the HTML."""

from __future__ import annotations

import html

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.text_fit import CAPTION_LIMIT, TEXT_LIMIT, fit_text, utf16_length, visible_length
from bot.sandbox.markup import check_text, shown_text

TAGS = ("b", "i", "u", "s", "code", "pre", "tg-spoiler", "blockquote")
# Any characters, emoji outside the BMP and markup characters that need escaping included.
CHARS = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)) | st.sampled_from("<>&\"'😀中 \n"),
    max_size=300,
)


@st.composite
def html_texts(draw: st.DrawFn, depth: int = 0) -> str:
    """Build escaped user text wrapped in Telegram's tags, nested a few levels."""
    parts = []
    for _ in range(draw(st.integers(0, 6))):
        if depth < 3 and draw(st.booleans()):
            inner = draw(html_texts(depth + 1))
            if draw(st.booleans()):
                parts.append(
                    f'<a href="https://e.example/?q={html.escape(inner[:5])}">{inner}</a>'
                )
            else:
                tag = draw(st.sampled_from(TAGS))
                parts.append(f"<{tag}>{inner}</{tag}>")
        else:
            parts.append(html.escape(draw(CHARS), quote=False))
    return "".join(parts)


def shown_length(text: str, parse_mode: str | None = "HTML") -> int:
    """Measure with the sandbox's own parser, not the one under test."""
    return utf16_length(shown_text(text, parse_mode))


@settings(max_examples=300, deadline=None)
@given(text=html_texts(), limit=st.integers(1, 600))
def test_any_html_fits_and_stays_valid(text: str, limit: int) -> None:
    fitted = fit_text(text, limit)
    assert shown_length(fitted) <= limit
    check_text(fitted + "x", "HTML")  # the sandbox raises on tags Telegram would refuse
    if shown_length(text) <= limit:
        assert fitted == text
    else:
        assert fitted.endswith("…")
        # What is kept is the beginning of what was shown.
        assert shown_text(text, "HTML").startswith(shown_text(fitted, "HTML")[:-1].rstrip())


@settings(max_examples=200, deadline=None)
@given(text=CHARS, limit=st.integers(1, 200))
def test_plain_text_fits_in_utf16_units(text: str, limit: int) -> None:
    fitted = fit_text(text, limit, is_html=False)
    assert utf16_length(fitted) <= limit
    assert fitted == text or text.startswith(fitted[:-1])


def test_entities_and_tags_do_not_count_emoji_count_twice() -> None:
    assert visible_length("<b>a&amp;b</b> &lt;c&gt; &#128512;") == 10
    assert visible_length("😀" * 3) == 6
    assert visible_length("<b>", is_html=False) == 3


def test_cut_never_splits_an_entity_or_a_surrogate_pair() -> None:
    fitted = fit_text("&amp;" * 10, 5)
    assert fitted == "&amp;" * 4 + "…"
    fitted = fit_text("😀" * 10, 6)
    assert fitted == "😀😀…"  # 2 + 2 + 1 units; a third emoji would need 2 more


def test_open_tags_are_closed_and_empty_ones_dropped() -> None:
    text = "<b>" + "x" * 20 + "</b><i>" + "y" * 20 + "</i>"
    assert fit_text(text, 10) == "<b>" + "x" * 9 + "</b>…"
    assert fit_text(text, 25) == "<b>" + "x" * 20 + "</b><i>yyyy</i>…"
    assert fit_text("<b>" + "x" * 10 + '</b><a href="https://e.example">yy</a>', 11) == (
        "<b>" + "x" * 10 + "</b>…"
    )


def test_limits_are_telegrams() -> None:
    long = "<b>" + "字" * 5000 + "</b>"
    assert visible_length(fit_text(long)) == TEXT_LIMIT
    assert visible_length(fit_text(long, CAPTION_LIMIT)) == CAPTION_LIMIT
    # Markup does not count: 4,096 visible characters pass untouched however long the HTML.
    tagged = "<b>a</b>" * TEXT_LIMIT
    assert fit_text(tagged) == tagged
