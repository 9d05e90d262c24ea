"""Every emulated method answers in shapes PTB parses, errors raise PTB's exceptions."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    ChatFullInfo,
    ChatMemberAdministrator,
    ChatMemberMember,
    File,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    KeyboardButton,
    MenuButtonCommands,
    MenuButtonDefault,
    Message,
    ReplyKeyboardMarkup,
    ReplyParameters,
    WebhookInfo,
)
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken

from bot.sandbox import Sandbox


def png(width: int = 200, height: int = 100, color: str = "red") -> bytes:
    """Return a small PNG image."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
async def alice(sandbox: Sandbox):  # type: ignore[no-untyped-def]
    """Return a user who has started the bot."""
    user = sandbox.user("Alice", username="alice")
    await user.send("/start")
    return user


async def test_get_me_reports_privacy(bot: Bot, sandbox: Sandbox) -> None:
    me = await bot.get_me()
    assert me.username == "kepubot_bot" and me.is_bot
    assert me.can_read_all_group_messages is True
    sandbox.privacy_mode = True
    assert (await bot.get_me()).can_read_all_group_messages is False


async def test_send_message_with_markup_and_reply(bot: Bot, sandbox: Sandbox, alice) -> None:  # type: ignore[no-untyped-def]
    kb = InlineKeyboardMarkup([[InlineKeyboardButton("Go", callback_data="GO:1")]])
    first = await bot.send_message(
        alice.id, "<b>hi</b> &amp; you", parse_mode="HTML", reply_markup=kb
    )
    assert isinstance(first, Message)
    assert first.from_user is not None and first.from_user.id == bot.id
    assert first.chat.id == alice.id and first.reply_markup == kb
    second = await bot.send_message(
        alice.id, "reply", reply_parameters=ReplyParameters(first.message_id)
    )
    assert second.reply_to_message is not None
    assert second.reply_to_message.message_id == first.message_id
    sim = alice.messages[0]
    assert sim.text == "<b>hi</b> &amp; you" and sim.parse_mode == "HTML"
    assert sim.buttons[0][0].callback_data == "GO:1"


async def test_reply_keyboard_and_removal(bot: Bot, alice) -> None:  # type: ignore[no-untyped-def]
    markup = ReplyKeyboardMarkup([[KeyboardButton("Share", request_contact=True)]])
    await bot.send_message(alice.id, "phone?", reply_markup=markup)
    assert alice.keyboard[0][0].request_contact is True


async def test_bad_html_and_unknown_chat(bot: Bot, alice) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(BadRequest, match="(?i)can't parse entities"):
        await bot.send_message(alice.id, "a <foo> b", parse_mode="HTML")
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await bot.send_message(42, "x")


async def test_blocked_and_not_started(bot: Bot, sandbox: Sandbox, alice) -> None:  # type: ignore[no-untyped-def]
    stranger = sandbox.user("Bob")
    with pytest.raises(Forbidden, match="can't initiate"):
        await bot.send_message(stranger.id, "hi")
    await alice.block_bot()
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(alice.id, "hi")


async def test_photo_document_video_and_download(bot: Bot, alice) -> None:  # type: ignore[no-untyped-def]
    image = png()
    photo = await bot.send_photo(alice.id, image, caption="#活动")
    assert photo.photo[-1].width == 200 and photo.photo[-1].height == 100
    assert photo.caption == "#活动"
    again = await bot.send_photo(alice.id, photo.photo[-1].file_id)
    assert again.photo[-1].file_unique_id == photo.photo[-1].file_unique_id
    doc = await bot.send_document(alice.id, b"a,b\n1,2\n", filename="report.csv")
    assert doc.document is not None and doc.document.file_name == "report.csv"
    video = await bot.send_video(alice.id, b"\x00\x00fakevideo", filename="v.mp4")
    assert video.video is not None and video.video.file_id
    file = await bot.get_file(doc.document.file_id)
    assert isinstance(file, File) and file.file_size == 8
    assert bytes(await file.download_as_bytearray()) == b"a,b\n1,2\n"
    assert alice.messages[-2].document_bytes() == b"a,b\n1,2\n"
    assert alice.messages[-2].filename == "report.csv"
    assert alice.messages[0].media_bytes() == image
    with pytest.raises(BadRequest, match="(?i)invalid file_id"):
        await bot.get_file("nope")


async def test_media_group_returns_messages(bot: Bot, alice) -> None:  # type: ignore[no-untyped-def]
    media = [InputMediaPhoto(png(color="blue"), caption="album"), InputMediaPhoto(png())]
    msgs = await bot.send_media_group(alice.id, media)
    assert len(msgs) == 2 and all(isinstance(m, Message) for m in msgs)
    assert msgs[0].media_group_id == msgs[1].media_group_id
    assert msgs[0].caption == "album"


async def test_location(bot: Bot, alice) -> None:  # type: ignore[no-untyped-def]
    msg = await bot.send_location(alice.id, 30.27, 120.15)
    assert msg.location is not None and msg.location.latitude == pytest.approx(30.27)


async def test_edits_and_delete(bot: Bot, alice) -> None:  # type: ignore[no-untyped-def]
    kb = InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="A")]])
    msg = await bot.send_message(alice.id, "v1", reply_markup=kb)
    edited = await bot.edit_message_text("v2", alice.id, msg.message_id, reply_markup=kb)
    assert isinstance(edited, Message) and edited.text == "v2" and edited.edit_date
    with pytest.raises(BadRequest, match="(?i)not modified"):
        await bot.edit_message_text("v2", alice.id, msg.message_id, reply_markup=kb)
    bare = await bot.edit_message_reply_markup(alice.id, msg.message_id)
    assert isinstance(bare, Message) and bare.reply_markup is None
    photo = await bot.send_photo(alice.id, png(), caption="old")
    cap = await bot.edit_message_caption(alice.id, photo.message_id, caption="new")
    assert isinstance(cap, Message) and cap.caption == "new"
    sim = alice.messages[-2]
    assert sim.text == "v2" and [e["text"] for e in sim.edits] == ["v1", "v2"]
    assert await bot.delete_message(alice.id, msg.message_id) is True
    assert sim.deleted
    with pytest.raises(BadRequest, match="(?i)not found"):
        await bot.delete_message(alice.id, msg.message_id)


async def test_chat_info_members_and_leave(bot: Bot, sandbox: Sandbox, alice) -> None:  # type: ignore[no-untyped-def]
    grp = sandbox.group("Science fans", members=[alice], extra_members=150)
    await alice.add_bot_to(grp, as_admin=True)
    info = await bot.get_chat(grp.id)
    assert isinstance(info, ChatFullInfo) and info.title == "Science fans"
    assert await bot.get_chat_member_count(grp.id) == 152
    me = await bot.get_chat_member(grp.id, bot.id)
    assert isinstance(me, ChatMemberAdministrator)
    member = await bot.get_chat_member(grp.id, alice.id)
    assert isinstance(member, ChatMemberMember) and member.user.id == alice.id
    private = await bot.get_chat(alice.id)
    assert private.first_name == "Alice" and private.type == "private"
    assert await bot.leave_chat(grp.id) is True
    assert grp.bot_status == "left"
    with pytest.raises(Forbidden):
        await bot.send_message(grp.id, "still here?")


async def test_commands_and_menu_button(bot: Bot, sandbox: Sandbox, alice) -> None:  # type: ignore[no-untyped-def]
    cmds = [BotCommand("start", "开始"), BotCommand("stats", "统计")]
    assert await bot.set_my_commands(cmds) is True
    assert await bot.set_my_commands(
        cmds[:1], scope=BotCommandScopeAllPrivateChats(), language_code="en"
    )
    assert await bot.set_my_commands(cmds[1:], scope=BotCommandScopeChat(alice.id))
    assert await bot.get_my_commands() == tuple(cmds)
    assert await bot.get_my_commands(BotCommandScopeAllPrivateChats(), "en") == (cmds[0],)
    assert await bot.get_my_commands(BotCommandScopeChat(alice.id)) == (cmds[1],)
    assert sandbox.commands(f"chat:{alice.id}")[0]["command"] == "stats"
    assert await bot.delete_my_commands() is True
    assert await bot.get_my_commands() == ()
    with pytest.raises(BadRequest):
        await bot.set_my_commands([BotCommand("Bad Command", "x")])
    assert await bot.set_chat_menu_button(alice.id, MenuButtonDefault())
    assert isinstance(await bot.get_chat_menu_button(alice.id), MenuButtonDefault)
    assert isinstance(await bot.get_chat_menu_button(), MenuButtonCommands)


async def test_updates_offset_limit_and_allowed(bot: Bot, sandbox: Sandbox) -> None:
    carol = sandbox.user("Carol")
    for i in range(3):
        await carol.send(f"m{i}")
    first = await bot.get_updates(limit=2)
    assert [u.message.text for u in first if u.message] == ["m0", "m1"]
    rest = await bot.get_updates(offset=first[-1].update_id + 1)
    assert [u.message.text for u in rest if u.message] == ["m2"]
    await carol.block_bot()
    only_msgs = await bot.get_updates(offset=rest[-1].update_id + 1, allowed_updates=["message"])
    assert only_msgs == ()
    assert sandbox.pending_updates == 0


async def test_a_long_queue_costs_a_poll_only_what_it_returns(
    bot: Bot, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """getUpdates looks at the head of the queue only (a backlog must not slow each poll)."""
    erin = sandbox.user("Erin")
    await erin.block_bot()  # a my_chat_member update, dropped when only messages are asked
    for i in range(500):
        await sandbox.push_update(
            "chosen_inline_result",
            {
                "result_id": str(i),
                "from": {"id": erin.id, "is_bot": False, "first_name": "E"},
                "query": "q",
            },
        )
    world = sandbox.world
    looked = 0
    real_allowed = world.allowed

    def counting(update: dict, allowed: list[str] | None) -> bool:
        nonlocal looked
        looked += 1
        return real_allowed(update, allowed)

    monkeypatch.setattr(world, "allowed", counting)
    first = await bot.get_updates(limit=100, allowed_updates=["chosen_inline_result"])
    assert [u.chosen_inline_result.result_id for u in first] == [str(i) for i in range(100)]
    assert looked == 101  # the dropped update, then the hundred returned
    rest = await bot.get_updates(offset=first[-1].update_id + 1, limit=100)
    assert rest[0].chosen_inline_result.result_id == "100"
    assert sandbox.pending_updates == 400


async def test_a_backlog_pushed_at_once_wakes_a_long_poll_and_keeps_its_order(
    bot: Bot, sandbox: Sandbox
) -> None:
    """push_updates queues a backlog (as Telegram holds one after downtime) in one go."""
    import asyncio

    erin = sandbox.user("Erin")
    poll = asyncio.create_task(bot.get_updates(timeout=20, limit=100))
    await asyncio.sleep(0.05)
    payloads = [
        {
            "result_id": str(i),
            "from": {"id": erin.id, "is_bot": False, "first_name": "E"},
            "query": "q",
        }
        for i in range(250)
    ]
    last = await sandbox.push_updates("chosen_inline_result", payloads)
    first = await asyncio.wait_for(poll, 2)
    assert [u.chosen_inline_result.result_id for u in first] == [str(i) for i in range(100)]
    assert [u.update_id for u in first] == list(range(last - 249, last - 149))
    assert sandbox.pending_updates == 250
    rest = await bot.get_updates(offset=first[-1].update_id + 1, limit=100)
    assert rest[0].update_id == first[-1].update_id + 1
    assert sandbox.pending_updates == 150


async def test_long_poll_returns_when_update_arrives(bot: Bot, sandbox: Sandbox) -> None:
    import asyncio

    dave = sandbox.user("Dave")
    poll = asyncio.create_task(bot.get_updates(timeout=20))
    await asyncio.sleep(0.05)
    await dave.send("wake")
    updates = await asyncio.wait_for(poll, 2)
    assert updates[0].message is not None and updates[0].message.text == "wake"


async def test_webhook_info_conflict_and_delete(bot: Bot, sandbox: Sandbox) -> None:
    assert await bot.set_webhook("http://127.0.0.1:9/hook", secret_token="s3cret")
    info = await bot.get_webhook_info()
    assert isinstance(info, WebhookInfo) and info.url == "http://127.0.0.1:9/hook"
    with pytest.raises(Conflict):
        await bot.get_updates()
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert (await bot.get_webhook_info()).url == ""
    assert await bot.close() is True and await bot.log_out() is True


async def test_wrong_token_and_unknown_method(sandbox: Sandbox) -> None:
    wrong = Bot("999:WRONG", base_url=sandbox.base_url)
    with pytest.raises(InvalidToken):
        await wrong.initialize()
    good = Bot(sandbox.token, base_url=sandbox.base_url)
    await good.initialize()
    with pytest.raises(Exception, match="Not Found|not found"):
        await good.do_api_request("noSuchMethod")
    await good.shutdown()
