"""List message ids used in the code that a locale's catalogues do not translate.

Usage: python tools/i18n_missing.py [zh_CN] — prints .po entries ready to paste.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.i18n import catalog_messages  # noqa: E402
from bot.i18n_extract import extract_messages  # noqa: E402


def main() -> int:
    locale = sys.argv[1] if len(sys.argv) > 1 else "zh_CN"
    known = catalog_messages(locale)
    missing = 0
    for msgid, where in sorted(extract_messages().items(), key=lambda kv: kv[1][0]):
        if not known.get(msgid if isinstance(msgid, str) else msgid[0]):
            missing += 1
            first = where[0]
            print(f"#: {first}")
            if isinstance(msgid, tuple):
                print(f"msgid {quote(msgid[0])}\nmsgid_plural {quote(msgid[1])}")
                print('msgstr[0] ""\n')
            else:
                print(f'msgid {quote(msgid)}\nmsgstr ""\n')
    print(f"# {missing} missing", file=sys.stderr)
    return 1 if missing else 0


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


if __name__ == "__main__":
    raise SystemExit(main())
