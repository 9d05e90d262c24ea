"""Typed access to Bot API parameters sent as JSON, form fields or multipart."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.sandbox.models import bad_request


@dataclass(frozen=True)
class Upload:
    """One file part of a multipart request."""

    data: bytes
    filename: str | None
    content_type: str | None


class Params:
    """Request parameters; form values are strings, so getters decode them."""

    def __init__(self, values: dict[str, Any], uploads: dict[str, Upload] | None = None):
        self.values = values
        self.uploads = uploads or {}

    def has(self, name: str) -> bool:
        """Tell whether a parameter was given."""
        return self.values.get(name) not in (None, "") or name in self.uploads

    def raw(self, name: str) -> Any:
        """Return the value as sent."""
        return self.values.get(name)

    def string(self, name: str, default: str | None = None) -> str | None:
        """Return a string parameter."""
        value = self.values.get(name)
        return default if value is None else str(value)

    def integer(self, name: str, default: int | None = None) -> int | None:
        """Return an integer parameter, 400 if malformed."""
        value = self.values.get(name)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def number(self, name: str) -> float:
        """Return a required float parameter."""
        try:
            return float(self.values[name])
        except (KeyError, TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def flag(self, name: str, default: bool = False) -> bool:
        """Return a boolean parameter sent as JSON or as a form string."""
        value = self.values.get(name)
        if value is None:
            return default
        if isinstance(value, str):
            return value.strip().lower() in ("true", "1", "yes")
        return bool(value)

    def json(self, name: str) -> Any:
        """Return a nested object; form transports send it JSON-encoded as a string."""
        value = self.values.get(name)
        if isinstance(value, str):
            if value == "":
                return None
            try:
                return json.loads(value)
            except ValueError:
                raise bad_request(f"can't parse {name} JSON object") from None
        return value

    def required(self, name: str) -> Any:
        """Return a parameter that must be present."""
        value = self.values.get(name)
        if value is None and name not in self.uploads:
            raise bad_request(f"{name} is empty" if name == "text" else f"{name} required")
        return value

    def chat_id(self) -> Any:
        """Return the chat_id parameter as int or @username."""
        value = self.values.get("chat_id")
        if value is None or value == "":
            raise bad_request("chat_id is empty")
        if isinstance(value, str) and value.startswith("@"):
            return value
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request("chat not found") from None
