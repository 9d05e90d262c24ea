"""Simulated users and groups that drive the sandbox the way Telegram clients would."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.sandbox.models import Button, SimMessage
from bot.sandbox.state import ChatState, bot_member, channel_bot_member

if TYPE_CHECKING:
    from bot.sandbox.sandbox import Sandbox

Predicate = Callable[[SimMessage], bool]


def _read(data: bytes | Path | str) -> bytes:
    """Return bytes from raw bytes or a file path."""
    return data if isinstance(data, bytes) else Path(data).read_bytes()


def _utf16_len(text: str) -> int:
    """Return the length Telegram uses for entity offsets."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def valid_unicode(text: str) -> str:
    """Return ``text`` with lone surrogates replaced by U+FFFD (pairs are joined)."""
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


USER_TEXT_LIMIT = 4096  # UTF-16 units per message; the apps split longer text


def client_texts(text: str) -> list[str]:
    """Return the messages a Telegram app sends for typed ``text``.

    The apps send valid UTF-8 only (a lone surrogate, e.g. from a paste cut in the middle
    of a character, becomes U+FFFD) and split text longer than 4096 UTF-16 units into
    several messages.
    """
    clean = valid_unicode(text)
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for char in clean:
        width = 2 if ord(char) > 0xFFFF else 1
        if size + width > USER_TEXT_LIMIT:
            parts.append("".join(current))
            current, size = [], 0
        current.append(char)
        size += width
    parts.append("".join(current))
    return parts


# InlineQuery.chat_type as the Bot API sends it (None: absent, e.g. from a secret chat).
INLINE_CHAT_TYPES: tuple[str | None, ...] = (
    "sender",
    "private",
    "group",
    "supergroup",
    "channel",
    None,
)


class SimChat:
    """What any chat offers a test: the bot's messages and waiting for new ones."""

    def __init__(self, sandbox: Sandbox, chat: ChatState) -> None:
        self.sb = sandbox
        self.chat = chat
        self._seen: set[int] = set()

    @property
    def id(self) -> int:
        """Return the chat id."""
        return self.chat.id

    @property
    def messages(self) -> list[SimMessage]:
        """Return messages the bot wrote here (directly or inline), deleted ones included."""
        return [m for m in self.chat.messages.values() if self.sb.world.is_bot_message(m)]

    @property
    def history(self) -> list[SimMessage]:
        """Return every message of the chat, users' included."""
        return list(self.chat.messages.values())

    def mark_seen(self) -> None:
        """Make wait_for_message ignore every message sent so far."""
        self._seen.update(m.message_id for m in self.messages)

    async def wait_for_message(
        self,
        timeout: float = 5.0,  # noqa: ASYNC109
        predicate: Predicate | None = None,
    ) -> SimMessage:
        """Return the oldest bot message not returned before (and matching `predicate`)."""

        def find() -> SimMessage | None:
            for msg in self.messages:
                if msg.message_id in self._seen or msg.deleted:
                    continue
                if predicate is None or predicate(msg):
                    return msg
            return None

        try:
            msg: SimMessage = await self.sb.world.wait_for(find, timeout)
        except TimeoutError:
            recent = [repr(m) for m in self.messages[-3:]]
            raise TimeoutError(
                f"no new bot message in chat {self.id} within {timeout}s; last: {recent}"
            ) from None
        self._seen.add(msg.message_id)
        return msg


class SimGroup(SimChat):
    """A group or supergroup with simulated members."""

    def __init__(self, sandbox: Sandbox, chat: ChatState) -> None:
        super().__init__(sandbox, chat)

    @property
    def title(self) -> str:
        """Return the group title."""
        return self.chat.title or ""

    @property
    def bot_status(self) -> str:
        """Return the bot's membership status here."""
        return self.chat.bot_status

    def add_member(self, user: SimUser) -> None:
        """Add a user to the member list (no service message is emitted)."""
        if user.id not in self.chat.member_ids:
            self.chat.member_ids.append(user.id)

    def remove_member(self, user: SimUser) -> None:
        """Remove a user from the member list."""
        if user.id in self.chat.member_ids:
            self.chat.member_ids.remove(user.id)


class SimChannel(SimChat):
    """A channel: subscribers read it, its owner posts, the bot posts when an admin."""

    @property
    def title(self) -> str:
        """Return the channel title."""
        return self.chat.title or ""

    @property
    def subscribers(self) -> int:
        """Return what getChatMemberCount answers."""
        return self.sb.world.member_count(self.chat)

    def subscribe(self, user: SimUser) -> None:
        """Add a subscriber."""
        if user.id not in self.chat.member_ids:
            self.chat.member_ids.append(user.id)

    async def set_bot_admin(
        self, admin: bool = True, *, can_post: bool = True, by: SimUser | None = None
    ) -> dict[str, Any]:
        """Make the bot an administrator of the channel (or remove it); emit my_chat_member."""
        world = self.sb.world
        old = channel_bot_member(world.bot_user, self.chat)
        self.chat.bot_status = "administrator" if admin else "left"
        self.chat.can_post = can_post
        sender = by.user if by is not None else world.users.get(self.chat.owner_id or 0)
        return await world.push_update(
            "my_chat_member",
            {
                "chat": self.chat.as_dict(),
                "from": dict(sender or world.bot_user),
                "date": int(time.time()),
                "old_chat_member": old,
                "new_chat_member": channel_bot_member(world.bot_user, self.chat),
            },
        )

    async def post(self, text: str) -> SimMessage:
        """Post a message as the channel (its owner); the bot gets channel_post if an admin."""
        world = self.sb.world
        msg = world.add_message(self.chat, world.bot_user, {"text": text})
        if world.bot_sees(self.chat, msg.raw):
            await world.push_update("channel_post", copy.deepcopy(msg.raw))
        else:
            await world.notify()
        return msg

    @property
    def posts(self) -> list[SimMessage]:
        """Return every post of the channel, the bot's and the owner's."""
        return list(self.chat.messages.values())


class SimUser(SimChat):
    """A Telegram user; its SimChat side is the private chat with the bot."""

    def __init__(self, sandbox: Sandbox, user: dict[str, Any], chat: ChatState) -> None:
        super().__init__(sandbox, chat)
        self.user = user

    @property
    def first_name(self) -> str:
        """Return the first name."""
        return str(self.user["first_name"])

    @property
    def username(self) -> str | None:
        """Return the username."""
        return self.user.get("username")

    @property
    def keyboard(self) -> list[list[Button]]:
        """Return the reply keyboard the bot currently shows in the private chat."""
        for msg in reversed(self.messages):
            if msg.reply_keyboard is not None:
                return msg.keyboard
        return []

    # --- sending ----------------------------------------------------------------------
    def _target(self, chat: SimChat | None) -> ChatState:
        """Return the chat a user action goes to; writing to the bot starts it."""
        if chat is None:
            self.chat.started = True
            if self.chat.bot_status == "kicked":  # writing again unblocks, as in the apps
                self.chat.bot_status = "member"
            return self.chat
        return chat.chat

    async def _post(self, target: ChatState, content: dict[str, Any]) -> dict[str, Any] | None:
        """Store a user message and emit it if the bot can see it."""
        for key in ("text", "caption"):
            if isinstance(content.get(key), str):
                content[key] = valid_unicode(content[key])
        msg = self.sb.world.add_message(target, self.user, content)
        if not self.sb.world.bot_sees(target, msg.raw):
            await self.sb.world.notify()
            return None
        return await self.sb.world.push_update("message", copy.deepcopy(msg.raw))

    async def send(
        self,
        text: str,
        *,
        chat: SimChat | None = None,
        reply_to: SimMessage | None = None,
        entities: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any] | None:
        """Send a text message to the bot (or into `chat`); commands get their entity.

        Text is sent the way the apps send it (see ``client_texts``): longer text goes as
        several messages, and the answer to the last one is returned.
        """
        first, *rest = client_texts(text)
        update = await self._send_one(first, chat=chat, reply_to=reply_to, entities=entities)
        for part in rest:
            update = await self._send_one(part, chat=chat)
        return update

    async def _send_one(
        self,
        text: str,
        *,
        chat: SimChat | None = None,
        reply_to: SimMessage | None = None,
        entities: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any] | None:
        """Send one message of at most 4096 UTF-16 units."""
        target = self._target(chat)
        content: dict[str, Any] = {"text": text}
        ents = list(entities or [])
        if text.startswith("/") and not entities:
            command = text.split(maxsplit=1)[0]
            ents.append({"type": "bot_command", "offset": 0, "length": _utf16_len(command)})
        if ents:
            content["entities"] = ents
        if reply_to is not None:
            quoted = copy.deepcopy(reply_to.raw)
            quoted.pop("reply_to_message", None)
            content["reply_to_message"] = quoted
        return await self._post(target, content)

    async def command(
        self, name: str, payload: str | None = None, *, chat: SimChat | None = None
    ) -> dict[str, Any] | None:
        """Send "/name payload"; in groups the command is addressed "/name@bot"."""
        text = f"/{name}"
        if chat is not None and chat.chat.is_group:
            text += f"@{self.sb.world.bot_user['username']}"
        if payload:
            text += f" {payload}"
        return await self.send(text, chat=chat)

    async def send_contact(
        self,
        phone: str,
        *,
        user_id: int | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        chat: SimChat | None = None,
    ) -> dict[str, Any] | None:
        """Share a contact; without user_id/first_name it is the user's own."""
        own = user_id is None and first_name is None
        contact: dict[str, Any] = {
            "phone_number": phone,
            "first_name": self.first_name if own else (first_name or "Contact"),
        }
        if own:
            contact["user_id"] = self.id
            if self.user.get("last_name"):
                contact["last_name"] = self.user["last_name"]
        else:
            if user_id is not None:
                contact["user_id"] = user_id
            if last_name:
                contact["last_name"] = last_name
        return await self._post(self._target(chat), {"contact": contact})

    def _photo(self, data: bytes | Path | str) -> list[dict[str, Any]]:
        """Store a photo and return its PhotoSize list."""
        content = _read(data)
        return [f.photo_size() for f in self.sb.world.files.add_photo(content)]

    async def send_photo(
        self, data: bytes | Path | str, *, caption: str | None = None, chat: SimChat | None = None
    ) -> dict[str, Any] | None:
        """Send a photo with an optional caption."""
        content: dict[str, Any] = {"photo": self._photo(data)}
        if caption:
            content["caption"] = caption
        return await self._post(self._target(chat), content)

    async def send_document(
        self,
        data: bytes | Path | str,
        *,
        filename: str = "file.bin",
        caption: str | None = None,
        chat: SimChat | None = None,
    ) -> dict[str, Any] | None:
        """Send a document."""
        stored = self.sb.world.files.add(_read(data), "document", file_name=filename)
        doc = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_name": filename,
            "file_size": len(stored.data),
        }
        if stored.mime_type:
            doc["mime_type"] = stored.mime_type
        content: dict[str, Any] = {"document": doc}
        if caption:
            content["caption"] = caption
        return await self._post(self._target(chat), content)

    async def send_album(
        self,
        images: Sequence[bytes | Path | str],
        *,
        caption: str | None = None,
        chat: SimChat | None = None,
    ) -> list[dict[str, Any]]:
        """Send photos as one album: one message each, shared media_group_id."""
        target = self._target(chat)
        group_id = str(13500000000000000 + self.sb.world.next_id())
        updates = []
        for i, image in enumerate(images):
            content: dict[str, Any] = {"photo": self._photo(image), "media_group_id": group_id}
            if caption and i == 0:
                content["caption"] = caption
            update = await self._post(target, content)
            if update is not None:
                updates.append(update)
        return updates

    async def send_location(
        self, latitude: float, longitude: float, *, chat: SimChat | None = None
    ) -> dict[str, Any] | None:
        """Share a location."""
        content = {"location": {"latitude": latitude, "longitude": longitude}}
        return await self._post(self._target(chat), content)

    async def forward(self, msg: SimMessage, to: SimChat | None = None) -> dict[str, Any] | None:
        """Forward a message into `to` (default: the chat with the bot)."""
        target = self._target(to)
        origin_sender = msg.raw.get("from") or self.sb.world.bot_user
        content = {
            k: copy.deepcopy(v)
            for k, v in msg.raw.items()
            if k
            in (
                "text",
                "entities",
                "caption",
                "caption_entities",
                "photo",
                "video",
                "document",
                "location",
                "contact",
            )
        }
        if msg.raw["chat"].get("type") == "channel":  # MessageOriginChannel
            content["forward_origin"] = {
                "type": "channel",
                "chat": dict(msg.raw["chat"]),
                "message_id": msg.message_id,
                "date": msg.raw["date"],
            }
        else:
            content["forward_origin"] = {
                "type": "user",
                "sender_user": dict(origin_sender),
                "date": msg.raw["date"],
            }
        return await self._post(target, content)

    # --- buttons and inline mode ------------------------------------------------------
    async def press(
        self,
        msg: SimMessage,
        text: str | None = None,
        *,
        index: tuple[int, int] | None = None,
        data: str | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> dict[str, Any] | None:
        """Tap a callback button; return the answerCallbackQuery fields or None on timeout."""
        if data is None:
            button = self._find_button(msg, text, index)
            if button.callback_data is None:
                raise ValueError(f"button {button.text!r} has no callback_data")
            data = button.callback_data
        world = self.sb.world
        query_id = str(4000000000000 + world.next_id())
        world.callback_answers[query_id] = {}
        payload: dict[str, Any] = {
            "id": query_id,
            "from": dict(self.user),
            "chat_instance": str(abs(msg.chat_id) * 7 + 1),
            "data": data,
        }
        if msg.inline_message_id:
            payload["inline_message_id"] = msg.inline_message_id
        else:
            payload["message"] = copy.deepcopy(msg.raw)
        await world.push_update("callback_query", payload)
        try:
            answer: dict[str, Any] = await world.wait_for(
                lambda: world.callback_answers.get(query_id), timeout
            )
        except TimeoutError:
            return None
        return answer

    @staticmethod
    def _find_button(msg: SimMessage, text: str | None, index: tuple[int, int] | None) -> Button:
        """Return a button by its text or (row, col)."""
        rows = msg.buttons
        if index is not None:
            return rows[index[0]][index[1]]
        for row in rows:
            for button in row:
                if button.text == text:
                    return button
        raise LookupError(f"no button {text!r} in {[[b.text for b in r] for r in rows]}")

    async def inline_query(
        self,
        query: str,
        *,
        offset: str = "",
        chat_type: str | None = "sender",
        chat: SimChat | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> list[dict[str, Any]]:
        """Type "@bot query" in a chat of ``chat_type``; return the results of answerInlineQuery.

        As in the Bot API, ``chat_type`` is "sender" (the chat with the bot), "private",
        "group", "supergroup" or "channel", and absent (None) from a secret chat. Typing in
        ``chat`` (e.g. the chat picked after a switch_inline_query_chosen_chat button) gives
        that chat's type.
        """
        if chat is not None:
            chat_type = "sender" if chat.chat is self.chat else chat.chat.type
        if chat_type not in INLINE_CHAT_TYPES:
            raise ValueError(f"chat_type must be one of {INLINE_CHAT_TYPES}, not {chat_type!r}")
        world = self.sb.world
        query_id = str(5000000000000 + world.next_id())
        world.inline_answers[query_id] = {}
        payload = {
            "id": query_id,
            "from": dict(self.user),
            "query": query,
            "offset": offset,
        }
        if chat_type is not None:
            payload["chat_type"] = chat_type
        self.last_inline_update = await world.push_update("inline_query", payload)
        answer: dict[str, Any] = await world.wait_for(
            lambda: world.inline_answers.get(query_id), timeout
        )
        return list(answer["results"])

    async def choose_inline_result(
        self, result: dict[str, Any], *, query: str = "", chat: SimChat | None = None
    ) -> dict[str, Any] | None:
        """Send an inline result into `chat` (None: a chat outside the sandbox)."""
        world = self.sb.world
        content = _inline_content(result)
        inline_id = None
        if result.get("reply_markup"):
            inline_id = f"AgAAA{world.next_id():08d}"
            content["reply_markup"] = result["reply_markup"]
        content["via_bot"] = dict(world.bot_user)
        if chat is not None:
            msg = world.add_message(chat.chat, self.user, content)
        else:  # keep it reachable for inline edits although no simulated chat holds it
            msg = SimMessage(
                raw={
                    "message_id": 0,
                    "date": int(time.time()),
                    "chat": {"id": 0, "type": "private"},
                    **content,
                },
                files=world.files,
            )
        msg.parse_mode = _inline_parse_mode(result)
        if inline_id:
            msg.inline_message_id = inline_id
            world.inline_messages[inline_id] = msg
        if chat is not None and world.bot_sees(chat.chat, msg.raw) and chat.chat.is_group:
            await world.push_update("message", copy.deepcopy(msg.raw))
        if not world.inline_feedback:
            await world.notify()
            return None
        chosen: dict[str, Any] = {
            "result_id": result["id"],
            "from": dict(self.user),
            "query": query,
        }
        if inline_id:
            chosen["inline_message_id"] = inline_id
        return await world.push_update("chosen_inline_result", chosen)

    # --- membership -------------------------------------------------------------------
    async def _bot_status(self, group: SimGroup, status: str) -> dict[str, Any]:
        """Change the bot's status in a group and emit my_chat_member."""
        old = group.chat.bot_status
        group.chat.bot_status = status
        if status in ("member", "administrator"):
            self.sb.world.chats[group.id] = group.chat
        return await self.sb.world.push_update(
            "my_chat_member",
            {
                "chat": group.chat.as_dict(),
                "from": dict(self.user),
                "date": int(time.time()),
                "old_chat_member": bot_member(self.sb.world.bot_user, old),
                "new_chat_member": bot_member(self.sb.world.bot_user, status),
            },
        )

    async def add_bot_to(self, group: SimGroup, *, as_admin: bool = False) -> dict[str, Any]:
        """Add the bot to a group (as admin if asked)."""
        group.add_member(self)
        return await self._bot_status(group, "administrator" if as_admin else "member")

    async def remove_bot_from(self, group: SimGroup) -> dict[str, Any]:
        """Remove the bot from a group."""
        return await self._bot_status(group, "left")

    async def block_bot(self) -> dict[str, Any]:
        """Block the bot: sends to this user now fail with 403."""
        return await self._private_status("kicked")

    async def unblock_bot(self) -> dict[str, Any]:
        """Unblock the bot."""
        return await self._private_status("member")

    async def _private_status(self, status: str) -> dict[str, Any]:
        """Change the bot's status in the private chat and emit my_chat_member."""
        old = self.chat.bot_status
        self.chat.bot_status = status
        return await self.sb.world.push_update(
            "my_chat_member",
            {
                "chat": self.chat.as_dict(),
                "from": dict(self.user),
                "date": int(time.time()),
                "old_chat_member": bot_member(self.sb.world.bot_user, old),
                "new_chat_member": bot_member(self.sb.world.bot_user, status),
            },
        )


def _inline_content(result: dict[str, Any]) -> dict[str, Any]:
    """Return the message content an inline result produces."""
    imc = result.get("input_message_content")
    if imc and "message_text" in imc:
        content: dict[str, Any] = {"text": imc["message_text"]}
        if imc.get("entities"):
            content["entities"] = imc["entities"]
        if imc.get("link_preview_options"):
            content["link_preview_options"] = imc["link_preview_options"]
        return content
    kind = result.get("type")
    content = {}
    if kind == "photo":
        file_id = result.get("photo_file_id") or result.get("photo_url", "")
        size = (result.get("photo_width", 320), result.get("photo_height", 320))
        content["photo"] = [
            {
                "file_id": file_id,
                "file_unique_id": "inline" + file_id[-8:],
                "width": size[0],
                "height": size[1],
            }
        ]
    elif kind in ("document", "video"):
        file_id = result.get(f"{kind}_file_id") or result.get(f"{kind}_url", "")
        content[kind] = {"file_id": file_id, "file_unique_id": "inline" + file_id[-8:]}
        if kind == "video":
            content[kind].update(width=640, height=360, duration=1)
    elif kind == "article":
        content["text"] = result.get("title", "")
    if result.get("caption"):
        content["caption"] = result["caption"]
    return content


def _inline_parse_mode(result: dict[str, Any]) -> str | None:
    """Return the parse mode of an inline result's content."""
    imc = result.get("input_message_content") or {}
    return imc.get("parse_mode") or result.get("parse_mode")
