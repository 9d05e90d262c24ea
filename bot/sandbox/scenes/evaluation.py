"""Demo scene (the last): an evaluation preview of 2026 for the demo city.

Reads ``demo.state``: "region_code" (default 330106, the demo county), "station_id" and
"station_admin_key" (optional). Adds four generated stations with a year of figures so the
ranking has something to compare, uses the city coordinator of "coordinator_keys"["city"] (created
as "city_coordinator" when missing), runs the daily integrity sweep (the ``integrity_sweep``
job), which raises a finding on 翠苑社区 (large self-reported audiences, no verified visit),
runs the evaluation (the finding holds 翠苑社区's commendation), has the coordinator dismiss
the finding with a reason in /findings, runs the evaluation again, reviews two proposals in
the bot and saves ``evaluation-<city>.xlsx``. Sets "evaluation_run_id".
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot.handlers.activities_photos import hash_pending_photos
from bot.i18n import get_translator
from bot.jobs import INTEGRITY_SWEEP, outcome_text
from bot.reports.evaluation import evaluation_workbook
from bot.runtime.scheduler import run_job
from bot.sandbox.factories import (
    insert_rows,
    make_activity,
    make_content,
    make_content_use,
    make_informant,
    make_region,
    make_station,
    share_row,
)
from bot.sandbox.models import SimMessage
from bot.sandbox.stage import Demo
from bot.sandbox.world import SimUser
from bot.services import evaluation as ev
from bot.services import roles as role_service
from bot.services.access import region_prefix
from bot.services.evaluation_decisions import why_text
from bot.services.finding_text import why
from storage import findings as findings_store
from storage.models import ContentItem, ShareEvent

# name, county, shares per month, activities, content uses, last active month
GENERATED = [
    ("翠苑社区科普e站", "330106", 6, 10, 8, 11),
    ("文新街道科普e站", "330106", 3, 5, 3, 11),
    ("蒋村科普e站", "330106", 1, 1, 0, 4),
    ("三墩镇科普e站", "330106", 0, 0, 0, 0),
]  # fmt: skip
# Shares to WeChat groups in November with large self-reported audiences and no tracked
# link visited: the daily sweep finds them (integrity.sweep_days, reported_reach_alert).
RECENT_REPORTED = {"翠苑社区科普e站": (14, 480)}  # shares, audience each


def _with_button(messages: list[SimMessage], prefix: str) -> SimMessage | None:
    for message in messages:
        for row in message.buttons:
            for button in row:
                if button.text.startswith(prefix):
                    return message
    return None


async def _generate(demo: Demo, city: str) -> None:
    """Add the generated stations of the city with a year of shares, activities and uses."""
    now = demo.bot.runtime.now()
    recognised = dt.datetime(2025, 3, 1, 2, tzinfo=dt.UTC)
    async with demo.bot.runtime.sessions() as session, session.begin():
        await make_region(session, code="330000")
        await make_region(session, code=city, name="杭州市")
        await make_region(session, code="330106", parent_code=city)
        content = (await session.execute(select(ContentItem).limit(1))).scalar_one_or_none()
        if content is None:
            content = await make_content(
                session,
                guid="demo-eval",
                title="科学洗手",
                url="https://www.kepuchina.cn/",
                created_at=now,
            )
        assert content.id is not None
        for n, (name, county, shares, acts, uses, last) in enumerate(GENERATED):
            station = await make_station(
                session, name=name, county=county, recognised_at=recognised, created_at=now
            )
            assert station.id is not None
            if not shares and not acts:
                continue  # a paper station: no informant, nothing done
            # fictitious people: nobody to message, so they are marked unreachable
            informant = await make_informant(
                session,
                station_id=station.id,
                telegram_id=880_000 + n,
                first_name=f"信息员{n}",
                unreachable=True,
                real_name=f"{name[:2]}信息员",
                joined_at=now,
                consent_at=now,
            )
            assert informant.id is not None
            await insert_rows(
                session,
                ShareEvent,
                [
                    share_row(
                        informant_id=informant.id,
                        station_id=station.id,
                        content_id=content.id,
                        channel="wechat_group" if k % 2 else "telegram_inline",
                        audience=80,
                        day=dt.date(2026, month, 1 + k),
                        dedupe_key=f"demo-eval-{station.id}-{month}-{k}",
                        created_at=now,
                    )
                    for month in range(1, last + 1)
                    for k in range(shares)
                ],
            )
            recent, audience = RECENT_REPORTED.get(name, (0, 0))
            if recent:
                await insert_rows(
                    session,
                    ShareEvent,
                    [
                        share_row(
                            informant_id=informant.id,
                            station_id=station.id,
                            content_id=content.id,
                            channel="wechat_group",
                            audience=audience,
                            day=dt.date(2026, 11, 9 + k),
                            dedupe_key=f"demo-eval-{station.id}-recent-{k}",
                            created_at=now,
                        )
                        for k in range(recent)
                    ],
                )
            for k in range(acts):
                await make_activity(
                    session,
                    station_id=station.id,
                    title="科普讲座",
                    held_on=dt.date(2026, min(last, 1 + k), 10),
                    participants=40,
                    created_at=now,
                )
            for k in range(uses):
                await make_content_use(
                    session,
                    station_id=station.id,
                    content_id=content.id,
                    used_on=dt.date(2026, min(last, 1 + k), 12),
                    created_at=now,
                )


async def _sweep(demo: Demo, city: str) -> tuple[list[int], str]:
    """Run the daily integrity sweep (the ``integrity_sweep`` job) and return the open
    unverified-reach finding it raised in the city: the one the demo reviews."""
    runtime = demo.bot.runtime
    today = runtime.today()
    demo.narrate(
        demo.t(
            "The daily integrity_sweep job runs: it checks the last {days} days of every station.",
            days=runtime.settings.integrity.sweep_days,
        )
    )
    # The photo hasher runs on its own timer; finish its work first, so the demo's findings
    # do not depend on where in the scene the timer fired.
    bot = demo.bot.processor.application.bot
    while sum((await hash_pending_photos(runtime, bot)).values()):
        pass
    outcome = await run_job(runtime, INTEGRITY_SWEEP, period=today.isoformat())
    demo.narrate(outcome_text(outcome, demo.t))
    async with runtime.sessions() as session:
        waiting, _n = await findings_store.open_findings(
            session=session, prefixes=[region_prefix(city)], limit=100
        )
    raised: list[int] = []
    name = ""
    for flag, station in waiting:
        if flag.kind != "unverified_reach" or station is None or flag.id is None:
            continue
        raised.append(flag.id)
        name = station.name
        demo.narrate(
            demo.t(
                "The sweep raises a finding on {name}: {why} It waits for a coordinator's review.",
                name=station.name,
                why=why(demo.t, flag),
            )
        )
        break  # the demo reviews one: the first the sweep found
    return raised, name


async def _dismiss(demo: Demo, user: SimUser, listing: list[SimMessage], fid: int) -> bool:
    """Press ❎ on finding ``fid`` in the /findings listing, turning its pages if needed (a
    page is the same message, edited in place)."""
    label = demo.t("❎ Dismiss #{id}", id=fid)
    following = demo.t("Next ›")
    for _page in range(50):
        labels = {b.text: m for m in listing for row in m.buttons for b in row}
        if label in labels:
            await demo.press(user, labels[label], label)
            return True
        if following not in labels:
            return False
        listing = await demo.press(user, labels[following], following) or [labels[following]]
    return False


async def _evaluate(demo: Demo, city: str) -> ev.RunResult:
    runtime = demo.bot.runtime
    async with runtime.sessions() as session, session.begin():
        return await ev.run_evaluation(
            session=session,
            evaluation=runtime.settings.evaluation,
            propagation=runtime.settings.propagation,
            tz=runtime.settings.scheduler.tz,
            year=2026,
            region_code=city,
            as_of=runtime.today(),
            now=runtime.now(),
        )


def _narrate_proposals(demo: Demo, result: ev.RunResult) -> None:
    t = demo.t
    names = {s.station_id: s.figures.name for s in result.scores}
    params = demo.bot.runtime.settings.evaluation
    for proposal in result.proposals:
        demo.narrate(
            t(
                "Proposal: {kind} {name} ({why})",
                kind=t(ev.KIND_NAMES[proposal.kind]),
                name=names[proposal.station_id],
                why=why_text(proposal, params, t),
            )
        )
        if proposal.detail.get("held_by"):
            demo.narrate(
                t(
                    "  Held back (awaiting review): {name} has {n} open finding(s); the "
                    "commendation cannot be confirmed before they are reviewed.",
                    name=names[proposal.station_id],
                    n=len(proposal.detail["held_by"]),
                )
            )


async def _press_prefix(
    demo: Demo, user: SimUser, messages: list[SimMessage], prefix: str
) -> list[SimMessage]:
    message = _with_button(messages, prefix)
    if message is None:
        return []
    label = next(b.text for row in message.buttons for b in row if b.text.startswith(prefix))
    return await demo.press(user, message, label)


async def play(demo: Demo) -> None:
    """Run the 2026 evaluation preview; a finding holds a commendation until it is dismissed."""
    t = demo.t
    demo.scene(t("Annual evaluation — a preview of 2026"))
    county = str(demo.state.get("region_code", "330106"))
    city = ev.city_of(county)
    await _generate(demo, city)
    demo.narrate(
        t(
            "Four more stations of the city, with a year of generated figures, join "
            "the demo station so the ranking has something to compare."
        )
    )
    keys = dict(demo.state.get("coordinator_keys") or {})
    key = keys.get("city") if keys.get("city") in demo.users else None
    coordinator = demo.users[key] if key else demo.user("city_coordinator", "杭州市科协·陈")
    keys.setdefault("city", key or "city_coordinator")
    demo.state["coordinator_keys"] = keys
    runtime = demo.bot.runtime
    async with runtime.sessions() as session, session.begin():
        await role_service.grant(
            session=session,
            telegram_id=coordinator.id,
            role="coordinator",
            region_code=city,
            now=runtime.now(),
        )
    raised, flagged = await _sweep(demo, city)
    result = await _evaluate(demo, city)
    demo.state["evaluation_run_id"] = result.run_id
    demo.narrate(
        t(
            "kepubot evaluate --year 2026 --region {city}: {n} stations, counted up to {end}.",
            city=city,
            n=len(result.scores),
            end=t.date(result.end),
        )
    )
    for item in result.scores[:3]:
        demo.narrate(
            t(
                "{rank}. {name} — score {score}",
                rank=item.rank_city,
                name=item.figures.name,
                score=format(item.score, ".2f"),
            )
        )
    _narrate_proposals(demo, result)
    async with runtime.sessions() as session:
        waiting, _n = await findings_store.open_findings(
            session=session, prefixes=[region_prefix(city)], limit=100
        )
    revoked = {p.station_id for p in result.proposals if p.kind == "revoke"}
    for name in sorted(
        {st.name for f, st in waiting if f.kind == "photo_reuse" and st and st.id not in revoked}
    ):
        demo.narrate(
            t(
                "No revocation is proposed for {name}: its reused photo is an open finding, "
                "and proposals rest only on findings a coordinator has confirmed.",
                name=name,
            )
        )
    demo.narrate(t("The city coordinator looks at the commendations: one waits for a review."))
    replies = await demo.command(coordinator, "evaluation")
    await _press_prefix(demo, coordinator, replies, "🏅")
    demo.narrate(t("The coordinator reviews the findings of the city with /findings."))
    listing = await demo.command(coordinator, "findings")
    pressed = [await _dismiss(demo, coordinator, listing, fid) for fid in raised]
    if any(pressed):
        await demo.say(
            coordinator,
            t(
                "The shares went to WeChat groups of elderly residents who do not open links; "
                "I phoned the station and checked the group sizes."
            ),
        )
    demo.narrate(t("The evaluation is run again: the dismissed finding no longer holds anything."))
    result = await _evaluate(demo, city)
    _narrate_proposals(demo, result)
    demo.narrate(t("The city coordinator reviews the proposals in the bot."))
    replies = await demo.command(coordinator, "evaluation")
    cards = await _press_prefix(demo, coordinator, replies, "🏅")
    # the commendation the dismissed finding held, now released (else the first one)
    released = [c for c in cards if flagged and f" {flagged}\n" in (c.text or "")]
    await _press_prefix(demo, coordinator, released + cards, "✅")
    summary = _with_button(replies, "⚠")
    if summary is not None:
        cards = await demo.press(
            coordinator,
            summary,
            next(b.text for row in summary.buttons for b in row if b.text.startswith("⚠")),
        )
        card = _with_button(cards, "✏")
        if card is not None:
            await demo.press(
                coordinator,
                card,
                next(b.text for row in card.buttons for b in row if b.text.startswith("✏")),
            )
            await demo.say(
                coordinator,
                t("Talked to the station in person; we check again after the Spring Festival."),
            )
    admin_key = demo.state.get("station_admin_key")
    if admin_key in demo.users:
        await demo.replies(demo.users[admin_key])
    async with runtime.sessions() as session:
        data = await evaluation_workbook(
            session=session,
            evaluation=runtime.settings.evaluation,
            propagation=runtime.settings.propagation,
            tz=runtime.settings.scheduler.tz,
            year=2026,
            region_code=city,
            t=get_translator(demo.lang),
        )
    if data is not None:
        demo.save_file(f"evaluation-{city}.xlsx", data)
        demo.narrate(
            t(
                "The evaluation workbook (scores, proposals, outstanding informants, "
                "integrity) is saved as evaluation-{city}.xlsx.",
                city=city,
            )
        )
