"""One failing task never ends the process: database errors are logged, backed off, survived."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from bot.runtime import outbox as outbox_module
from bot.runtime import poller as poller_module
from bot.sandbox.harness import RunningBot


def _locked() -> OperationalError:
    return OperationalError("BEGIN IMMEDIATE", {}, Exception("database is locked"))


async def test_poller_survives_a_database_error_and_loses_nothing(
    bot_env: RunningBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = poller_module.store_and_notify
    failures = []

    async def flaky(*args: Any, **kwargs: Any) -> Any:
        if not failures:
            failures.append(1)
            raise _locked()
        return await real(*args, **kwargs)

    monkeypatch.setattr(poller_module, "store_and_notify", flaky)
    user = bot_env.sandbox.user("小李")
    await user.command("help")
    reply = await user.wait_for_message(timeout=15)  # fetched again after the failed store
    assert failures == [1] and "我能为您做这些" in (reply.text or "")
    assert not bot_env.task.done()


async def test_sender_survives_a_database_error_while_idle(
    bot_env: RunningBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = outbox_module.outbox_store.next_due_at
    failures = []

    async def flaky(**kwargs: Any) -> Any:
        if len(failures) < 2:
            failures.append(1)
            raise _locked()
        return await real(**kwargs)

    monkeypatch.setattr(outbox_module.outbox_store, "next_due_at", flaky)
    user = bot_env.sandbox.user("小王")
    await user.command("help")
    await user.wait_for_message(timeout=15)
    await bot_env.settle()
    await user.command("help")  # the sender is still there after its failed idle checks
    assert "我能为您做这些" in ((await user.wait_for_message(timeout=15)).text or "")
    # The sender's first idle check (at start) failed; the process and the sender went on.
    assert failures and not bot_env.task.done()
