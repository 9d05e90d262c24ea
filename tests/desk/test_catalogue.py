"""Every message of the desk's templates and modules is in both catalogues."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir

import bot.desk
from bot.i18n import catalog_messages

DESK = Path(bot.desk.__file__).parent
KEYWORDS = {"_": None, "t": None, "tr": None, "N_": None}


def desk_messages() -> dict[str, str]:
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        DESK,
        method_map=[("templates/**.html", "jinja2.ext:babel_extract"), ("**.py", "python")],
        keywords=KEYWORDS,
    ):
        text = message if isinstance(message, str) else message[0]
        if text:
            found.setdefault(text, f"{filename}:{lineno}")
    return found


def test_every_desk_message_is_translated() -> None:
    used = desk_messages()
    assert len(used) > 100  # templates are read, not only the Python modules
    zh, en = catalog_messages("zh_CN"), catalog_messages("en")
    # zh_CN: always a translation. English falls back to the msgid, except the desk's own
    # prefixed msgids ("desk: …"), which need their English text.
    missing = [
        f"{where}: {m!r}"
        for m, where in used.items()
        if not zh.get(m) or (m.startswith("desk") and not en.get(m))
    ]
    assert not missing, "untranslated:\n" + "\n".join(missing)


def test_english_drops_the_desk_prefixes() -> None:
    english = catalog_messages("en")
    prefixed = [m for m in desk_messages() if m.startswith("desk")]
    assert prefixed
    assert not [m for m in prefixed if english[m].startswith("desk")]
