"""Activity photo thumbnails for the desk, behind short-lived signed URLs.

An ``<img>`` cannot send the initData header, so the station page (which has already checked
that the viewer may see the station) signs each photo's URL: ``/desk/photo/<id>?e=<expiry>
&v=<viewer>&s=<HMAC>``, valid no longer than the viewer's initData. The route checks the
signature, reads the photo's Telegram ``file_id`` (in a short transaction of its own), then —
outside any transaction — fetches the file through the Bot API (``getFile`` and the file URL;
the sandbox emulates both) and answers a small JPEG, cached in memory by ``file_unique_id``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import io
import logging
from collections import OrderedDict

import aiohttp
from aiohttp import web
from PIL import Image

from bot.desk.web import PREFIX, Viewer
from bot.runtime.context import Runtime
from storage import desk as desk_store

log = logging.getLogger(__name__)

PHOTO_PATH = f"{PREFIX}/photo/{{photo_id:\\d+}}"
THUMB_PX = 320
CACHE_MAX = 512
FETCH_TIMEOUT = aiohttp.ClientTimeout(total=15)
EXTRAS_KEY = "desk_photo_cache"


def _key(runtime: Runtime) -> bytes:
    token = runtime.settings.telegram.token
    secret = token.get_secret_value() if token is not None else ""
    return hashlib.sha256(b"kepubot desk photo\n" + secret.encode()).digest()


def _signature(runtime: Runtime, photo_id: int, expires: int, viewer: int) -> str:
    message = f"{photo_id}.{expires}.{viewer}".encode()
    return hmac.new(_key(runtime), message, hashlib.sha256).hexdigest()[:32]


def photo_url(viewer: Viewer, photo_id: int) -> str:
    """Return the signed thumbnail URL of ``photo_id`` for ``viewer`` (page already checked)."""
    max_age = viewer.runtime.settings.desk.init_data_max_age_minutes * 60
    expires = int(viewer.init_data.auth_date.timestamp()) + max_age
    sig = _signature(viewer.runtime, photo_id, expires, viewer.telegram_id)
    return f"{PREFIX}/photo/{photo_id}?e={expires}&v={viewer.telegram_id}&s={sig}"


def _cache(runtime: Runtime) -> OrderedDict[str, bytes]:
    cache = runtime.extras.get(EXTRAS_KEY)
    if cache is None:
        cache = runtime.extras[EXTRAS_KEY] = OrderedDict()
    return cache  # type: ignore[no-any-return]


def thumbnail(data: bytes) -> bytes:
    """Return a JPEG at most THUMB_PX on its longer side."""
    with Image.open(io.BytesIO(data)) as image:
        image.thumbnail((THUMB_PX, THUMB_PX))
        out = io.BytesIO()
        image.convert("RGB").save(out, format="JPEG", quality=80)
    return out.getvalue()


async def fetch_file(runtime: Runtime, file_id: str) -> bytes:
    """Download a file by its Telegram file_id (getFile, then the file URL)."""
    tg = runtime.settings.telegram
    token = tg.token.get_secret_value() if tg.token is not None else ""
    async with aiohttp.ClientSession(timeout=FETCH_TIMEOUT) as http:
        async with http.post(f"{tg.base_url}{token}/getFile", json={"file_id": file_id}) as r:
            answer = await r.json()
        if not answer.get("ok"):
            raise LookupError(answer.get("description") or "getFile failed")
        path = answer["result"]["file_path"]
        async with http.get(f"{tg.base_file_url}{token}/{path}") as r:
            r.raise_for_status()
            return await r.read()


def install_photo_route(app: web.Application, runtime: Runtime) -> None:
    """Add the signed thumbnail route."""

    async def photo(request: web.Request) -> web.StreamResponse:
        try:
            photo_id = int(request.match_info["photo_id"])
            expires = int(request.query.get("e", ""))
            viewer = int(request.query.get("v", ""))
        except ValueError:
            return web.Response(status=400, text="bad request")
        given = request.query.get("s", "")
        expected = _signature(runtime, photo_id, expires, viewer)
        if not hmac.compare_digest(given, expected) or runtime.now().timestamp() > expires:
            return web.Response(status=401, text="expired")
        async with runtime.sessions() as session:
            found = await desk_store.photo_with_station(session=session, photo_id=photo_id)
        if found is None:
            return web.Response(status=404, text="not found")
        row, _station = found
        cache = _cache(runtime)
        data = cache.get(row.file_unique_id)
        if data is None:
            try:
                raw = await fetch_file(runtime, row.file_id)
                data = await asyncio.to_thread(thumbnail, raw)
            except (aiohttp.ClientError, LookupError, OSError, ValueError, TimeoutError):
                log.warning("desk photo unavailable", extra={"photo_id": photo_id})
                return web.Response(status=502, text="photo unavailable")
            cache[row.file_unique_id] = data
            while len(cache) > CACHE_MAX:
                cache.popitem(last=False)
        return web.Response(
            body=data,
            content_type="image/jpeg",
            headers={"Cache-Control": "private, max-age=3600", "Referrer-Policy": "no-referrer"},
        )

    app.router.add_get(PHOTO_PATH, photo)
