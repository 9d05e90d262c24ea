"""Evidence photo thumbnails on the desk's review card, behind short-lived signed URLs.

Like the activity thumbnails (``bot.desk.photos``): the review card, which has already
checked that the viewer may see the application (``review.authorise(action="view")``),
signs each evidence photo's URL ``/desk/evidence/<id>?e=<expiry>&v=<viewer>&s=<HMAC>``,
valid no longer than the viewer's initData; the route checks the signature, reads the
``file_id`` in a short transaction, then fetches and shrinks the file outside it.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from collections import OrderedDict

import aiohttp
from aiohttp import web

from bot.desk.photos import fetch_file, thumbnail
from bot.desk.web import PREFIX, Viewer
from bot.runtime.context import Runtime
from storage import stations as station_store

log = logging.getLogger(__name__)

EVIDENCE_PATH = f"{PREFIX}/evidence/{{evidence_id:\\d+}}"
CACHE_MAX = 256
EXTRAS_KEY = "desk_evidence_cache"


def _key(runtime: Runtime) -> bytes:
    token = runtime.settings.telegram.token
    secret = token.get_secret_value() if token is not None else ""
    return hashlib.sha256(b"kepubot desk evidence\n" + secret.encode()).digest()


def _signature(runtime: Runtime, evidence_id: int, expires: int, viewer: int) -> str:
    message = f"{evidence_id}.{expires}.{viewer}".encode()
    return hmac.new(_key(runtime), message, hashlib.sha256).hexdigest()[:32]


def evidence_url(viewer: Viewer, evidence_id: int) -> str:
    """Return the signed thumbnail URL of one evidence photo (the card checked the viewer)."""
    max_age = viewer.runtime.settings.desk.init_data_max_age_minutes * 60
    expires = int(viewer.init_data.auth_date.timestamp()) + max_age
    sig = _signature(viewer.runtime, evidence_id, expires, viewer.telegram_id)
    return f"{PREFIX}/evidence/{evidence_id}?e={expires}&v={viewer.telegram_id}&s={sig}"


def _cache(runtime: Runtime) -> OrderedDict[str, bytes]:
    cache = runtime.extras.get(EXTRAS_KEY)
    if cache is None:
        cache = runtime.extras[EXTRAS_KEY] = OrderedDict()
    return cache  # type: ignore[no-any-return]


def install_evidence_route(app: web.Application, runtime: Runtime) -> None:
    """Add the signed evidence thumbnail route."""

    async def evidence(request: web.Request) -> web.StreamResponse:
        try:
            evidence_id = int(request.match_info["evidence_id"])
            expires = int(request.query.get("e", ""))
            viewer = int(request.query.get("v", ""))
        except ValueError:
            return web.Response(status=400, text="bad request")
        expected = _signature(runtime, evidence_id, expires, viewer)
        if not hmac.compare_digest(request.query.get("s", ""), expected) or (
            runtime.now().timestamp() > expires
        ):
            return web.Response(status=401, text="expired")
        async with runtime.sessions() as session:
            row = await station_store.get_evidence(session=session, evidence_id=evidence_id)
        if row is None or not row.file_id:
            return web.Response(status=404, text="not found")
        key = row.file_unique_id or row.file_id
        cache = _cache(runtime)
        data = cache.get(key)
        if data is None:
            try:
                data = await asyncio.to_thread(thumbnail, await fetch_file(runtime, row.file_id))
            except (aiohttp.ClientError, LookupError, OSError, ValueError, TimeoutError):
                log.warning("desk evidence photo unavailable", extra={"evidence_id": evidence_id})
                return web.Response(status=502, text="photo unavailable")
            cache[key] = data
            while len(cache) > CACHE_MAX:
                cache.popitem(last=False)
        return web.Response(
            body=data,
            content_type="image/jpeg",
            headers={"Cache-Control": "private, max-age=3600", "Referrer-Policy": "no-referrer"},
        )

    app.router.add_get(EVIDENCE_PATH, evidence)
