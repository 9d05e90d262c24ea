"""Typed callback data: a frozen dataclass per button family, ``PREFIX:field:field`` on the wire.

Like aiogram's ``CallbackData`` factories: a subclass names its fixed prefix and declares
typed fields (``int``, ``str`` or a ``Literal`` choice set); ``encode`` builds the string a
button carries and ``decode`` reads one back, returning None for anything malformed, so a
forged or outdated button can never raise in a handler. Families that share a prefix
(``REV:ok:7``, ``REV:today:0``) are grouped in a ``Family`` that gives the handler's pattern.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import (
    Any,
    ClassVar,
    Generic,
    Literal,
    Self,
    TypeVar,
    get_args,
    get_origin,
    get_type_hints,
)

MAX_BYTES = 64  # Telegram's limit on callback_data
SEPARATOR = ":"
INT_MAX = 2**31 - 1  # ids are 32-bit columns on PostgreSQL; larger never came from us
_INT = re.compile(r"0|[1-9][0-9]{0,9}")

Parser = Callable[[str], Any]
Formatter = Callable[[Any], str]


def prefix_pattern(prefix: str) -> str:
    """Return a regex matching data that starts with ``prefix`` as a whole segment."""
    return rf"^{re.escape(prefix)}(?:{SEPARATOR}|$)"


def _parse_int(text: str) -> int | None:
    if _INT.fullmatch(text) is None or int(text) > INT_MAX:
        return None
    return int(text)


def _format_int(value: Any) -> str:
    if type(value) is not int or not 0 <= value <= INT_MAX:
        raise ValueError(f"not a callback int: {value!r}")
    return str(value)


def _parse_str(text: str) -> str | None:
    return text or None


def _format_str(value: Any) -> str:
    if not isinstance(value, str) or not value or SEPARATOR in value:
        raise ValueError(f"not a callback string: {value!r}")
    return value


def _choice(choices: tuple[str, ...]) -> tuple[Parser, Formatter]:
    def parse(text: str) -> str | None:
        return text if text in choices else None

    def format_(value: Any) -> str:
        if value not in choices:
            raise ValueError(f"{value!r} is not one of {choices}")
        return str(value)

    return parse, format_


def _codec_of(hint: Any) -> tuple[Parser, Formatter]:
    if hint is int:
        return _parse_int, _format_int
    if hint is str:
        return _parse_str, _format_str
    if get_origin(hint) is Literal:
        choices = get_args(hint)
        if all(isinstance(c, str) and c and SEPARATOR not in c for c in choices):
            return _choice(choices)
    raise TypeError(f"unsupported callback field type: {hint!r}")


class CallbackData:
    """Base of a button family; subclass as a frozen dataclass with a ``prefix``."""

    prefix: ClassVar[str]
    pattern: ClassVar[str]  # for CallbackQueryHandler(pattern=…)
    _fields: ClassVar[tuple[tuple[str, Parser, Formatter], ...] | None]

    def __init_subclass__(cls, *, prefix: str, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not prefix or any(not part for part in prefix.split(SEPARATOR)):
            raise ValueError(f"bad callback prefix {prefix!r}")
        cls.prefix = prefix
        cls.pattern = prefix_pattern(prefix)
        cls._fields = None  # read from the dataclass on first use (it is not built yet)

    @classmethod
    def _codecs(cls) -> tuple[tuple[str, Parser, Formatter], ...]:
        if cls._fields is None:
            if not dataclasses.is_dataclass(cls):
                raise TypeError(f"{cls.__name__} must be a dataclass")
            hints = get_type_hints(cls)
            cls._fields = tuple(
                (f.name, *_codec_of(hints[f.name])) for f in dataclasses.fields(cls)
            )
        return cls._fields

    def encode(self) -> str:
        """Return the callback data string; raise ValueError if it cannot be carried."""
        parts = [self.prefix]
        parts += [fmt(getattr(self, name)) for name, _, fmt in self._codecs()]
        data = SEPARATOR.join(parts)
        if len(data.encode()) > MAX_BYTES:
            raise ValueError(f"callback data over {MAX_BYTES} bytes: {data!r}")
        return data

    @classmethod
    def decode(cls, data: str | None) -> Self | None:
        """Return the button ``data`` encodes, or None if it is not one of this family."""
        if not data or len(data.encode()) > MAX_BYTES:
            return None
        codecs = cls._codecs()
        if data == cls.prefix:
            rest: list[str] = []
        elif data.startswith(cls.prefix + SEPARATOR):
            rest = data[len(cls.prefix) + 1 :].split(SEPARATOR)
        else:
            return None
        if len(rest) != len(codecs):
            return None
        values: dict[str, Any] = {}
        for (name, parse, _), text in zip(codecs, rest, strict=True):
            value = parse(text)
            if value is None:
                return None
            values[name] = value
        return cls(**values)


T = TypeVar("T", bound=CallbackData)


class Family(Generic[T]):
    """Button families behind one handler: one prefix pattern, decode tries each in turn."""

    def __init__(self, prefix: str, *members: type[T]) -> None:
        for member in members:
            if member.prefix != prefix and not member.prefix.startswith(prefix + SEPARATOR):
                raise ValueError(f"{member.__name__} does not start with {prefix!r}")
        self.prefix = prefix
        self.members = members
        self.pattern = prefix_pattern(prefix)

    def decode(self, data: str | None) -> T | None:
        """Return the button ``data`` encodes, or None if no member reads it."""
        for member in self.members:
            button = member.decode(data)
            if button is not None:
                return button
        return None
