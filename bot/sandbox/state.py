"""Mutable world state of the sandbox: chats, messages, the update queue."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.sandbox.files import UPLOAD_LIMIT, FileStore
from bot.sandbox.models import ApiError, SimMessage, Stats, bad_request

NANOS_PER_STAR = 1_000_000_000
PAID_MESSAGE_NANOS = 100_000_000  # 0.1 Stars per message sent with allow_paid_broadcast
# Telegram's answer when the balance cannot pay a paid send is not documented; this is
# MTProto's error name for a balance too low, as the Bot API passes such names on. A guess:
# docs/reach.md says so, and the bot recognises any answer naming the balance.
BALANCE_TOO_LOW = "Bad Request: BALANCE_TOO_LOW"
# Update types real Telegram leaves out when allowed_updates is not given.
DEFAULT_EXCLUDED = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
ADMIN_RIGHTS: dict[str, bool] = {
    "can_be_edited": False,
    "is_anonymous": False,
    "can_manage_chat": True,
    "can_delete_messages": True,
    "can_manage_video_chats": True,
    "can_restrict_members": True,
    "can_promote_members": False,
    "can_change_info": True,
    "can_invite_users": True,
    "can_post_stories": False,
    "can_edit_stories": False,
    "can_delete_stories": False,
    "can_pin_messages": True,
}
# A channel administrator's rights (Bot API ChatMemberAdministrator: channels have
# can_post_messages / can_edit_messages, and no can_pin_messages).
CHANNEL_ADMIN_RIGHTS: dict[str, bool] = {
    key: value for key, value in ADMIN_RIGHTS.items() if key != "can_pin_messages"
} | {"can_restrict_members": False, "can_edit_messages": True}


@dataclass
class ChatState:
    """One chat as the emulator knows it."""

    id: int
    type: str
    title: str | None = None
    user: dict[str, Any] | None = None  # the other party of a private chat
    username: str | None = None
    member_ids: list[int] = field(default_factory=list)
    extra_members: int = 0
    bot_status: str = "left"  # member | administrator | left | kicked
    started: bool = False  # private: the user has written to the bot at least once
    messages: dict[int, SimMessage] = field(default_factory=dict)
    next_message_id: int = 1
    menu_button: dict[str, Any] | None = None
    can_post: bool = True  # channels: the bot administrator may post messages
    owner_id: int | None = None  # channels: the creator (getChatMember says "creator")
    invite_links: list[str] = field(default_factory=list)

    @property
    def is_group(self) -> bool:
        """Tell whether this is a group or supergroup."""
        return self.type in ("group", "supergroup")

    @property
    def is_channel(self) -> bool:
        """Tell whether this is a channel."""
        return self.type == "channel"

    def as_dict(self) -> dict[str, Any]:
        """Return the Chat object embedded in messages."""
        data: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.is_group or self.is_channel:
            data["title"] = self.title or ""
        elif self.user is not None:
            for key in ("first_name", "last_name", "username"):
                if self.user.get(key):
                    data[key] = self.user[key]
        if self.username and (self.is_group or self.is_channel):
            data["username"] = self.username
        return data

    def bot_in_chat(self) -> bool:
        """Tell whether the bot is a member of this group."""
        return self.bot_status in ("member", "administrator")


@dataclass
class WebhookState:
    """The webhook settings from setWebhook."""

    url: str = ""
    secret_token: str | None = None
    max_connections: int = 40
    allowed_updates: list[str] | None = None
    last_error_date: int | None = None
    last_error_message: str | None = None


class World:
    """All emulator state plus the condition every waiter sleeps on."""

    def __init__(self, token: str, bot_username: str, bot_first_name: str) -> None:
        self.token = token
        self.bot_user: dict[str, Any] = {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self.privacy_mode = False
        self.inline_feedback = True
        self.files = FileStore()
        self.upload_limit = UPLOAD_LIMIT  # bytes per uploaded file (tests may lower it)
        self.stats = Stats()
        self.chats: dict[int, ChatState] = {}
        self.users: dict[int, dict[str, Any]] = {}
        self.inline_messages: dict[str, SimMessage] = {}
        self.callback_answers: dict[str, dict[str, Any]] = {}
        self.inline_answers: dict[str, dict[str, Any]] = {}
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.webhook = WebhookState()
        self.poll_allowed: list[str] | None = None
        self.updates: deque[dict[str, Any]] = deque()
        self.next_update_id = 1
        self.fetched_upto = 0  # highest update_id handed to the bot or dropped
        self.poll_generation = 0
        self.closing = False  # the server is stopping: pending long polls answer at once
        self.inflight = 0  # API requests being served, long polls excluded
        self.last_activity = time.monotonic()
        self.changed = asyncio.Condition()
        # Paid broadcasts: the bot's Stars balance in nanostars (as getMyStarBalance gives
        # it: amount + nanostar_amount) and the price of one paid message.
        self.star_nanos = 0
        self.paid_price_nanos = PAID_MESSAGE_NANOS
        self._counter = 0

    # --- notification -----------------------------------------------------------------
    async def notify(self) -> None:
        """Wake every waiter so it re-checks its predicate."""
        self.last_activity = time.monotonic()
        async with self.changed:
            self.changed.notify_all()

    async def wait_for(self, predicate: Callable[[], Any], timeout: float | None) -> Any:  # noqa: ASYNC109
        """Wait until `predicate()` is truthy and return it; raise TimeoutError."""
        async with self.changed:
            return await asyncio.wait_for(self.changed.wait_for(predicate), timeout)

    # --- Stars and paid broadcasts ------------------------------------------------------
    @property
    def stars(self) -> float:
        """Return the bot's Stars balance."""
        return self.star_nanos / NANOS_PER_STAR

    def set_stars(self, stars: float) -> None:
        """Set the bot's Stars balance (tests, ``kepubot sandbox --stars``)."""
        self.star_nanos = round(stars * NANOS_PER_STAR)

    def check_paid(self, cost: int = 1) -> None:
        """Answer 400 if the balance cannot pay ``cost`` paid messages."""
        if self.star_nanos < cost * self.paid_price_nanos:
            self.stats.paid_refused += 1
            raise ApiError(400, BALANCE_TOO_LOW)

    def charge_paid(self, cost: int = 1) -> None:
        """Take the price of ``cost`` accepted paid messages from the balance."""
        self.star_nanos -= cost * self.paid_price_nanos
        self.stats.paid_messages += cost
        self.stats.stars_spent_nanos += cost * self.paid_price_nanos

    def next_id(self) -> int:
        """Return a fresh number for query and inline message ids."""
        self._counter += 1
        return self._counter

    # --- chats and messages ----------------------------------------------------------
    def chat(self, chat_id: Any) -> ChatState:
        """Return a chat by id or @username, or raise "chat not found"."""
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            for chat in self.chats.values():
                if chat.username and chat.username.lower() == chat_id[1:].lower():
                    return chat
                if chat.user and (chat.user.get("username") or "").lower() == chat_id[1:]:
                    return chat
            raise bad_request("chat not found")
        try:
            key = int(chat_id)
        except (TypeError, ValueError):
            raise bad_request("chat not found") from None
        found = self.chats.get(key)
        if found is None:
            raise bad_request("chat not found")
        return found

    def writable_chat(self, chat_id: Any) -> ChatState:
        """Return a chat the bot may post into, or raise the error Telegram gives."""
        chat = self.chat(chat_id)
        if chat.type == "private":
            if chat.bot_status == "kicked":
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            if not chat.started:
                raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        elif chat.is_channel and chat.bot_status != "administrator":
            raise ApiError(403, "Forbidden: bot is not a member of the channel chat")
        elif chat.is_channel and not chat.can_post:
            raise bad_request("need administrator rights in the channel chat")
        elif chat.bot_status == "kicked":
            raise ApiError(403, f"Forbidden: bot was kicked from the {chat.type} chat")
        elif chat.bot_status == "left":
            raise ApiError(403, f"Forbidden: bot is not a member of the {chat.type} chat")
        return chat

    def add_message(
        self, chat: ChatState, sender: dict[str, Any], content: dict[str, Any]
    ) -> SimMessage:
        """Store a new message in `chat` and return it."""
        raw: dict[str, Any] = {
            "message_id": chat.next_message_id,
            "date": int(time.time()),
            "chat": chat.as_dict(),
            "from": dict(sender),
        }
        if chat.is_channel:  # channel posts are signed by the channel, not by a user
            raw.pop("from")
            raw["sender_chat"] = chat.as_dict()
        raw.update(content)
        chat.next_message_id += 1
        msg = SimMessage(raw=raw, files=self.files)
        chat.messages[msg.message_id] = msg
        return msg

    def message(self, chat_id: Any, message_id: Any) -> SimMessage | None:
        """Return a live message or None."""
        try:
            chat = self.chat(chat_id)
            msg = chat.messages.get(int(message_id))
        except (ApiError, TypeError, ValueError):
            return None
        return None if msg is None or msg.deleted else msg

    def is_bot_message(self, msg: SimMessage) -> bool:
        """Tell whether the bot wrote the message, directly or inline."""
        via = msg.raw.get("via_bot")
        return (
            msg.by_bot
            or msg.from_id == self.bot_user["id"]
            or (via is not None and via.get("id") == self.bot_user["id"])
        )

    def bot_sees(self, chat: ChatState, raw: dict[str, Any]) -> bool:
        """Tell whether a user message in `chat` reaches the bot, honouring privacy mode."""
        if chat.type == "private":
            return True
        if not chat.bot_in_chat():
            return False
        if chat.is_channel:  # a channel admin bot gets every post
            return chat.bot_status == "administrator"
        if not self.privacy_mode or chat.bot_status == "administrator":
            return True
        # Privacy mode still lets through commands, replies to the bot and its inline posts.
        text = raw.get("text") or ""
        reply = raw.get("reply_to_message") or {}
        via = raw.get("via_bot") or {}
        return (
            text.startswith("/")
            or (reply.get("from") or {}).get("id") == self.bot_user["id"]
            or via.get("id") == self.bot_user["id"]
        )

    def member_count(self, chat: ChatState) -> int:
        """Return what getChatMemberCount answers."""
        if chat.type == "private":
            return 2
        return len(chat.member_ids) + chat.extra_members + (1 if chat.bot_in_chat() else 0)

    def member_dict(self, chat: ChatState, user_id: int) -> dict[str, Any]:
        """Return the ChatMember object of a user in a chat."""
        if user_id == self.bot_user["id"]:
            if chat.is_channel:
                return channel_bot_member(self.bot_user, chat)
            return bot_member(self.bot_user, chat.bot_status if chat.is_group else "member")
        user = self.users.get(user_id)
        if user is None:
            raise bad_request("user not found")
        if chat.type == "private":
            status = "member" if chat.user and chat.user["id"] == user_id else "left"
        elif chat.is_channel and chat.owner_id == user_id:
            return {"status": "creator", "user": dict(user), "is_anonymous": False}
        else:
            status = "member" if user_id in chat.member_ids else "left"
        return {"status": status, "user": dict(user)}

    # --- updates ---------------------------------------------------------------------
    async def push_update(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Queue an update for the bot and return it."""
        (update,) = self._enqueue(kind, [payload])
        await self.notify()
        return update

    async def push_updates(self, kind: str, payloads: list[dict[str, Any]]) -> int:
        """Queue many updates at once (a backlog, as after downtime); return the last id."""
        updates = self._enqueue(kind, payloads)
        await self.notify()
        return int(updates[-1]["update_id"]) if updates else self.next_update_id - 1

    def _enqueue(self, kind: str, payloads: list[dict[str, Any]]) -> list[dict[str, Any]]:
        updates = []
        for payload in payloads:
            updates.append({"update_id": self.next_update_id, kind: payload})
            self.next_update_id += 1
        self.updates.extend(updates)
        self.stats.updates_created += len(updates)
        return updates

    def allowed(self, update: dict[str, Any], allowed: list[str] | None) -> bool:
        """Tell whether an update passes an allowed_updates filter."""
        kind = next(k for k in update if k != "update_id")
        if not allowed:
            return kind not in DEFAULT_EXCLUDED
        return kind in allowed

    def confirm(self, offset: int) -> None:
        """Forget updates before `offset`; a negative offset keeps that many from the end."""
        if offset < 0:
            while len(self.updates) > -offset:
                self.updates.popleft()
        else:
            while self.updates and self.updates[0]["update_id"] < offset:
                self.updates.popleft()

    def take(self, limit: int, allowed: list[str] | None) -> list[dict[str, Any]]:
        """Return up to `limit` pending updates, dropping those not allowed before them.

        Looks at no more of the queue than it must (a long queue costs nothing per poll);
        updates of other types further on are dropped when a later poll reaches them.
        """
        batch: list[dict[str, Any]] = []
        updates = self.updates
        while updates and len(batch) < limit:
            update = updates.popleft()
            if self.allowed(update, allowed):
                batch.append(update)
            else:  # Telegram discards updates of types the bot did not ask for
                self.fetched_upto = max(self.fetched_upto, update["update_id"])
        updates.extendleft(reversed(batch))  # still pending until the offset confirms them
        if batch:
            self.fetched_upto = max(self.fetched_upto, batch[-1]["update_id"])
            self.stats.updates_delivered += len(batch)
        return batch

    def all_fetched(self) -> bool:
        """Tell whether the bot has received every queued update at least once."""
        return self.fetched_upto >= self.next_update_id - 1 or not self.updates


def bot_member(bot_user: dict[str, Any], status: str) -> dict[str, Any]:
    """Return the ChatMember object of the bot with `status`."""
    data: dict[str, Any] = {"status": status, "user": dict(bot_user)}
    if status == "administrator":
        data.update(ADMIN_RIGHTS)
    elif status == "kicked":
        data["until_date"] = 0
    return data


def channel_bot_member(bot_user: dict[str, Any], chat: ChatState) -> dict[str, Any]:
    """Return the bot's ChatMember in a channel: an administrator with channel rights, or left."""
    if chat.bot_status != "administrator":
        return {
            "status": "left" if chat.bot_status != "kicked" else "kicked",
            "user": dict(bot_user),
        }
    data: dict[str, Any] = {"status": "administrator", "user": dict(bot_user)}
    data.update(CHANNEL_ADMIN_RIGHTS)
    data["can_post_messages"] = chat.can_post
    return data
