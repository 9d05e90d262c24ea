"""Photo thumbnails for the desk (activity photos, review evidence), behind signed URLs.

An ``<img>`` cannot send the initData header, so a page that has already checked that the
viewer may see a photo signs its URL: ``/desk/<kind>/<id>?e=<expiry>&v=<viewer>&s=<HMAC>``,
valid no longer than the viewer's initData. The route checks the signature, reads the
photo's Telegram ``file_id`` (in a short transaction of its own), then — outside any
transaction — fetches the file through the Bot API (``getFile`` and the file URL; the
sandbox emulates both) and answers a small JPEG, cached in memory by ``file_unique_id``.

Two kinds share this one path: ``photo`` (an activity's photos, on the station page) and
``evidence`` (an application's evidence, on the review card).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import io
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiohttp
from aiohttp import web
from PIL import Image
from sqlalchemy.ext.asyncio import AsyncSession

from bot.desk.web import PREFIX, Viewer
from bot.runtime.context import Runtime
from storage import desk as desk_store
from storage import stations as station_store

log = logging.getLogger(__name__)

THUMB_PX = 320
CACHE_MAX = 512
FETCH_TIMEOUT = aiohttp.ClientTimeout(total=15)
EXTRAS_KEY = "desk_photo_cache"


@dataclass(frozen=True)
class StoredPhoto:
    """A photo as Telegram knows it."""

    file_id: str
    file_unique_id: str


Lookup = Callable[[AsyncSession, int], Awaitable[StoredPhoto | None]]


async def _activity_photo(session: AsyncSession, photo_id: int) -> StoredPhoto | None:
    found = await desk_store.photo_with_station(session=session, photo_id=photo_id)
    if found is None:
        return None
    row, _station = found
    return StoredPhoto(row.file_id, row.file_unique_id or row.file_id)


async def _evidence_photo(session: AsyncSession, evidence_id: int) -> StoredPhoto | None:
    row = await station_store.get_evidence(session=session, evidence_id=evidence_id)
    if row is None or not row.file_id:
        return None
    return StoredPhoto(row.file_id, row.file_unique_id or row.file_id)


# kind → how to find its file; the kind is part of the URL and of what is signed.
KINDS: dict[str, Lookup] = {"photo": _activity_photo, "evidence": _evidence_photo}


def _key(runtime: Runtime) -> bytes:
    token = runtime.settings.telegram.token
    secret = token.get_secret_value() if token is not None else ""
    return hashlib.sha256(b"kepubot desk photo\n" + secret.encode()).digest()


def _signature(runtime: Runtime, kind: str, object_id: int, expires: int, viewer: int) -> str:
    message = f"{kind}.{object_id}.{expires}.{viewer}".encode()
    return hmac.new(_key(runtime), message, hashlib.sha256).hexdigest()[:32]


def signed_url(viewer: Viewer, kind: str, object_id: int) -> str:
    """Return the signed thumbnail URL of one photo for ``viewer`` (the page checked them)."""
    max_age = viewer.runtime.settings.desk.init_data_max_age_minutes * 60
    expires = int(viewer.init_data.auth_date.timestamp()) + max_age
    sig = _signature(viewer.runtime, kind, object_id, expires, viewer.telegram_id)
    return f"{PREFIX}/{kind}/{object_id}?e={expires}&v={viewer.telegram_id}&s={sig}"


def photo_url(viewer: Viewer, photo_id: int) -> str:
    """Return the signed thumbnail URL of an activity photo."""
    return signed_url(viewer, "photo", photo_id)


def evidence_url(viewer: Viewer, evidence_id: int) -> str:
    """Return the signed thumbnail URL of one evidence photo of an application."""
    return signed_url(viewer, "evidence", evidence_id)


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


def install_photo_routes(app: web.Application, runtime: Runtime) -> None:
    """Add one signed thumbnail route per kind (``/desk/photo/<id>``, ``/desk/evidence/<id>``)."""
    for kind, lookup in KINDS.items():
        app.router.add_get(f"{PREFIX}/{kind}/{{object_id:\\d+}}", _handler(runtime, kind, lookup))


def _handler(
    runtime: Runtime, kind: str, lookup: Lookup
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def thumb(request: web.Request) -> web.StreamResponse:
        try:
            object_id = int(request.match_info["object_id"])
            expires = int(request.query.get("e", ""))
            viewer = int(request.query.get("v", ""))
        except ValueError:
            return web.Response(status=400, text="bad request")
        given = request.query.get("s", "")
        expected = _signature(runtime, kind, object_id, expires, viewer)
        if not hmac.compare_digest(given, expected) or runtime.now().timestamp() > expires:
            return web.Response(status=401, text="expired")
        async with runtime.sessions() as session:
            stored = await lookup(session, object_id)
        if stored is None:
            return web.Response(status=404, text="not found")
        cache = _cache(runtime)
        data = cache.get(stored.file_unique_id)
        if data is None:
            try:
                raw = await fetch_file(runtime, stored.file_id)
                data = await asyncio.to_thread(thumbnail, raw)
            except (aiohttp.ClientError, LookupError, OSError, ValueError, TimeoutError):
                log.warning("desk photo unavailable", extra={"kind": kind, "id": object_id})
                return web.Response(status=502, text="photo unavailable")
            cache[stored.file_unique_id] = data
            while len(cache) > CACHE_MAX:
                cache.popitem(last=False)
        return web.Response(
            body=data,
            content_type="image/jpeg",
            headers={"Cache-Control": "private, max-age=3600", "Referrer-Policy": "no-referrer"},
        )

    return thumb
