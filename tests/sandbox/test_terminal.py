"""What `kepubot chat` shows: Telegram HTML as terminal text, and user text as the apps send it."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.sandbox.terminal import render_html
from bot.sandbox.world import USER_TEXT_LIMIT, client_texts, valid_unicode

HTML = (
    "<b>粗体</b> <i>斜体</i> <u>下划线</u> <s>删除</s> <code>x=1</code> &lt;原样&gt; "
    '<a href="https://kepu.example/a">链接</a> <a href="https://t.me/x">https://t.me/x</a>'
    "<blockquote>第一行\n第二行</blockquote>之后 <tg-spoiler>剧透</tg-spoiler>"
    '<span class="tg-spoiler">也是剧透</span>'
)


def test_plain_rendering_drops_tags_and_keeps_the_text() -> None:
    text = render_html(HTML, ansi=False)
    assert "<" not in text.replace("<原样>", "")
    assert "粗体 斜体 下划线 删除 x=1 <原样> 链接 (https://kepu.example/a) https://t.me/x" in text
    assert "(https://t.me/x)" not in text  # a link showing its own address is not repeated
    assert "│ 第一行\n│ 第二行\n之后 剧透也是剧透" in text
    assert "\x1b[" not in text


def test_ansi_rendering_styles_each_tag() -> None:
    text = render_html(HTML, ansi=True)
    for code, word in (
        ("1", "粗体"),
        ("3", "斜体"),
        ("4", "下划线"),
        ("9", "删除"),
        ("36", "x=1"),
        ("4;34", "链接"),
        ("7", "剧透"),
        ("7", "也是剧透"),
    ):
        assert f"\x1b[{code}m{word}\x1b[0m" in text, word
    assert text.endswith("\x1b[0m")


def test_broken_html_never_raises() -> None:
    assert render_html("<b>没有闭合 <i>标签", ansi=False) == "没有闭合 标签"
    assert render_html("</b>多余的结束标签", ansi=True).endswith("多余的结束标签")


def test_long_text_is_split_like_the_apps_do() -> None:
    parts = client_texts("长" * 5000)
    assert [len(p) for p in parts] == [4096, 904]
    emoji = client_texts("😀" * 2100)  # two UTF-16 units each
    assert [len(p) for p in emoji] == [2048, 52]
    assert client_texts("") == [""]


def test_lone_surrogates_become_replacement_characters() -> None:
    assert valid_unicode("a\udcffb") == "a\ufffdb"
    assert valid_unicode("\ud83d\ude00") == "😀"  # a pair is one character
    "".join(client_texts("x\ud800" * 3000)).encode("utf-8")  # always encodable


@given(st.text(alphabet=st.characters(), max_size=9000))
def test_every_part_fits_and_nothing_is_lost(text: str) -> None:
    parts = client_texts(text)
    assert "".join(parts) == valid_unicode(text)
    for part in parts:
        part.encode("utf-8")
        assert len(part.encode("utf-16-le")) // 2 <= USER_TEXT_LIMIT
