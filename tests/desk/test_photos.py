"""Activity photo thumbnails: signed per viewer, short-lived, fetched via the Bot API sandbox."""

from __future__ import annotations

import io
import re

from aiohttp.test_utils import TestClient, TestServer
from PIL import Image
from sqlalchemy import update

from bot.desk.app import install_desk
from bot.runtime.context import Runtime
from bot.runtime.web import build_web_app
from bot.sandbox import Sandbox
from bot.sandbox.photos import jpeg, photo
from storage.db import create_engine, session_factory
from storage.models import ActivityPhoto
from tests.conftest import FixedClock, make_settings
from tests.desk import world as w
from tests.desk.conftest import DeskClient

IMG = re.compile(r'<img loading="lazy" src="([^"]+)"')


async def test_thumbnail_through_the_sandbox(
    sandbox: Sandbox, sqlite_url: str, clock: FixedClock
) -> None:
    settings = make_settings(
        sqlite_url,
        telegram={"base_url": sandbox.base_url, "base_file_url": sandbox.base_file_url},
    )
    engine = create_engine(sqlite_url)
    runtime = Runtime(
        settings=settings, engine=engine, sessions=session_factory(engine), clock=clock
    )
    stored = sandbox.world.files.add(jpeg(photo(7)), "photo", size=(1280, 960))
    async with TestClient(TestServer(build_web_app(runtime, installers=[install_desk]))) as c:
        desk = DeskClient(client=c, runtime=runtime)
        async with runtime.sessions() as s, s.begin():
            world = await w.seed(s)
            await s.execute(
                update(ActivityPhoto)
                .where(ActivityPhoto.id == world.photo)
                .values(file_id=stored.file_id, file_unique_id=stored.file_unique_id)
            )
        page = await desk.get(f"stations/{world.xihu}", user=w.COUNTY)
        (src,) = IMG.findall(page.text)
        url = src.replace("&amp;", "&")
        async with c.get(url) as answer:
            body = await answer.read()
            assert answer.status == 200 and answer.content_type == "image/jpeg"
        with Image.open(io.BytesIO(body)) as image:
            assert max(image.size) == 320
        # Tampered, for another photo, or expired: refused.
        async with c.get(url.replace("s=", "s=0")) as answer:
            assert answer.status == 401
        async with c.get(url.replace(f"/photo/{world.photo}?", "/photo/999?")) as answer:
            assert answer.status == 401
        # A file Telegram no longer has: a clear 502, not a traceback.
        async with runtime.sessions() as s, s.begin():
            await s.execute(
                update(ActivityPhoto)
                .where(ActivityPhoto.id == world.photo)
                .values(file_id="GONE", file_unique_id="gone")
            )
        async with c.get(url) as answer:
            assert answer.status == 502
        clock.advance(hours=2)
        async with c.get(url) as answer:
            assert answer.status == 401
    await engine.dispose()


async def test_photo_urls_are_only_on_pages_in_scope(desk: DeskClient, seeded: w.World) -> None:
    refused = await desk.get(f"stations/{seeded.xihu}", user=w.NINGBO)
    assert refused.status == 403 and "/desk/photo/" not in refused.text
    # A URL signed for one viewer does not open for another.
    page = await desk.get(f"stations/{seeded.xihu}", user=w.ADMIN)
    (src,) = IMG.findall(page.text)
    other = src.replace("&amp;", "&").replace(f"v={w.ADMIN}", f"v={w.NINGBO}")
    async with desk.client.get(other) as answer:
        assert answer.status == 401
