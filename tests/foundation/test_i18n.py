"""Every user-facing message is in the zh_CN catalogue, with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

from bot.i18n import LOCALES_DIR, compile_catalogs, get_translator, normalize_locale
from bot.i18n_extract import extract_messages

PLACEHOLDER = re.compile(r"{(\w*)}")


def catalogue_entries(locale: str) -> dict[str, list[tuple[Path, str]]]:
    entries: dict[str, list[tuple[Path, str]]] = {}
    for po in sorted((LOCALES_DIR / locale / "LC_MESSAGES").glob("*.po")):
        with po.open("rb") as fh:
            for message in read_po(fh, locale=locale):
                if message.id and isinstance(message.id, str):
                    text = message.string if isinstance(message.string, str) else ""
                    entries.setdefault(message.id, []).append((po, text))
    return entries


def test_every_message_has_a_chinese_translation() -> None:
    entries = catalogue_entries("zh_CN")
    used = extract_messages()
    missing = [
        f"{where[0]}: {msgid!r}"
        for msgid, where in used.items()
        if isinstance(msgid, str) and not any(text for _, text in entries.get(msgid, []))
    ]
    assert not missing, "untranslated (run tools/i18n_missing.py):\n" + "\n".join(missing)


def test_translations_keep_placeholders_and_agree_across_files() -> None:
    for msgid, found in catalogue_entries("zh_CN").items():
        expected = sorted(PLACEHOLDER.findall(msgid))
        texts = {text for _, text in found if text}
        assert len(texts) <= 1, f"{msgid!r} is translated differently in {found}"
        for text in texts:
            assert sorted(PLACEHOLDER.findall(text)) == expected, (msgid, text)


def test_catalogues_compile_and_translate() -> None:
    written = compile_catalogs()
    assert written and all(path.exists() for path in written)
    zh, en = get_translator("zh_CN"), get_translator("en")
    assert zh("Nothing to cancel.") == "当前没有可取消的操作。"
    assert en("Nothing to cancel.") == "Nothing to cancel."
    assert zh.number(1234567) == "1,234,567"


def test_locale_from_telegram_language_code() -> None:
    assert normalize_locale("zh-hans") == "zh_CN"
    assert normalize_locale("zh-TW") == "zh_CN"
    assert normalize_locale("en-US") == "en"
    assert normalize_locale("ru") == "zh_CN"
    assert normalize_locale(None, "en") == "en"
