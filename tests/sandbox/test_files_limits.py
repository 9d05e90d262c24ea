"""The sandbox's file limits and shapes, as the Bot API has them (bots/api#sending-files).

Uploads over 50 MB are refused with HTTP 413 "Request Entity Too Large"; getFile serves
files up to 20 MB ("Bad Request: file is too big"); a file already on the servers is
re-sent by file_id whatever its size; a file id of one type is refused as another
("can't use file of type Photo as Document"); a video's size and length come from its
moov box (or from what the sender says).
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from telegram import Bot
from telegram.error import BadRequest, TelegramError

from bot.sandbox import Sandbox, SimUser
from bot.sandbox.files import video_meta

VIDEO = Path(__file__).resolve().parents[2] / "bot/content/packs/starter/media/quake.mp4"


@pytest.fixture
async def alice(sandbox: Sandbox) -> SimUser:
    user = sandbox.user("Alice", username="alice")
    await user.send("/start")
    return user


async def test_upload_over_the_limit_is_refused_with_413(
    bot: Bot, sandbox: Sandbox, alice: SimUser
) -> None:
    sandbox.world.upload_limit = 1000  # 50 MB in production; lowered to keep the test small
    with pytest.raises(TelegramError, match="(?i)too large"):
        await bot.send_document(alice.id, b"x" * 1001, filename="big.bin")
    assert not [m for m in alice.messages if m.document]
    ok = await bot.send_document(alice.id, b"x" * 1000, filename="fits.bin")
    assert ok.document is not None and ok.document.file_size == 1000


async def test_big_files_resend_by_id_but_getfile_stops_at_20_mb(
    bot: Bot, sandbox: Sandbox, alice: SimUser
) -> None:
    stored = sandbox.world.files.add(b"stand-in", "video", file_name="lecture.mp4")
    stored.declared_size = 60 * 1024 * 1024  # uploaded by a user (up to 2 GB), not by a bot
    sent = await bot.send_video(alice.id, stored.file_id)
    assert sent.video is not None and sent.video.file_size == 60 * 1024 * 1024
    with pytest.raises(BadRequest, match="(?i)^file is too big$"):
        await bot.get_file(stored.file_id)


async def test_a_file_id_is_used_only_as_its_own_type(
    bot: Bot, sandbox: Sandbox, alice: SimUser
) -> None:
    out = io.BytesIO()
    Image.new("RGB", (120, 80), "blue").save(out, "PNG")
    photo = await bot.send_photo(alice.id, out.getvalue())
    with pytest.raises(BadRequest, match="(?i)^can't use file of type photo as document$"):
        await bot.send_document(alice.id, photo.photo[-1].file_id)
    doc = await bot.send_document(alice.id, out.getvalue(), filename="poster.png")
    assert doc.document is not None and doc.document.mime_type == "image/png"
    again = await bot.send_document(alice.id, doc.document.file_id)
    assert again.document is not None
    assert again.document.file_unique_id == doc.document.file_unique_id


async def test_a_video_reports_its_own_size_and_length(bot: Bot, alice: SimUser) -> None:
    data = VIDEO.read_bytes()
    assert video_meta(data) == (360, 480, 3)
    sent = await bot.send_video(alice.id, data, filename="quake.mp4")
    assert sent.video is not None
    assert (sent.video.width, sent.video.height, int(sent.video.duration)) == (360, 480, 3)
    assert sent.video.mime_type == "video/mp4" and sent.video.file_size == len(data)
    told = await bot.send_video(alice.id, data, filename="q.mp4", width=720, height=960)
    assert told.video is not None and (told.video.width, told.video.height) == (720, 960)
    assert video_meta(b"not a video") is None
