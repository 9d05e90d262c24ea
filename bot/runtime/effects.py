"""Effects on Telegram come after the commit that records them.

While the inbox processor runs a handler, every Bot API call that changes something a user
sees (a reply, an edit, a callback answer, a photo, a menu) is not sent: it is written to
the outbox in the update's own savepoint, as the method and its parameters, and the sender
sends it once the transaction has committed (an after-commit hook wakes it at once). So:

- a crash before the commit sends nothing, and the replayed update sends its replies once;
- a crash after it sends each reply once (a send in flight at the kill at most once more);
- a handler that fails rolls its replies back with its other writes;
- a callback answer Telegram refuses as too late is the sender's failure, logged; it never
  rolls back or parks the update that recorded the press;
- no transaction waits for the network or the rate limiter because of a reply.

A deferred ``sendMessage`` returns a stand-in message whose id is minus the outbox row's id;
a later deferred edit of that id is resolved by the sender to the real one (it sends a
chat's rows in order). Reads (``getChatMemberCount``, ``getFile``…) are sent at once: the
handler needs their answer.

A user who writes faster than Telegram lets the bot answer is throttled politely: past
``limits.reply_backlog`` unsent replies in their chat, further replies are dropped and one
notice says why (processing goes on, so nothing they sent is lost).
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
from enum import Enum
from typing import Any

from telegram import InputFile, TelegramObject
from telegram.ext import ExtBot

from bot.i18n import N_, get_translator
from bot.runtime.context import UpdateScope, current_scope
from storage import outbox as outbox_store
from storage.outbox import ClaimedMessage, NewMessage

log = logging.getLogger(__name__)

API_KIND = "api"
HANDOVER_LEASE = dt.timedelta(seconds=10)
ERASE_AFTER_SEND = "erase_after_send"
# Methods with effects a user sees: deferred to after the commit while an update is handled.
DEFERRED = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendVideo",
        "sendAnimation",
        "sendAudio",
        "sendVoice",
        "sendSticker",
        "sendLocation",
        "sendContact",
        "sendChatAction",
        "copyMessage",
        "forwardMessage",
        "editMessageText",
        "editMessageCaption",
        "editMessageMedia",
        "editMessageReplyMarkup",
        "deleteMessage",
        "answerCallbackQuery",
        "answerInlineQuery",
        "setMyCommands",
        "setChatMenuButton",
        "pinChatMessage",
    }
)
# Replies the throttle may drop; edits, answers and menus always go out.
DROPPABLE = frozenset({"sendMessage", "sendPhoto", "sendDocument", "sendVideo", "sendChatAction"})
THROTTLE_MSGID = N_(
    "You are sending messages faster than I can answer. I have your messages; the replies "
    "to the last few are skipped. Please wait a few seconds before sending more."
)


def _jsonable(value: Any) -> Any:
    """Return ``value`` as the JSON Telegram would receive (objects as dicts, times as ints)."""
    if isinstance(value, TelegramObject):
        return value.to_dict(recursive=True)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dt.datetime):
        return int(value.timestamp())
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    return value


def encode_call(data: dict[str, Any]) -> dict[str, Any]:
    """Return the parameters of a Bot API call as JSON: values, and files as base64."""
    params: dict[str, Any] = {}
    files: dict[str, dict[str, Any]] = {}
    for key, value in data.items():
        if isinstance(value, InputFile):
            content = value.input_file_content
            raw = content if isinstance(content, bytes) else content.read()
            files[key] = {
                "content": base64.b64encode(raw).decode("ascii"),
                "filename": value.filename,
            }
        else:
            params[key] = _jsonable(value)
    return {"params": params, "files": files}


def decode_call(payload: dict[str, Any]) -> dict[str, Any]:
    """Return the keyword arguments to send a call that ``encode_call`` stored."""
    kwargs = dict(payload.get("params") or {})
    for name, upload in (payload.get("files") or {}).items():
        kwargs[name] = InputFile(
            base64.b64decode(upload["content"]), filename=upload.get("filename")
        )
    return kwargs


def _chat_of(data: dict[str, Any], user_id: int | None) -> int:
    chat = data.get("chat_id")
    if isinstance(chat, int):
        return chat
    if isinstance(chat, str) and chat.lstrip("-").isdigit():
        return int(chat)
    scope = data.get("scope")  # setMyCommands for one chat
    chat = getattr(scope, "chat_id", None)
    if isinstance(chat, int):
        return chat
    return user_id or 0


def _stand_in(endpoint: str, chat_id: int, row_id: int, now: dt.datetime) -> Any:
    """Return what Telegram would answer, with the outbox row standing in for the message."""
    if endpoint == "copyMessage":
        return {"message_id": -row_id}
    if endpoint.startswith(("send", "forward")) and endpoint != "sendChatAction":
        chat = {"id": chat_id, "type": "private" if chat_id > 0 else "group"}
        return {"message_id": -row_id, "date": int(now.timestamp()), "chat": chat}
    return True


class KepuBot(ExtBot[dict[str, Any]]):
    """The bot handlers use: inside an update, effects go to the outbox (see module doc)."""

    async def _do_post(self, endpoint: str, data: dict[str, Any], **kwargs: Any) -> Any:
        scope = current_scope.get()
        if (
            scope is None
            or not scope.defer_effects
            or scope.runtime is None
            or endpoint not in DEFERRED
        ):
            return await super()._do_post(endpoint, data, **kwargs)
        self._extract_rl_kwargs(data)  # rate limits apply when the sender sends it
        return await self._defer(scope, endpoint, data)

    async def _defer(self, scope: UpdateScope, endpoint: str, data: dict[str, Any]) -> Any:
        runtime = scope.runtime
        assert runtime is not None  # checked by _do_post
        now = runtime.now()
        chat_id = _chat_of(data, scope.user_id)
        session = scope.session
        scope.effects += 1
        key = f"u:{scope.update_id}:{scope.effects}" if scope.update_id else None
        if endpoint in DROPPABLE and chat_id:
            backlog = await outbox_store.pending_count(session=session, chat_id=chat_id)
            if backlog >= runtime.settings.limits.reply_backlog:
                await self._throttle(scope, chat_id, now)
                log.info("reply dropped by the throttle", extra={"chat_id": chat_id})
                return _stand_in(endpoint, chat_id, 0, now)
        payload: dict[str, Any] = {"method": endpoint, **encode_call(data)}
        if scope.erase_replies:  # /forget: keep no copy of these once they are sent
            payload[ERASE_AFTER_SEND] = True
            key = outbox_store.ERASE_PREFIX + (key or "")
        row_id = await outbox_store.enqueue_one(
            session=session,
            message=NewMessage(
                chat_id=chat_id,
                kind=API_KIND,
                payload=payload,
                dedupe_key=key or f"a:{chat_id}:{now.timestamp()}:{scope.effects}",
                # Leased to this process: its sender sends it right after the commit. If the
                # process dies first, any sender takes it when the lease runs out.
                due_at=now + HANDOVER_LEASE,
            ),
            now=now,
        )
        if row_id is not None:
            scope.deferred.append(
                ClaimedMessage(
                    id=row_id,
                    push_id=None,
                    chat_id=chat_id,
                    kind=API_KIND,
                    payload=payload,
                    attempts=0,
                    due_at=None,
                )
            )
        return _stand_in(endpoint, chat_id, row_id or 0, now)

    async def _throttle(self, scope: UpdateScope, chat_id: int, now: dt.datetime) -> None:
        """Queue one notice a minute that replies are being skipped."""
        t = scope.translator or get_translator()
        minute = now.replace(second=0, microsecond=0).isoformat()
        await outbox_store.enqueue(
            session=scope.session,
            push_id=None,
            messages=[
                NewMessage(
                    chat_id=chat_id,
                    kind="message",
                    payload={"text": t(THROTTLE_MSGID)},
                    dedupe_key=f"throttle:{chat_id}:{minute}",
                    due_at=now,
                )
            ],
            now=now,
        )
