"""HTTP tests of the desk: aiohttp's test client against the real web app, signed initData.

Every desk test (D1–D3) uses the ``desk`` fixture::

    async def test_x(desk: DeskClient) -> None:
        async with desk.runtime.sessions() as s, s.begin():
            await desk.person(s, 501, role="coordinator", region_code="330100")
        page = await desk.get("dashboard", user=501)
        assert page.status == 200 and "西湖区" in page.text
        done = await desk.post("queues/reviews/7/approve", {"note": "好"}, user=501)

``user`` is a Telegram id; the helper signs initData for it with the bot's token at the
runtime's (fixed) clock. ``init_data=`` sends a given string instead (forgeries), and
``init_data=None`` with ``user=None`` sends none.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncSession

from bot.desk.app import install_desk
from bot.desk.web import INIT_FIELD, INIT_HEADER, PAGE_PREFIX
from bot.runtime.context import Runtime
from bot.runtime.web import build_web_app
from bot.sandbox.factories import make_grant, make_person
from bot.sandbox.webapp import sign_init_data
from storage.models import Person
from tests.desk.world import World, seed

TOKEN = "123456:TEST-TOKEN"  # tests.conftest.make_settings' bot token
UNSET: Any = object()


@dataclass
class Page:
    """One answer of the desk."""

    status: int
    text: str
    headers: Mapping[str, str]


@dataclass
class DeskClient:
    """The desk's web app under test, with helpers to sign initData and seed viewers."""

    client: TestClient
    runtime: Runtime

    def sign(
        self,
        user: int,
        *,
        first_name: str = "测试",
        language_code: str | None = "zh-hans",
        auth_date: dt.datetime | None = None,
        token: str = TOKEN,
        extra: Mapping[str, str] | None = None,
    ) -> str:
        """Return initData for Telegram user ``user``, signed as Telegram would."""
        profile: dict[str, Any] = {"id": user, "first_name": first_name}
        if language_code is not None:
            profile["language_code"] = language_code
        return sign_init_data(
            token,
            profile,
            auth_date=auth_date or self.runtime.now(),
            query_id="AAHdF6IQAAAAAN0XohDhrOrc",
            extra=extra,
        )

    def _init(self, user: int | None, init_data: str | None) -> str | None:
        if init_data is not UNSET:
            return init_data
        return self.sign(user) if user is not None else None

    async def get(
        self,
        path: str,
        *,
        user: int | None = None,
        init_data: str | None = UNSET,
        params: Mapping[str, str] | None = None,
    ) -> Page:
        """GET the fragment ``/desk/p/<path>`` as ``user``."""
        raw = self._init(user, init_data)
        headers = {INIT_HEADER: raw} if raw is not None else {}
        url = path if path.startswith("/") else PAGE_PREFIX + path
        async with self.client.get(url, headers=headers, params=params) as response:
            return Page(response.status, await response.text(), dict(response.headers))

    async def post(
        self,
        path: str,
        data: Mapping[str, str] | None = None,
        *,
        user: int | None = None,
        init_data: str | None = UNSET,
        header: bool = False,
    ) -> Page:
        """POST the action ``/desk/p/<path>`` as ``user`` (initData in the form body).

        ``header=True`` sends the initData in the GET header instead of the body (which
        the desk must refuse).
        """
        raw = self._init(user, init_data)
        form = dict(data or {})
        headers: dict[str, str] = {}
        if raw is not None:
            if header:
                headers[INIT_HEADER] = raw
            else:
                form[INIT_FIELD] = raw
        url = path if path.startswith("/") else PAGE_PREFIX + path
        async with self.client.post(url, data=form, headers=headers) as response:
            return Page(response.status, await response.text(), dict(response.headers))

    async def person(
        self,
        session: AsyncSession,
        telegram_id: int,
        *,
        role: str | None = None,
        region_code: str | None = None,
        station_id: int | None = None,
        first_name: str = "测试",
        language: str | None = None,
    ) -> Person:
        """Add a person (and one role grant when ``role`` is given)."""
        person = await make_person(
            session, telegram_id=telegram_id, first_name=first_name, language=language
        )
        assert person.id is not None
        if role is not None:
            await make_grant(
                session,
                person_id=person.id,
                role=role,
                region_code=region_code,
                station_id=station_id,
            )
        return person


@pytest.fixture
async def desk(runtime: Runtime) -> AsyncIterator[DeskClient]:
    """The desk's web app (only the desk routes) on the test database."""
    app = build_web_app(runtime, installers=[install_desk])
    async with TestClient(TestServer(app)) as client:
        yield DeskClient(client=client, runtime=runtime)


@pytest.fixture
async def seeded(desk: DeskClient) -> World:
    """The small province of ``tests.desk.world`` with its viewers, committed."""
    async with desk.runtime.sessions() as s, s.begin():
        return await seed(s)
