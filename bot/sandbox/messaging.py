"""Bot API methods that send, edit and delete messages."""

from __future__ import annotations

import copy
import time
from typing import Any

from bot.sandbox.files import StoredFile
from bot.sandbox.limits import RateLimiter
from bot.sandbox.markup import check_inline_keyboard, check_text
from bot.sandbox.models import ApiError, SimMessage, bad_request
from bot.sandbox.params import Params, Upload
from bot.sandbox.state import ChatState, World

_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)


class MessagingApi:
    """send*, edit*, deleteMessage."""

    def __init__(self, world: World, limiter: RateLimiter) -> None:
        self.w = world
        self.limiter = limiter

    # --- helpers -----------------------------------------------------------------------
    def _flood(self, method: str, chat: ChatState, cost: int = 1, *, paid: bool = False) -> None:
        """Raise 429 when a send would exceed the flood limits.

        ``paid`` (``allow_paid_broadcast=True``): the Stars balance must cover the send
        (400 otherwise, see ``World.charge_paid``) and it counts against the paid rate only.
        """
        if paid:
            self.w.check_paid(cost)
        if not self.limiter.applies_to(method):
            if paid:
                self.w.charge_paid(cost)
            return
        retry_after = self.limiter.check(chat.id, chat.is_group, cost, paid=paid)
        if retry_after is not None:
            self.w.stats.rate_limited += 1
            raise ApiError(
                429,
                f"Too Many Requests: retry after {retry_after}",
                {"retry_after": retry_after},
            )
        if paid:
            self.w.charge_paid(cost)

    def _common(self, p: Params, chat: ChatState) -> tuple[dict[str, Any], dict | None]:
        """Return reply/markup fields shared by send methods and the reply keyboard."""
        content: dict[str, Any] = {}
        reply_keyboard = None
        markup = p.json("reply_markup")
        if isinstance(markup, dict):
            if "inline_keyboard" in markup:
                check_inline_keyboard(markup)
                content["reply_markup"] = markup
            else:
                reply_keyboard = markup
        reply = p.json("reply_parameters")
        reply_id = reply.get("message_id") if isinstance(reply, dict) else None
        reply_id = reply_id or p.integer("reply_to_message_id")
        if reply_id:
            target_chat = reply.get("chat_id", chat.id) if isinstance(reply, dict) else chat.id
            target = self.w.message(target_chat, reply_id)
            if target is not None:
                quoted = copy.deepcopy(target.raw)
                quoted.pop("reply_to_message", None)
                content["reply_to_message"] = quoted
            elif not (isinstance(reply, dict) and reply.get("allow_sending_without_reply")):
                raise bad_request("message to be replied not found")
        return content, reply_keyboard

    def _caption(self, p: Params) -> dict[str, Any]:
        """Return caption fields after validating them."""
        caption = p.string("caption")
        check_text(caption, p.string("parse_mode"), caption=True)
        out: dict[str, Any] = {}
        if caption:
            out["caption"] = caption
            entities = p.json("caption_entities")
            if entities:
                out["caption_entities"] = entities
        return out

    def _file(self, p: Params, name: str, value: Any, kind: str) -> list[StoredFile]:
        """Resolve an upload, attach:// reference, known file_id or URL to stored files."""
        upload: Upload | None = p.uploads.get(name) if value is None else None
        if isinstance(value, str) and value.startswith("attach://"):
            upload = p.uploads.get(value[len("attach://") :])
            if upload is None:
                raise bad_request(f"file {value} not found in the request")
        if upload is not None:
            if kind == "photo":
                return self.w.files.add_photo(upload.data)
            return [
                self.w.files.add(
                    upload.data, kind, file_name=upload.filename, mime_type=upload.content_type
                )
            ]
        if isinstance(value, str) and value:
            known = self.w.files.get(value)
            if known is not None:
                return [known]
            if value.startswith(("http://", "https://")):
                # No internet: keep the URL as the file's content so tests can inspect it.
                file_name = value.rsplit("/", 1)[-1] or None
                if kind == "photo":
                    return [self.w.files.add(value.encode(), "photo", size=(320, 320))]
                return [self.w.files.add(value.encode(), kind, file_name=file_name)]
        raise bad_request("wrong file identifier/HTTP URL specified")

    @staticmethod
    def _media_dict(kind: str, files: list[StoredFile], filename: str | None) -> Any:
        """Return the Message field for stored media."""
        if kind == "photo":
            return [f.photo_size() for f in files]
        stored = files[0]
        data: dict[str, Any] = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
        }
        name = filename or stored.file_name
        if name:
            data["file_name"] = name
        if stored.mime_type:
            data["mime_type"] = stored.mime_type
        if kind == "video":
            data.update(width=stored.width or 640, height=stored.height or 360, duration=1)
        return data

    async def _store(
        self,
        method: str,
        chat: ChatState,
        content: dict[str, Any],
        keyboard: dict | None,
        *,
        paid: bool = False,
    ) -> SimMessage:
        """Check flood limits, store a bot message and wake waiters."""
        self._flood(method, chat, paid=paid)
        msg = self.w.add_message(chat, self.w.bot_user, content)
        msg.by_bot = True
        msg.reply_keyboard = keyboard
        self.w.stats.sent_messages += 1
        await self.w.notify()
        return msg

    # --- send methods -----------------------------------------------------------------
    async def send_message(self, p: Params) -> dict[str, Any]:
        """Implement sendMessage."""
        chat = self.w.writable_chat(p.chat_id())
        text = p.string("text")
        if text is None:
            raise bad_request("message text is empty")
        parse_mode = p.string("parse_mode")
        check_text(text, parse_mode)
        content, keyboard = self._common(p, chat)
        content["text"] = text
        entities = p.json("entities")
        if entities:
            content["entities"] = entities
        preview = p.json("link_preview_options")
        if isinstance(preview, dict):
            content["link_preview_options"] = preview
        msg = await self._store(
            "sendMessage", chat, content, keyboard, paid=p.flag("allow_paid_broadcast")
        )
        msg.parse_mode = parse_mode
        return msg.raw

    async def _send_media(self, p: Params, method: str, kind: str) -> dict[str, Any]:
        """Implement sendPhoto, sendDocument and sendVideo."""
        chat = self.w.writable_chat(p.chat_id())
        files = self._file(p, kind, p.raw(kind), kind)
        content, keyboard = self._common(p, chat)
        content.update(self._caption(p))
        upload = p.uploads.get(kind)
        filename = upload.filename if upload else None
        content[kind] = self._media_dict(kind, files, filename)
        msg = await self._store(
            method, chat, content, keyboard, paid=p.flag("allow_paid_broadcast")
        )
        msg.parse_mode = p.string("parse_mode")
        return msg.raw

    async def send_photo(self, p: Params) -> dict[str, Any]:
        """Implement sendPhoto."""
        return await self._send_media(p, "sendPhoto", "photo")

    async def send_document(self, p: Params) -> dict[str, Any]:
        """Implement sendDocument."""
        return await self._send_media(p, "sendDocument", "document")

    async def send_video(self, p: Params) -> dict[str, Any]:
        """Implement sendVideo."""
        return await self._send_media(p, "sendVideo", "video")

    async def send_media_group(self, p: Params) -> list[dict[str, Any]]:
        """Implement sendMediaGroup: one message per item, sharing a media_group_id."""
        chat = self.w.writable_chat(p.chat_id())
        media = p.json("media")
        if not isinstance(media, list) or not 2 <= len(media) <= 10:
            raise bad_request("wrong number of messages in the media group")
        content, _ = self._common(p, chat)
        self._flood("sendMediaGroup", chat, cost=len(media), paid=p.flag("allow_paid_broadcast"))
        group_id = str(13000000000000000 + self.w.next_id())
        prepared = []
        for item in media:
            kind = item.get("type")
            if kind not in ("photo", "video", "document", "audio"):
                raise bad_request("wrong media type in the media group")
            kind = "document" if kind == "audio" else kind
            files = self._file(p, kind, item.get("media"), kind)
            check_text(item.get("caption"), item.get("parse_mode"), caption=True)
            part = dict(content, media_group_id=group_id)
            part[kind] = self._media_dict(kind, files, None)
            if item.get("caption"):
                part["caption"] = item["caption"]
            if item.get("caption_entities"):
                part["caption_entities"] = item["caption_entities"]
            prepared.append((part, item.get("parse_mode")))
        out = []
        for part, parse_mode in prepared:
            msg = self.w.add_message(chat, self.w.bot_user, part)
            msg.by_bot = True
            msg.parse_mode = parse_mode
            self.w.stats.sent_messages += 1
            out.append(msg.raw)
        await self.w.notify()
        return out

    async def send_location(self, p: Params) -> dict[str, Any]:
        """Implement sendLocation."""
        chat = self.w.writable_chat(p.chat_id())
        content, keyboard = self._common(p, chat)
        lat, lon = p.number("latitude"), p.number("longitude")
        content["location"] = {"latitude": lat, "longitude": lon}
        return (
            await self._store(
                "sendLocation", chat, content, keyboard, paid=p.flag("allow_paid_broadcast")
            )
        ).raw

    # --- edits ------------------------------------------------------------------------
    def _editable(self, p: Params) -> SimMessage:
        """Return the bot message an edit refers to."""
        inline_id = p.string("inline_message_id")
        if inline_id:
            msg = self.w.inline_messages.get(inline_id)
            if msg is None or msg.deleted:
                raise bad_request("message to edit not found")
            return msg
        msg = self.w.message(p.chat_id(), p.integer("message_id"))
        if msg is None:
            raise bad_request("message to edit not found")
        if not self.w.is_bot_message(msg):
            raise bad_request("message can't be edited")
        return msg

    async def _apply_edit(
        self, p: Params, msg: SimMessage, changes: dict[str, Any], drop: tuple[str, ...]
    ) -> Any:
        """Apply an edit in place, keep the previous version, answer like Telegram."""
        before = copy.deepcopy(msg.raw)
        after = copy.deepcopy(msg.raw)
        for key in drop:
            after.pop(key, None)
        after.update(changes)
        after.pop("edit_date", None)
        before.pop("edit_date", None)
        if after == before:
            raise bad_request(_NOT_MODIFIED)
        msg.edits.append(copy.deepcopy(msg.raw))
        msg.raw.clear()
        msg.raw.update(after)
        msg.raw["edit_date"] = int(time.time())
        if p.has("parse_mode"):
            msg.parse_mode = p.string("parse_mode")
        await self.w.notify()
        return True if msg.inline_message_id and p.has("inline_message_id") else msg.raw

    def _markup_change(self, p: Params) -> tuple[dict[str, Any], tuple[str, ...]]:
        """Return the reply_markup part of an edit: absent markup removes the keyboard."""
        markup = p.json("reply_markup")
        if isinstance(markup, dict) and markup.get("inline_keyboard"):
            check_inline_keyboard(markup)
            return {"reply_markup": markup}, ()
        return {}, ("reply_markup",)

    async def edit_message_text(self, p: Params) -> Any:
        """Implement editMessageText."""
        msg = self._editable(p)
        if "text" not in msg.raw:
            raise bad_request("there is no text in the message to edit")
        text = p.string("text")
        if text is None:
            raise bad_request("message text is empty")
        check_text(text, p.string("parse_mode"))
        changes, drop = self._markup_change(p)
        changes["text"] = text
        entities = p.json("entities")
        if entities:
            changes["entities"] = entities
        else:
            drop += ("entities",)
        preview = p.json("link_preview_options")
        if isinstance(preview, dict):
            changes["link_preview_options"] = preview
        return await self._apply_edit(p, msg, changes, drop)

    async def edit_message_caption(self, p: Params) -> Any:
        """Implement editMessageCaption."""
        msg = self._editable(p)
        if "text" in msg.raw:
            raise bad_request("there is no caption in the message to edit")
        changes, drop = self._markup_change(p)
        caption = self._caption(p)
        changes.update(caption)
        if "caption" not in caption:
            drop += ("caption", "caption_entities")
        return await self._apply_edit(p, msg, changes, drop)

    async def edit_message_reply_markup(self, p: Params) -> Any:
        """Implement editMessageReplyMarkup."""
        msg = self._editable(p)
        changes, drop = self._markup_change(p)
        return await self._apply_edit(p, msg, changes, drop)

    async def delete_message(self, p: Params) -> bool:
        """Implement deleteMessage."""
        chat = self.w.chat(p.chat_id())
        msg = self.w.message(chat.id, p.integer("message_id"))
        if msg is None:
            raise bad_request("message to delete not found")
        own = self.w.is_bot_message(msg)
        if not own and chat.is_group and chat.bot_status != "administrator":
            raise bad_request("message can't be deleted")
        msg.deleted = True
        await self.w.notify()
        return True
