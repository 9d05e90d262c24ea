"""The desk's door: Telegram's signature, freshness, roles, CSRF, the shell and the menu."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import parse_qsl, quote, urlencode

import pytest
from sqlalchemy import select

from bot.desk.auth import InitDataRefused, validate_init_data
from bot.sandbox.factories import make_region_tree, make_station
from bot.sandbox.webapp import desk_url, sign_init_data
from storage.models import AuditLog
from tests.conftest import FIXED_NOW
from tests.desk import world as w
from tests.desk.conftest import TOKEN, DeskClient

HOUR = dt.timedelta(hours=1)


def test_signature_matches_an_independent_computation() -> None:
    # Telegram's recipe, written out once more by hand (docs: "Validating data received
    # via the Mini App"): key = HMAC_SHA256(<token>, "WebAppData"), hash = hex HMAC of the
    # sorted key=value lines.
    import hashlib
    import hmac

    raw = sign_init_data(TOKEN, {"id": 42, "first_name": "李"}, auth_date=1_700_000_000)
    fields = dict(parse_qsl(raw))
    check = "\n".join(f"{k}={fields[k]}" for k in sorted(fields) if k != "hash")
    key = hmac.new(b"WebAppData", TOKEN.encode(), hashlib.sha256).digest()
    assert fields["hash"] == hmac.new(key, check.encode(), hashlib.sha256).hexdigest()
    assert fields["user"] == '{"id":42,"first_name":"李"}'
    now = dt.datetime.fromtimestamp(1_700_000_000, dt.UTC)
    init = validate_init_data(raw, bot_token=TOKEN, now=now, max_age=HOUR)
    assert (init.user_id, init.first_name) == (42, "李")


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda raw: raw.replace("hash=", "hash=0"), "bad_hash"),
        (lambda raw: raw.replace("%22id%22%3A42", "%22id%22%3A43"), "bad_hash"),
        (lambda raw: "&".join(p for p in raw.split("&") if not p.startswith("hash=")), "bad_hash"),
        (lambda raw: "", "missing"),
        (lambda raw: raw + "&auth_date=1", "malformed"),
    ],
)
def test_forgeries_are_refused(mutate: object, reason: str) -> None:
    raw = sign_init_data(TOKEN, {"id": 42, "first_name": "李"}, auth_date=FIXED_NOW)
    with pytest.raises(InitDataRefused) as refused:
        validate_init_data(mutate(raw), bot_token=TOKEN, now=FIXED_NOW, max_age=HOUR)  # type: ignore[operator]
    assert refused.value.reason == reason


def test_stale_future_and_other_bot() -> None:
    user = {"id": 42, "first_name": "李"}
    old = sign_init_data(TOKEN, user, auth_date=FIXED_NOW - HOUR - dt.timedelta(seconds=1))
    ahead = sign_init_data(TOKEN, user, auth_date=FIXED_NOW + dt.timedelta(minutes=10))
    other = sign_init_data("654321:OTHER-BOT", user, auth_date=FIXED_NOW)
    for raw, reason in ((old, "stale"), (ahead, "future"), (other, "bad_hash")):
        with pytest.raises(InitDataRefused) as refused:
            validate_init_data(raw, bot_token=TOKEN, now=FIXED_NOW, max_age=HOUR)
        assert refused.value.reason == reason
    fresh = sign_init_data(TOKEN, user, auth_date=FIXED_NOW - HOUR + dt.timedelta(seconds=1))
    assert validate_init_data(fresh, bot_token=TOKEN, now=FIXED_NOW, max_age=HOUR).user_id == 42


def test_desk_url_carries_the_launch_data_in_the_hash() -> None:
    raw = sign_init_data(TOKEN, {"id": 42, "first_name": "李"}, auth_date=FIXED_NOW)
    url = desk_url("https://kepu.example/", raw, {"bg_color": "#000000"})
    base, _, fragment = url.partition("#")
    assert base == "https://kepu.example/desk/"
    launch = dict(parse_qsl(fragment))
    assert launch["tgWebAppData"] == raw
    assert launch["tgWebAppThemeParams"] == '{"bg_color":"#000000"}'


async def test_shell_and_static_need_no_credential(desk: DeskClient) -> None:
    shell = await desk.get("/desk/")
    assert shell.status == 200
    assert "desk.js" in shell.text and "Set-Cookie" not in shell.headers
    assert "script-src 'self' https://telegram.org" in shell.headers["Content-Security-Policy"]
    for name in ("desk.js", "desk.css"):
        static = await desk.get(f"/desk/static/{name}")
        assert static.status == 200 and len(static.text) > 500


async def test_http_refusals(desk: DeskClient) -> None:
    async with desk.runtime.sessions() as s, s.begin():
        await desk.person(s, 501, role="admin")
    assert (await desk.get("home", user=501)).status == 200
    missing = await desk.get("home")
    assert missing.status == 401 and "重新" in missing.text
    stale = desk.sign(501, auth_date=FIXED_NOW - dt.timedelta(hours=2))
    assert (await desk.get("home", init_data=stale)).status == 401
    other = desk.sign(501, token="654321:OTHER-BOT")
    assert (await desk.get("home", init_data=other)).status == 401
    tampered = desk.sign(501).replace("501", "502")
    assert (await desk.get("home", init_data=tampered)).status == 401
    bad_hash = desk.sign(501)[:-4] + "0000"
    assert (await desk.get("home", init_data=bad_hash)).status == 401


async def test_no_role_sees_nothing(desk: DeskClient) -> None:
    async with desk.runtime.sessions() as s, s.begin():
        await desk.person(s, 700)  # talked to the bot, holds no role
    for user in (700, 701):  # known without a role; never seen at all
        for path in ("nav", "home"):
            page = await desk.get(path, user=user)
            assert page.status == 403
            assert "没有" in page.text and "<a" not in page.text


async def test_station_admin_menu(desk: DeskClient) -> None:
    async with desk.runtime.sessions() as s, s.begin():
        await make_region_tree(s)
        station = await make_station(s)
        await desk.person(s, 601, role="station_admin", station_id=station.id)
    nav = await desk.get("nav", user=601)
    assert nav.status == 200
    assert "/desk/p/stations" in nav.text and "/desk/p/people" not in nav.text


async def test_english_viewer(desk: DeskClient) -> None:
    async with desk.runtime.sessions() as s, s.begin():
        await desk.person(s, 502, role="admin", language="en")
    page = await desk.get("home", user=502)
    assert "Administrator" in page.text


async def test_post_needs_init_data_in_the_body(desk: DeskClient) -> None:
    async with desk.runtime.sessions() as s, s.begin():
        await desk.person(s, 501, role="admin")
    # No action is registered at "home": a GET path never accepts a POST.
    assert (await desk.post("home", {}, user=501)).status == 405
    raw = desk.sign(501)
    query = urlencode({"_init_data": raw}, quote_via=quote)
    # initData in the URL of a GET is no credential either.
    assert (await desk.get(f"/desk/p/home?{query}")).status == 401
    async with desk.runtime.sessions() as s:
        refusals = (await s.execute(select(AuditLog))).scalars().all()
    assert refusals == []


async def test_menu_per_role(desk: DeskClient, seeded: w.World) -> None:
    coordinating = {
        "dashboard",
        "stations",
        "queues/reviews",
        "queues/findings",
        "queues/proposals",
        "exports",
        "people",
        "home",
    }
    expected = {
        w.ADMIN: coordinating,
        w.PROVINCE: coordinating,
        w.CITY: coordinating,
        w.COUNTY: coordinating,
        w.STATION_ADMIN: {"stations", "home"},
        w.CURATOR: {"home"},
    }
    for user, paths in expected.items():
        nav = await desk.get("nav", user=user)
        assert nav.status == 200
        assert set(re.findall(r'data-path="([^"]+)"', nav.text)) == paths, user
    for user in (w.NOBODY, w.INFORMANT):
        assert (await desk.get("nav", user=user)).status == 403
    start = await desk.get("nav", user=w.STATION_ADMIN)
    assert 'data-start="/desk/p/stations"' in start.text
