"""Value types shared by the sandbox emulator and its driver."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.sandbox.files import FileStore


class ApiError(Exception):
    """A Bot API error answer: `{"ok": false, "error_code": …, "description": …}`."""

    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(f"{code} {description}")
        self.code = code
        self.description = description
        self.parameters = parameters

    def payload(self) -> dict[str, Any]:
        """Return the JSON body Telegram would send."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(text: str) -> ApiError:
    """Return a 400 error with Telegram's "Bad Request: " prefix."""
    return ApiError(400, f"Bad Request: {text}")


@dataclass(frozen=True)
class Button:
    """One inline or reply keyboard button as the user sees it."""

    text: str
    callback_data: str | None = None
    url: str | None = None
    switch_inline_query: str | None = None
    switch_inline_query_current_chat: str | None = None
    switch_inline_query_chosen_chat: dict[str, Any] | None = None
    request_contact: bool = False

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Button:
        """Build a button from its Bot API dict."""
        return cls(
            text=str(data.get("text", "")),
            callback_data=data.get("callback_data"),
            url=data.get("url"),
            switch_inline_query=data.get("switch_inline_query"),
            switch_inline_query_current_chat=data.get("switch_inline_query_current_chat"),
            switch_inline_query_chosen_chat=data.get("switch_inline_query_chosen_chat"),
            request_contact=bool(data.get("request_contact", False)),
        )


@dataclass
class SimMessage:
    """A message stored in the sandbox; edits are applied to `raw` in place."""

    raw: dict[str, Any]
    files: FileStore | None = None
    parse_mode: str | None = None
    edits: list[dict[str, Any]] = field(default_factory=list)
    deleted: bool = False
    inline_message_id: str | None = None
    # Reply keyboards are not part of the Message object, yet the user sees them.
    reply_keyboard: dict[str, Any] | None = None
    by_bot: bool = False  # sent through the Bot API (channel posts carry no "from")

    @property
    def message_id(self) -> int:
        """Return the message id."""
        return int(self.raw["message_id"])

    @property
    def chat_id(self) -> int:
        """Return the id of the chat the message is in."""
        return int(self.raw["chat"]["id"])

    @property
    def from_id(self) -> int | None:
        """Return the sender's user id."""
        sender = self.raw.get("from")
        return int(sender["id"]) if sender else None

    @property
    def text(self) -> str | None:
        """Return the text as the bot sent it (HTML kept as given)."""
        return self.raw.get("text")

    @property
    def caption(self) -> str | None:
        """Return the media caption."""
        return self.raw.get("caption")

    @property
    def entities(self) -> list[dict[str, Any]]:
        """Return text or caption entities."""
        return list(self.raw.get("entities") or self.raw.get("caption_entities") or [])

    @property
    def media_group_id(self) -> str | None:
        """Return the album id."""
        return self.raw.get("media_group_id")

    @property
    def photo(self) -> str | None:
        """Return the file_id of the largest photo size."""
        sizes = self.raw.get("photo")
        return sizes[-1]["file_id"] if sizes else None

    @property
    def document(self) -> str | None:
        """Return the document file_id."""
        doc = self.raw.get("document")
        return doc["file_id"] if doc else None

    @property
    def video(self) -> str | None:
        """Return the video file_id."""
        video = self.raw.get("video")
        return video["file_id"] if video else None

    @property
    def filename(self) -> str | None:
        """Return the document's or video's file name."""
        media = self.raw.get("document") or self.raw.get("video") or {}
        return media.get("file_name")

    @property
    def reply_markup(self) -> dict[str, Any] | None:
        """Return the inline keyboard attached to the message."""
        return self.raw.get("reply_markup")

    @property
    def buttons(self) -> list[list[Button]]:
        """Return the inline keyboard as rows of buttons."""
        markup = self.raw.get("reply_markup") or {}
        return [[Button.from_dict(b) for b in row] for row in markup.get("inline_keyboard", [])]

    @property
    def keyboard(self) -> list[list[Button]]:
        """Return the reply keyboard sent with the message as rows of buttons."""
        rows = (self.reply_keyboard or {}).get("keyboard", [])
        return [
            [Button.from_dict(b if isinstance(b, dict) else {"text": b}) for b in row]
            for row in rows
        ]

    def media_bytes(self) -> bytes | None:
        """Return the content of the photo, video or document."""
        file_id = self.photo or self.video or self.document
        if file_id is None or self.files is None:
            return None
        stored = self.files.get(file_id)
        return stored.data if stored else None

    def document_bytes(self) -> bytes | None:
        """Return the content of the document."""
        if self.document is None or self.files is None:
            return None
        stored = self.files.get(self.document)
        return stored.data if stored else None

    def __repr__(self) -> str:
        body = self.text if self.text is not None else self.caption
        return f"SimMessage(chat={self.chat_id}, id={self.message_id}, {body!r})"


@dataclass
class Stats:
    """Counters of everything the emulator received and did."""

    calls: Counter[str] = field(default_factory=Counter)
    sent_messages: int = 0
    rate_limited: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    updates_created: int = 0
    updates_delivered: int = 0
    errors: Counter[int] = field(default_factory=Counter)
    paid_messages: int = 0  # accepted sends with allow_paid_broadcast
    paid_refused: int = 0  # paid sends refused for want of Stars
    stars_spent_nanos: int = 0

    @property
    def requests(self) -> int:
        """Return the total number of API requests."""
        return sum(self.calls.values())

    def as_dict(self) -> dict[str, Any]:
        """Return the counters as plain values."""
        return {
            "calls": dict(self.calls),
            "requests": self.requests,
            "sent_messages": self.sent_messages,
            "rate_limited": self.rate_limited,
            "faults": dict(self.faults),
            "updates_created": self.updates_created,
            "updates_delivered": self.updates_delivered,
            "paid_messages": self.paid_messages,
            "paid_refused": self.paid_refused,
            "stars_spent": self.stars_spent_nanos / 1_000_000_000,
            "errors": dict(self.errors),
        }
