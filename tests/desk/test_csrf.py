"""State changes only by POST with the signed initData in a form body; GET changes nothing."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Sequence

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from bot.desk import home
from bot.desk.app import desk_installer
from bot.desk.web import DeskProblem, DeskRoute, Viewer, desk_action, desk_page
from bot.runtime.context import Runtime
from bot.runtime.web import build_web_app
from bot.sandbox.factories import make_region_tree
from storage import audit
from storage.models import AuditLog
from tests.desk.conftest import DeskClient


async def note(request: web.Request, viewer: Viewer) -> str:
    """A test action: write an audit entry (a state change)."""
    form = await request.post()
    await audit.record(
        session=viewer.session,
        actor_id=viewer.person_id,
        action="desk.test",
        now=viewer.now,
        reason=str(form.get("text", "")),
    )
    if form.get("fail"):
        raise DeskProblem(400, "desk: {value} is not a region code", value="x")
    return "<section class='desk-page'>ok</section>"


async def peek(request: web.Request, viewer: Viewer) -> str:
    return "<section class='desk-page'>peek</section>"


def routes() -> Sequence[DeskRoute]:
    return [desk_action("test/note", note), desk_page("test/peek", peek, roles=["admin"])]


@pytest.fixture
async def actions(runtime: Runtime) -> AsyncIterator[DeskClient]:
    installer = desk_installer([home, sys.modules[__name__]])
    app = build_web_app(runtime, installers=[installer])
    async with TestClient(TestServer(app)) as client:
        desk = DeskClient(client=client, runtime=runtime)
        async with runtime.sessions() as s, s.begin():
            await make_region_tree(s)
            await desk.person(s, 501, role="coordinator", region_code="330100")
        yield desk


async def notes(desk: DeskClient) -> int:
    async with desk.runtime.sessions() as s:
        query = select(func.count()).select_from(AuditLog).where(AuditLog.action == "desk.test")
        return int((await s.execute(query)).scalar_one())


async def test_post_with_init_data_in_the_body_acts(actions: DeskClient) -> None:
    done = await actions.post("test/note", {"text": "好"}, user=501)
    assert done.status == 200 and "ok" in done.text
    assert await notes(actions) == 1


async def test_post_without_body_credential_changes_nothing(actions: DeskClient) -> None:
    assert (await actions.post("test/note", {"text": "x"})).status == 401
    # The header is the GET credential; a POST must carry the data in its body.
    assert (await actions.post("test/note", {"text": "x"}, user=501, header=True)).status == 401
    forged = actions.sign(501, token="654321:OTHER-BOT")
    assert (await actions.post("test/note", {"text": "x"}, init_data=forged)).status == 401
    raw = actions.sign(501)
    async with actions.client.post(
        "/desk/p/test/note", json={"_init_data": raw}, headers={"Content-Type": "application/json"}
    ) as response:
        assert response.status == 401
    assert await notes(actions) == 0


async def test_get_never_acts(actions: DeskClient) -> None:
    assert (await actions.get("test/note", user=501)).status == 405
    assert await notes(actions) == 0


async def test_a_problem_rolls_the_action_back(actions: DeskClient) -> None:
    failed = await actions.post("test/note", {"text": "x", "fail": "1"}, user=501)
    assert failed.status == 400 and "不是地区代码" in failed.text
    assert await notes(actions) == 0


async def test_role_gated_page_is_refused_and_audited(actions: DeskClient) -> None:
    refused = await actions.get("test/peek", user=501)
    assert refused.status == 403 and "peek" not in refused.text
    async with actions.runtime.sessions() as s:
        entry = (
            (await s.execute(select(AuditLog).where(AuditLog.action == "desk:test/peek")))
            .scalars()
            .one()
        )
    assert entry.allowed is False and entry.reason == "role"
