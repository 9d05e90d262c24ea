"""Push reports say why messages failed and offer to retry the retryable ones (issue #19).

Through the real bot and the sandbox: a blocked user (403) and a chat Telegram does not
know (400 chat not found) in one push; the report groups them, the button re-sends only
the chat-not-found one, and `kepubot outbox status|retry` say the same.
"""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.__main__ import main
from bot.runtime.outbox import notify_outbox
from bot.sandbox.factories import make_content, make_informant
from bot.sandbox.harness import RunningBot
from bot.services import push as push_service
from storage import audit
from storage import outbox as outbox_store
from storage.models import Station
from tests.conftest import FIXED_NOW
from tests.content_push.conftest import RunningClock, grant, seed_world, wait_outbox

GHOST = 987654  # a chat id the sandbox does not know (yet)


async def _world(bot: RunningBot) -> tuple[int, list]:  # type: ignore[type-arg]
    sb = bot.sandbox
    readers = [sb.user(f"读者{i}", started=True) for i in range(2)]
    blocked = sb.user("拉黑者", started=True)
    await seed_world(bot.runtime, [*readers, blocked], interests=["health"])
    async with bot.runtime.sessions() as session, session.begin():
        station = (await session.execute(select(Station))).scalars().first()
        assert station is not None and station.id is not None
        await make_informant(
            session, station_id=station.id, telegram_id=GHOST, interests=["health"],
            consent_at=None,
        )  # fmt: skip
        item = await make_content(session, title="冬季防火", publish_at=bot.runtime.now())
    assert item.id is not None
    return item.id, [*readers, blocked]


async def _push(bot: RunningBot, content_id: int, curator_id: int) -> int:
    """Push at 10:00 the next hour: users can block the bot after the push is queued."""
    async with bot.runtime.sessions() as session, session.begin():
        result = await push_service.push_item(
            session=session,
            content_id=content_id,
            now=bot.runtime.now(),
            tz=bot.runtime.settings.scheduler.tz,
            not_before=bot.runtime.now() + dt.timedelta(hours=1),
            report_chat=curator_id,
            report_locale="zh_CN",
        )
    notify_outbox(bot.runtime)
    assert result.push_id is not None
    return result.push_id


def _cli(url: str, monkeypatch: pytest.MonkeyPatch, *argv: str) -> int:
    monkeypatch.setenv("KEPUBOT_DATABASE__URL", url)
    return main(["--lang", "zh_CN", *argv])


async def test_report_groups_reasons_and_retry_resends_only_retryable(
    push_bot,
    running_clock: RunningClock,
    sqlite_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with push_bot() as bot:
        sb = bot.sandbox
        content_id, (reader0, reader1, blocked) = await _world(bot)
        curator = sb.user("内容编辑", started=True)
        await grant(bot.runtime, curator.id, "curator")
        push_id = await _push(bot, content_id, curator.id)
        await blocked.block_bot()  # after the push was queued, before it is sent
        await bot.settle()
        running_clock.advance(hours=2)
        notify_outbox(bot.runtime)
        await wait_outbox(bot)

        report = await curator.wait_for_message(predicate=lambda m: "推送报告" in (m.text or ""))
        text = report.text or ""
        assert "已发送 2 · 失败 1 · 已屏蔽机器人 1" in text
        assert "未送达原因：" in text
        assert "· 已屏蔽机器人或从未启动机器人：1" in text
        assert "· 找不到该聊天：1" in text
        assert "已屏蔽机器人的用户不会重试。" in text
        assert [b.text for row in report.buttons for b in row] == ["🔁 重试失败的 1 人"]

        # The command line says the same, and lists the reason of every unsent message.
        code = await asyncio.to_thread(
            _cli, sqlite_url, monkeypatch, "outbox", "status", str(push_id)
        )
        out = capsys.readouterr().out
        assert code == 0
        assert "已屏蔽机器人或从未启动机器人：1" in out and "找不到该聊天：1" in out
        assert f"可重试：1（kepubot outbox retry {push_id}）" in out

        # The unknown chat opens the bot; the retry reaches it, not the user who blocked it.
        ghost = sb.user("后来者", user_id=GHOST, started=True)
        curator.mark_seen()
        await curator.press(report, "🔁 重试失败的 1 人")
        answer = await curator.wait_for_message(predicate=lambda m: "正在重试" in (m.text or ""))
        assert f"推送 #{push_id}" in (answer.text or "")
        await wait_outbox(bot)
        second = await curator.wait_for_message(
            predicate=lambda m: (
                "推送报告" in (m.text or "") and f"#{push_id} " not in (m.text or "")
            )
        )
        assert "已发送 1 · 失败 0 · 已屏蔽机器人 0" in (second.text or "")
        assert second.buttons == []
        assert len(ghost.messages) == 1 and "冬季防火" in (ghost.messages[0].text or "")
        assert blocked.messages == []
        assert len(reader0.messages) == 1 and len(reader1.messages) == 1

        async with bot.runtime.sessions() as session:
            entries = await audit.entries(session=session, subject_type="push", subject_id=push_id)
            assert [e.action for e in entries] == ["push.retry"]
            summary = await push_service.failure_summary(session=session, push_id=push_id)
        assert summary.reasons["blocked"] == 1 and summary.retryable == 0

        # Nothing left to retry: the blocked user is never retried.
        code = await asyncio.to_thread(
            _cli, sqlite_url, monkeypatch, "outbox", "retry", str(push_id)
        )
        err = capsys.readouterr().err
        assert code == 1 and "没有可重试的消息" in err
        # The button pressed again says so too (no second retry).
        again = await curator.press(report, data=f"PRT:{push_id}")
        assert again is not None and "没有可重试的消息" in str(again.get("text"))


def test_reasons_are_grouped_from_the_stored_errors() -> None:
    reason = push_service.failure_reason
    assert reason("blocked", "Forbidden: bot was blocked by the user") == "blocked"
    assert reason("blocked", "Forbidden: bot can't initiate conversation with a user") == "blocked"
    assert reason("failed", "BadRequest: Chat not found") == "chat_not_found"
    assert reason("failed", "RetryAfter: Flood control exceeded. Retry in 3 seconds") == (
        "too_many_requests"
    )
    assert reason("failed", "TelegramError: Too Many Requests: retry after 5") == (
        "too_many_requests"
    )
    assert reason("failed", "NetworkError: Bad Gateway") == "other"
    assert push_service.is_retryable("failed", "NetworkError: Bad Gateway")
    assert not push_service.is_retryable("failed", "content_retired")
    assert not push_service.is_retryable("blocked", "Forbidden: bot was blocked by the user")


async def test_retry_by_cli_moves_only_retryable_rows(session: AsyncSession) -> None:
    """Storage and service on both backends: 429 and network failures move, blocked stays."""
    item = await make_content(session, publish_at=FIXED_NOW)
    assert item.id is not None
    push = await outbox_store.create_push(
        session=session, content_id=item.id, kind="content", created_by=None, targeting={},
        now=FIXED_NOW,
    )  # fmt: skip
    assert push.id is not None
    errors = {
        1: ("blocked", "Forbidden: bot was blocked by the user"),
        2: ("failed", "TelegramError: Too Many Requests: retry after 5"),
        3: ("failed", "NetworkError: Bad Gateway"),
        4: ("failed", "content_expired"),
    }
    await outbox_store.enqueue(
        session=session,
        push_id=push.id,
        messages=[
            outbox_store.NewMessage(
                chat, "content", {"content_id": item.id}, f"k{chat}", FIXED_NOW
            )
            for chat in errors
        ],
        now=FIXED_NOW,
    )
    for row in await outbox_store.messages_of(session=session, push_id=push.id):
        state, error = errors[row.chat_id]
        assert row.id is not None
        await outbox_store.mark_final(
            session=session, message_id=row.id, state=state, error=error, attempts=1
        )
    summary = await push_service.failure_summary(session=session, push_id=push.id)
    assert summary.reasons == {
        "blocked": 1, "chat_not_found": 0, "too_many_requests": 1, "other": 2,
    }  # fmt: skip
    assert summary.retryable == 2
    later = FIXED_NOW + dt.timedelta(minutes=5)
    result = await push_service.retry_failed(session=session, push_id=push.id, now=later)
    assert result.queued == 2 and result.push_id != push.id
    moved = await outbox_store.messages_of(session=session, push_id=result.push_id)
    assert sorted(r.chat_id for r in moved) == [2, 3]
    assert {r.state for r in moved} == {"pending"}
    with pytest.raises(push_service.PushError) as refused:
        await push_service.retry_failed(session=session, push_id=push.id, now=later)
    assert refused.value.code == "nothing_to_retry"
