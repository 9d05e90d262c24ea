"""Detection end to end through the sandbox: photo download and hash, the sales question."""

from __future__ import annotations

from sqlalchemy import select

from bot.handlers.activities_photos import hash_pending_photos
from bot.sandbox import photos as synth
from bot.sandbox.harness import RunningBot
from storage.models import ActivityPhoto
from tests.activities.helpers import activities, flags, setup_admin
from tests.activities.test_form_e2e import last, press


async def _hash(bot_env: RunningBot) -> dict[str, object]:
    return await hash_pending_photos(bot_env.runtime, bot_env.processor.application.bot)


async def _report(bot_env: RunningBot, user: object, photo: bytes, caption: str) -> None:
    await user.send_photo(photo, caption=caption)  # type: ignore[attr-defined]
    await last(bot_env, user)  # type: ignore[arg-type]
    await press(bot_env, user, "确认提交")  # type: ignore[arg-type]


async def test_resized_copy_is_caught_after_download(bot_env: RunningBot) -> None:
    user, _ = await setup_admin(bot_env)
    original = synth.jpeg(synth.photo(5))
    await _report(bot_env, user, original, "#活动 今天 讲座 防范电信诈骗 45人")
    await _report(bot_env, user, synth.jpeg(synth.reshot(5, 1)), "#活动 今天 展览 科普展 30人")
    await _report(bot_env, user, synth.resized(original), "#活动 昨天 讲座 垃圾分类 40人")
    assert len(await activities(bot_env)) == 3
    assert await flags(bot_env) == []  # three different files: nothing by file_unique_id
    summary = await _hash(bot_env)
    assert summary == {"hashed": 3, "failed": 0, "raised": 1}
    [flag] = await flags(bot_env)
    acts = await activities(bot_env)
    assert (flag.kind, flag.subject_id, flag.detail["other_id"]) == (
        "photo_reuse",
        acts[2].id,
        acts[0].id,
    )
    assert flag.detail["match"] == "phash" and flag.detail["distance"] <= 10
    assert await _hash(bot_env) == {"hashed": 0, "failed": 0, "raised": 0}  # nothing left


async def test_failed_download_keeps_the_activity(bot_env: RunningBot) -> None:
    user, _ = await setup_admin(bot_env)
    await _report(bot_env, user, synth.jpeg(synth.photo(6)), "#活动 今天 讲座 防范电信诈骗 45人")
    async with bot_env.runtime.sessions() as s, s.begin():
        photo = (await s.execute(select(ActivityPhoto))).scalar_one()
        photo.file_id = "no-such-file"
    assert await _hash(bot_env) == {"hashed": 0, "failed": 1, "raised": 0}
    [act] = await activities(bot_env)
    async with bot_env.runtime.sessions() as s:
        photo = (await s.execute(select(ActivityPhoto))).scalar_one()
    assert act.deleted_at is None and photo.phash == ""  # compared by file only, not retried


async def test_sales_question_on_the_confirm_card(bot_env: RunningBot) -> None:
    user, _ = await setup_admin(bot_env)
    await user.send_photo(synth.jpeg(synth.photo(7)), caption="#活动 今天 讲座 健康讲座 45人")
    card = await last(bot_env, user)
    assert "涉及销售或赞助：否" in (card.text or "")
    await press(bot_env, user, "涉及销售或赞助")
    assert "涉及销售或赞助：是" in (user.messages[-1].text or "")
    await press(bot_env, user, "确认提交")
    assert "不得开展纯商业性活动" in (user.messages[-1].text or "")
    [act] = await activities(bot_env)
    [flag] = await flags(bot_env)
    assert act.commercial is True and act.flagged and act.deleted_at is None
    assert (flag.kind, flag.status, flag.detail["answer"]) == ("commercial", "open", True)


async def test_untouched_sales_question_is_no(bot_env: RunningBot) -> None:
    user, _ = await setup_admin(bot_env)
    await _report(bot_env, user, synth.jpeg(synth.photo(8)), "#活动 今天 讲座 垃圾分类 45人")
    [act] = await activities(bot_env)
    assert act.commercial is False and await flags(bot_env) == []
