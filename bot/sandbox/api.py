"""Bot API method table of the sandbox (everything except message sending)."""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bot.sandbox.limits import RateLimiter
from bot.sandbox.messaging import MessagingApi
from bot.sandbox.models import ApiError, bad_request
from bot.sandbox.params import Params
from bot.sandbox.state import NANOS_PER_STAR, ChatState, World, bot_member

Handler = Callable[[Params], Awaitable[Any]]
_COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"


class BotApi(MessagingApi):
    """Dispatch Bot API calls to their implementations."""

    def __init__(self, world: World, limiter: RateLimiter) -> None:
        super().__init__(world, limiter)
        table: dict[str, Handler] = {
            "getMe": self.get_me,
            "logOut": self.true,
            "close": self.true,
            "getUpdates": self.get_updates,
            "setWebhook": self.set_webhook,
            "deleteWebhook": self.delete_webhook,
            "getWebhookInfo": self.get_webhook_info,
            "sendMessage": self.send_message,
            "sendPhoto": self.send_photo,
            "sendDocument": self.send_document,
            "sendVideo": self.send_video,
            "sendMediaGroup": self.send_media_group,
            "sendLocation": self.send_location,
            "editMessageText": self.edit_message_text,
            "editMessageCaption": self.edit_message_caption,
            "editMessageReplyMarkup": self.edit_message_reply_markup,
            "deleteMessage": self.delete_message,
            "answerCallbackQuery": self.answer_callback_query,
            "answerInlineQuery": self.answer_inline_query,
            "getChat": self.get_chat,
            "getChatMember": self.get_chat_member,
            "getChatMemberCount": self.get_chat_member_count,
            "leaveChat": self.leave_chat,
            "exportChatInviteLink": self.export_chat_invite_link,
            "createChatInviteLink": self.create_chat_invite_link,
            "getFile": self.get_file,
            "setMyCommands": self.set_my_commands,
            "getMyCommands": self.get_my_commands,
            "deleteMyCommands": self.delete_my_commands,
            "setChatMenuButton": self.set_chat_menu_button,
            "getChatMenuButton": self.get_chat_menu_button,
            "getMyStarBalance": self.get_my_star_balance,
        }
        # Telegram matches method names case-insensitively.
        self.methods = {name.lower(): (name, fn) for name, fn in table.items()}

    def lookup(self, method: str) -> tuple[str, Handler] | None:
        """Return the canonical name and handler of a method, or None."""
        return self.methods.get(method.lower())

    async def true(self, p: Params) -> bool:
        """Answer True (close, logOut)."""
        return True

    async def get_me(self, p: Params) -> dict[str, Any]:
        """Implement getMe."""
        return dict(
            self.w.bot_user,
            can_join_groups=True,
            can_read_all_group_messages=not self.w.privacy_mode,
            supports_inline_queries=True,
            can_connect_to_business=False,
            has_main_web_app=False,
        )

    async def get_my_star_balance(self, p: Params) -> dict[str, Any]:
        """Implement getMyStarBalance: a StarAmount (whole Stars, then nanostars)."""
        whole, nanos = divmod(self.w.star_nanos, NANOS_PER_STAR)
        return {"amount": whole, "nanostar_amount": nanos} if nanos else {"amount": whole}

    # --- updates ----------------------------------------------------------------------
    async def get_updates(self, p: Params) -> list[dict[str, Any]]:
        """Implement getUpdates with long polling."""
        w = self.w
        if w.webhook.url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = p.integer("offset")
        if offset:
            w.confirm(offset)
        limit = min(max(p.integer("limit", 100) or 100, 1), 100)
        timeout = max(p.integer("timeout", 0) or 0, 0)
        allowed = p.json("allowed_updates")
        if allowed is not None:
            w.poll_allowed = list(allowed) or None  # [] means "all default types"
        w.poll_generation += 1
        generation = w.poll_generation
        batch = w.take(limit, w.poll_allowed)
        if batch or timeout == 0:
            await w.notify()
            return batch

        def ready() -> bool:
            return (
                w.closing or w.poll_generation != generation or bool(w.take(limit, w.poll_allowed))
            )

        try:
            await w.wait_for(ready, timeout)
        except TimeoutError:
            return []
        if w.closing:
            return []
        if w.poll_generation != generation:
            raise ApiError(
                409,
                "Conflict: terminated by other getUpdates request; "
                "make sure that only one bot instance is running",
            )
        batch = w.take(limit, w.poll_allowed)
        await w.notify()
        return batch

    async def set_webhook(self, p: Params) -> bool:
        """Implement setWebhook; plain http is accepted because the sandbox is loopback."""
        url = p.string("url") or ""
        if url and not url.startswith(("http://", "https://")):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = p.string("secret_token")
        if secret is not None and not _SECRET.match(secret):
            raise bad_request("secret token contains unallowed characters")
        hook = self.w.webhook
        hook.url = url
        hook.secret_token = secret
        hook.max_connections = p.integer("max_connections", 40) or 40
        allowed = p.json("allowed_updates")
        hook.allowed_updates = list(allowed) if allowed else None
        hook.last_error_date = hook.last_error_message = None
        if p.flag("drop_pending_updates"):
            self._drop_pending()
        await self.w.notify()
        return True

    async def delete_webhook(self, p: Params) -> bool:
        """Implement deleteWebhook."""
        self.w.webhook.url = ""
        self.w.webhook.secret_token = None
        if p.flag("drop_pending_updates"):
            self._drop_pending()
        await self.w.notify()
        return True

    def _drop_pending(self) -> None:
        """Forget every queued update."""
        if self.w.updates:
            self.w.fetched_upto = max(self.w.fetched_upto, self.w.updates[-1]["update_id"])
        self.w.updates.clear()

    async def get_webhook_info(self, p: Params) -> dict[str, Any]:
        """Implement getWebhookInfo."""
        hook = self.w.webhook
        info: dict[str, Any] = {
            "url": hook.url,
            "has_custom_certificate": False,
            "pending_update_count": len(self.w.updates),
        }
        if hook.url:
            info["max_connections"] = hook.max_connections
            if hook.allowed_updates:
                info["allowed_updates"] = hook.allowed_updates
            if hook.last_error_date:
                info["last_error_date"] = hook.last_error_date
                info["last_error_message"] = hook.last_error_message
        return info

    # --- queries ----------------------------------------------------------------------
    async def answer_callback_query(self, p: Params) -> bool:
        """Implement answerCallbackQuery."""
        query_id = p.string("callback_query_id") or ""
        if query_id not in self.w.callback_answers or self.w.callback_answers[query_id]:
            raise bad_request(_QUERY_TOO_OLD)
        self.w.callback_answers[query_id] = {
            "text": p.string("text"),
            "show_alert": p.flag("show_alert"),
            "url": p.string("url"),
            "cache_time": p.integer("cache_time"),
        }
        await self.w.notify()
        return True

    async def answer_inline_query(self, p: Params) -> bool:
        """Implement answerInlineQuery; the results are stored per query id."""
        query_id = p.string("inline_query_id") or ""
        if query_id not in self.w.inline_answers or self.w.inline_answers[query_id]:
            raise bad_request(_QUERY_TOO_OLD)
        results = p.json("results")
        if not isinstance(results, list) or len(results) > 50:
            raise bad_request("RESULTS_TOO_MUCH" if results else "results are invalid")
        ids = [str(r.get("id", "")) for r in results]
        if any(not i or len(i.encode()) > 64 for i in ids) or len(set(ids)) != len(ids):
            raise bad_request(
                "RESULT_ID_INVALID" if len(set(ids)) == len(ids) else "RESULT_ID_DUPLICATE"
            )
        self.w.inline_answers[query_id] = {
            "results": results,
            "cache_time": p.integer("cache_time"),
            "is_personal": p.flag("is_personal"),
            "next_offset": p.string("next_offset"),
            "button": p.json("button"),
        }
        await self.w.notify()
        return True

    # --- chats ------------------------------------------------------------------------
    async def get_chat(self, p: Params) -> dict[str, Any]:
        """Implement getChat (a ChatFullInfo)."""
        chat = self.w.chat(p.chat_id())
        if chat.is_group and chat.bot_status in ("left", "kicked"):
            raise bad_request("chat not found")
        self._visible_channel(chat)
        info = chat.as_dict()
        info.update(
            accent_color_id=0,
            max_reaction_count=11,
            accepted_gift_types={
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        )
        return info

    async def get_chat_member(self, p: Params) -> dict[str, Any]:
        """Implement getChatMember."""
        chat = self.w.chat(p.chat_id())
        user_id = p.integer("user_id")
        if user_id is None:
            raise bad_request("user_id required")
        self._visible_channel(chat)
        return self.w.member_dict(chat, user_id)

    async def get_chat_member_count(self, p: Params) -> int:
        """Implement getChatMemberCount."""
        chat = self.w.chat(p.chat_id())
        if chat.is_group and not chat.bot_in_chat():
            raise ApiError(403, f"Forbidden: bot is not a member of the {chat.type} chat")
        self._visible_channel(chat)
        return self.w.member_count(chat)

    def _visible_channel(self, chat: ChatState) -> None:
        """Refuse a private channel the bot is not in: Telegram does not show it to the bot."""
        if chat.is_channel and chat.bot_status != "administrator" and not chat.username:
            raise bad_request("chat not found")

    def _inviting(self, p: Params) -> ChatState:
        """Return a group or channel where the bot may invite users, or raise."""
        chat = self.w.chat(p.chat_id())
        if chat.type == "private":
            raise bad_request("method is available for supergroup and channel chats only")
        if chat.bot_status != "administrator":
            self._visible_channel(chat)
            raise bad_request("not enough rights to manage chat invite links")
        return chat

    def _new_invite_link(self, chat: ChatState) -> str:
        """Return a fresh invite link of the t.me/+… form."""
        link = f"https://t.me/+SbX{abs(chat.id) % 100000:05d}{self.w.next_id():06d}"
        chat.invite_links.append(link)
        return link

    async def export_chat_invite_link(self, p: Params) -> str:
        """Implement exportChatInviteLink: a new primary link (the old one is revoked)."""
        chat = self._inviting(p)
        return self._new_invite_link(chat)

    async def create_chat_invite_link(self, p: Params) -> dict[str, Any]:
        """Implement createChatInviteLink: an additional ChatInviteLink."""
        chat = self._inviting(p)
        link: dict[str, Any] = {
            "invite_link": self._new_invite_link(chat),
            "creator": dict(self.w.bot_user),
            "creates_join_request": str(p.raw("creates_join_request")).lower() in ("true", "1"),
            "is_primary": False,
            "is_revoked": False,
        }
        name = p.string("name")
        if name:
            link["name"] = name
        return link

    async def leave_chat(self, p: Params) -> bool:
        """Implement leaveChat; Telegram then sends a my_chat_member update."""
        chat = self.w.chat(p.chat_id())
        if not chat.is_group or not chat.bot_in_chat():
            raise bad_request("chat not found" if not chat.is_group else "USER_NOT_PARTICIPANT")
        old = chat.bot_status
        chat.bot_status = "left"
        await self.w.push_update(
            "my_chat_member",
            {
                "chat": chat.as_dict(),
                "from": dict(self.w.bot_user),
                "date": int(time.time()),
                "old_chat_member": bot_member(self.w.bot_user, old),
                "new_chat_member": bot_member(self.w.bot_user, "left"),
            },
        )
        return True

    async def set_chat_menu_button(self, p: Params) -> bool:
        """Implement setChatMenuButton."""
        button = p.json("menu_button") or {"type": "default"}
        if p.has("chat_id"):
            self.w.chat(p.chat_id()).menu_button = button
        else:
            self.w.commands[("menu_button", "")] = [button]
        return True

    async def get_chat_menu_button(self, p: Params) -> dict[str, Any]:
        """Implement getChatMenuButton."""
        if p.has("chat_id"):
            button = self.w.chat(p.chat_id()).menu_button
            if button:
                return button
        default = self.w.commands.get(("menu_button", ""))
        return default[0] if default else {"type": "commands"}

    # --- files and commands -----------------------------------------------------------
    async def get_file(self, p: Params) -> dict[str, Any]:
        """Implement getFile."""
        stored = self.w.files.get(p.string("file_id") or "")
        if stored is None:
            raise bad_request("invalid file_id")
        return stored.as_dict()

    def _scope_key(self, p: Params) -> tuple[str, str]:
        """Return the storage key of a command scope and language."""
        scope = p.json("scope") or {"type": "default"}
        kind = scope.get("type", "default")
        if kind in ("chat", "chat_administrators", "chat_member"):
            chat = self.w.chat(scope.get("chat_id"))
            kind = f"{kind}:{chat.id}"
            if "user_id" in scope:
                kind += f":{scope['user_id']}"
        elif kind not in (
            "default",
            "all_private_chats",
            "all_group_chats",
            "all_chat_administrators",
        ):
            raise bad_request("wrong scope type specified")
        return kind, p.string("language_code") or ""

    async def set_my_commands(self, p: Params) -> bool:
        """Implement setMyCommands."""
        commands = p.json("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("commands are invalid")
        for cmd in commands:
            if not _COMMAND.match(str(cmd.get("command", ""))):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(cmd.get("description", ""))) <= 256:
                raise bad_request("command description must be non-empty")
        self.w.commands[self._scope_key(p)] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    async def get_my_commands(self, p: Params) -> list[dict[str, Any]]:
        """Implement getMyCommands (exact scope and language, as Telegram does)."""
        return list(self.w.commands.get(self._scope_key(p), []))

    async def delete_my_commands(self, p: Params) -> bool:
        """Implement deleteMyCommands."""
        self.w.commands.pop(self._scope_key(p), None)
        return True
