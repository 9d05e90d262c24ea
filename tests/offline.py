"""A Bot API request object for unit tests: answers getMe, refuses any other network call."""

from __future__ import annotations

import json
from typing import Any

from telegram.request import BaseRequest, RequestData

BOT_USER = {
    "id": 123456,
    "is_bot": True,
    "first_name": "kepubot",
    "username": "kepubot_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": True,
    "supports_inline_queries": True,
}


class OfflineRequest(BaseRequest):
    """Answer getMe locally; fail loudly on anything that would reach a server."""

    @property
    def read_timeout(self) -> float | None:
        """No network, no timeout."""
        return None

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        """Serve getMe; raise on every other method."""
        if url.endswith("/getMe"):
            return 200, json.dumps({"ok": True, "result": BOT_USER}).encode()
        raise AssertionError(f"unexpected network call in a unit test: {url}")
