"""The desk's door: Telegram's signature, freshness, roles, CSRF, the shell and the menu."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import parse_qsl, quote, urlencode

import pytest
from sqlalchemy import select

from bot.desk.auth import InitDataRefused, validate_init_data
from bot.sandbox.factories import make_region_tree, make_station
from bot.sandbox.webapp import compute_hash, desk_url, sign_init_data
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


# Published examples: Telegram's own page (core.telegram.org/bots/webapps) publishes the
# recipe and, for third-party validation, its Ed25519 public keys, but no initData signed
# with a token (a token is a secret). These two are the documented examples of the Telegram
# Mini Apps platform docs (docs.telegram-mini-apps.com: @tma.js/init-data "Validating", and
# init-data-golang "Validation"), each with the demo bot token it was signed with. The
# second is a real Bot API 8.0 launch: it carries Telegram's Ed25519 ``signature`` field,
# which the bot-token hash covers like any other field, and escapes "/" as "\/" in JSON.
PUBLISHED = [
    (
        "5768337691:AAH5YkoiEuPk8-FZa32hStHTqXiLPtAEhx8",
        "query_id=AAHdF6IQAAAAAN0XohDhrOrc"
        "&user=%7B%22id%22%3A279058397%2C%22first_name%22%3A%22Vladislav%22%2C%22last_name"
        "%22%3A%22Kibenko%22%2C%22username%22%3A%22vdkfrost%22%2C%22language_code%22%3A%22ru"
        "%22%2C%22is_premium%22%3Atrue%7D"
        "&auth_date=1662771648"
        "&hash=c501b71e775f74ce10e377dea85a7ea24ecd640b223ea86dfe453e0eaed2e2b2",
        ("Vladislav", "ru", "AAHdF6IQAAAAAN0XohDhrOrc", None),
    ),
    (
        "7342037359:AAHI25ES9xCOMPokpYoz-p8XVrZUdygo2J4",
        "user=%7B%22id%22%3A279058397%2C%22first_name%22%3A%22Vladislav%20%2B%20-%20%3F%20"
        "%5C%2F%22%2C%22last_name%22%3A%22Kibenko%22%2C%22username%22%3A%22vdkfrost%22%2C"
        "%22language_code%22%3A%22ru%22%2C%22is_premium%22%3Atrue%2C%22allows_write_to_pm"
        "%22%3Atrue%2C%22photo_url%22%3A%22https%3A%5C%2F%5C%2Ft.me%5C%2Fi%5C%2Fuserpic%5C"
        "%2F320%5C%2F4FPEE4tmP3ATHa57u6MqTDih13LTOiMoKoLDRG4PnSA.svg%22%7D"
        "&chat_instance=8134722200314281151&chat_type=private&auth_date=1733509682"
        "&signature=TYJxVcisqbWjtodPepiJ6ghziUL94-KNpG8Pau-X7oNNLNBM72APCpi_RKiUlBvcqo5L-LAx"
        "Ic3dnTzcZX_PDg"
        "&hash=a433d8f9847bd6addcc563bff7cc82c89e97ea0d90c11fe5729cae6796a36d73",
        ("Vladislav + - ? /", "ru", None, "private"),
    ),
]


@pytest.mark.parametrize(("token", "raw", "expected"), PUBLISHED)
def test_published_examples_are_accepted(
    token: str, raw: str, expected: tuple[str, str, str | None, str | None]
) -> None:
    stamp = int(dict(parse_qsl(raw))["auth_date"])
    signed_at = dt.datetime.fromtimestamp(stamp, dt.UTC)
    init = validate_init_data(raw, bot_token=token, now=signed_at + HOUR, max_age=HOUR)
    assert init.user_id == 279058397
    assert (init.first_name, init.language_code, init.query_id, init.chat_type) == expected
    assert init.auth_date == signed_at
    # Our sandbox's signer, written apart from the validator, computes the same hash.
    fields = dict(parse_qsl(raw))
    assert compute_hash(fields, token) == fields["hash"]
    # The same data is refused by another bot, when old, or with any field edited.
    refusals = [
        (dict(bot_token="654321:OTHER-BOT", now=signed_at, max_age=HOUR), raw, "bad_hash"),
        (dict(bot_token=token, now=signed_at + HOUR * 2, max_age=HOUR), raw, "stale"),
        (
            dict(bot_token=token, now=signed_at, max_age=HOUR),
            raw.replace("auth_date=1", "auth_date=2"),
            "bad_hash",
        ),
        (
            dict(bot_token=token, now=signed_at, max_age=HOUR),
            raw.replace("Kibenko", "Kibenk0"),
            "bad_hash",
        ),
    ]
    for kwargs, data, reason in refusals:
        with pytest.raises(InitDataRefused) as refused:
            validate_init_data(data, **kwargs)  # type: ignore[arg-type]
        assert refused.value.reason == reason


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("auth_date=1700000000&hash=" + "0" * 64 + "&hash=" + "1" * 64, "malformed"),
        ("auth_date=soon&hash=" + "0" * 64, "malformed"),
        ("hash=" + "0" * 64, "malformed"),
        ("auth_date=1700000000&hash=xyz", "bad_hash"),
        ("auth_date=1700000000", "bad_hash"),
        ("auth_date=1700000000&user=%7Bnot-json&hash=" + "0" * 64, "malformed"),
        ("auth_date=1700000000&user=%7B%22first_name%22%3A%22a%22%7D&hash=" + "0" * 64, "no_user"),
        ("a=1&=2", "malformed"),
        ("x" * 9000, "malformed"),
    ],
)
def test_unusable_strings_have_a_reason(raw: str, reason: str) -> None:
    with pytest.raises(InitDataRefused) as refused:
        validate_init_data(raw, bot_token=TOKEN, now=FIXED_NOW, max_age=HOUR)
    assert refused.value.reason == reason


def test_signed_without_a_user_or_by_a_bot_is_no_user() -> None:
    now = FIXED_NOW
    stamp = str(int(now.timestamp()))
    for fields in (
        {"auth_date": stamp, "query_id": "Q"},
        {"auth_date": stamp, "user": '{"id":7,"first_name":"b","is_bot":true}'},
    ):
        fields["hash"] = compute_hash(fields, TOKEN)
        raw = urlencode(fields, quote_via=quote)
        with pytest.raises(InitDataRefused) as refused:
            validate_init_data(raw, bot_token=TOKEN, now=now, max_age=HOUR)
        assert refused.value.reason == "no_user"


def test_a_forgery_is_bad_hash_whatever_date_it_claims() -> None:
    # The hash is checked before the dates: an old or future forgery is a forgery.
    user = {"id": 42, "first_name": "李"}
    for when in (FIXED_NOW - HOUR * 3, FIXED_NOW + HOUR * 3):
        forged = sign_init_data("654321:OTHER-BOT", user, auth_date=when)
        with pytest.raises(InitDataRefused) as refused:
            validate_init_data(forged, bot_token=TOKEN, now=FIXED_NOW, max_age=HOUR)
        assert refused.value.reason == "bad_hash"


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
    # A station admin exports their station and invites co-admins (issue #18) ...
    assert "/desk/p/stations" in nav.text and "/desk/p/people" in nav.text
    assert "/desk/p/exports" in nav.text
    # ... but has no region's overview or queues: not shown, and refused if asked, audited.
    assert "/desk/p/dashboard" not in nav.text and "/desk/p/queues/reviews" not in nav.text
    refused = await desk.get("dashboard", user=601)
    assert refused.status == 403
    async with desk.runtime.sessions() as s:
        entry = (
            (await s.execute(select(AuditLog).where(AuditLog.action == "desk:dashboard")))
            .scalars()
            .one()
        )
    assert entry.allowed is False and entry.reason == "role"


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
        "campaigns",
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
        w.CURATOR: {"campaigns", "home"},
    }
    for user, paths in expected.items():
        nav = await desk.get("nav", user=user)
        assert nav.status == 200
        assert set(re.findall(r'data-path="([^"]+)"', nav.text)) == paths, user
    for user in (w.NOBODY, w.INFORMANT):
        assert (await desk.get("nav", user=user)).status == 403
    start = await desk.get("nav", user=w.STATION_ADMIN)
    assert 'data-start="/desk/p/stations"' in start.text
