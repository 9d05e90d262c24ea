"""Announcements: a one-to-many notice to the station admins and/or informants of a region.

Who may send where (DESIGN.md roles): a coordinator only inside their own region; a
curator (national) and an admin anywhere. An announcement is one ``announcement`` row, one
``Push`` of kind ``announcement`` and one outbox row per recipient, due at the chosen time
or when the recipient's quiet hours end, so it is sent after the commit and reported like
a push. It is a broadcast: the text says replies go to nobody else, and the bot relays none.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.content.targeting import quiet_until
from bot.i18n import N_, get_translator, normalize_locale
from bot.services.access import coordinates, coordinator_regions, is_admin, region_prefix
from storage import announcements as store
from storage import audit
from storage import content as content_store
from storage import outbox as outbox_store
from storage.announcements import Recipient
from storage.models import Announcement, RoleGrant
from storage.outbox import NewMessage

KIND = "announcement"  # the Push kind and the outbox row kind
AUDIENCES = ("admins", "informants", "both")
TEXT_MAX = 3500  # room left in a 4096-character message for the heading and the footer
CAPTION_MAX = 1024  # Telegram's caption limit: longer text goes in its own message
ANNOUNCE_ROLES = frozenset({"admin", "curator", "coordinator"})
HEADING = N_("📢 <b>Announcement</b> from {sender}")
FOOTER = N_(
    "<i>This announcement went to many people; a reply reaches the bot only, no one else.</i>"
)


@dataclass(frozen=True)
class Target:
    """One recipient and when the message may go."""

    recipient: Recipient
    due_at: dt.datetime
    deferred: bool


@dataclass(frozen=True)
class AnnouncementResult:
    """What sending (or scheduling) an announcement enqueued."""

    announcement_id: int
    push_id: int
    targeted: int
    queued: int
    deferred: int


def may_announce(grants: Iterable[RoleGrant]) -> bool:
    """Tell whether the person may send announcements at all."""
    return any(g.role in ANNOUNCE_ROLES for g in grants)


def anywhere(grants: Iterable[RoleGrant]) -> bool:
    """Tell whether the person may address every region (curator, admin)."""
    grants = list(grants)
    return is_admin(grants) or any(g.role == "curator" for g in grants)


def own_regions(grants: Iterable[RoleGrant]) -> list[str]:
    """Return the regions a coordinator may address."""
    return coordinator_regions(grants)


def in_scope(grants: Iterable[RoleGrant], region_code: str | None) -> bool:
    """Tell whether the person may address ``region_code`` (None: every region)."""
    grants = list(grants)
    if anywhere(grants):
        return True
    return region_code is not None and coordinates(grants, region_code)


async def recipient_pages(
    *, session: AsyncSession, audience: str, region_code: str | None
) -> AsyncIterator[list[Recipient]]:
    """Yield the audience of a region a page at a time, each person once (an admin who is
    an informant too). Station admins come first, all at once (a few per station); the
    informants a push page at a time, so an announcement to a province's informants never
    holds them all in memory."""
    prefixes = [region_prefix(region_code)] if region_code else []
    admins: dict[int, Recipient] = {}
    if audience in ("admins", "both"):
        for r in await store.station_admins(session=session, region_prefixes=prefixes):
            admins.setdefault(r.telegram_id, r)
        if admins:
            yield list(admins.values())
    if audience not in ("informants", "both"):
        return
    after = 0
    while page := await content_store.push_candidate_page(
        session=session, region_prefixes=prefixes, after_id=after
    ):
        after = page[-1].informant_id
        people = [
            Recipient(c.telegram_id, c.language, c.quiet_start, c.quiet_end)
            for c in page
            if c.telegram_id not in admins
        ]
        if people:
            yield people


async def recipients(
    *, session: AsyncSession, audience: str, region_code: str | None
) -> list[Recipient]:
    """Return the audience of a region, once each (all pages of ``recipient_pages``)."""
    return [
        person
        async for page in recipient_pages(
            session=session, audience=audience, region_code=region_code
        )
        for person in page
    ]


async def count_recipients(
    *, session: AsyncSession, audience: str, region_code: str | None
) -> int:
    """Return how many people the announcement reaches (counted a page at a time)."""
    n = 0
    async for page in recipient_pages(session=session, audience=audience, region_code=region_code):
        n += len(page)
    return n


def targets(
    people: Sequence[Recipient], *, send_at: dt.datetime, tz: ZoneInfo | dt.tzinfo
) -> list[Target]:
    """Return each recipient's send time: ``send_at``, or when their quiet hours end."""
    out: list[Target] = []
    for person in people:
        quiet_end = quiet_until(send_at, person.quiet_start, person.quiet_end, tz)
        out.append(Target(person, quiet_end or send_at, quiet_end is not None))
    return out


def render(locale: str, sender: str, text: str) -> str:
    """Return the message as a recipient reads it (HTML; the author's text escaped)."""
    t = get_translator(locale)
    return "\n\n".join([t(HEADING, sender=html.escape(sender)), html.escape(text), t(FOOTER)])


async def send(
    *,
    session: AsyncSession,
    author_id: int | None,
    sender: str,
    region_code: str | None,
    audience: str,
    text: str,
    attachment_kind: str | None,
    attachment_file_id: str | None,
    send_at: dt.datetime,
    now: dt.datetime,
    tz: ZoneInfo | dt.tzinfo,
    default_locale: str,
    report_chat: int | None,
    report_locale: str,
) -> AnnouncementResult:
    """Store the announcement and queue one message per recipient; audited."""
    assert audience in AUDIENCES
    send_at = max(send_at, now)
    push = await outbox_store.create_push(
        session=session,
        content_id=None,
        kind=KIND,
        created_by=author_id,
        targeting={
            "trigger": KIND,
            "audience": audience,
            "regions": [region_code] if region_code else [],
            "send_at": send_at.isoformat(),
            # Read by the announcement report (not "report_chat": that is the content
            # push report's, which would name no title).
            "announce_report_chat": report_chat,
            "announce_report_locale": report_locale,
        },
        now=now,
    )
    assert push.id is not None
    announcement = await store.add(
        session=session,
        announcement=Announcement(
            author_id=author_id,
            region_code=region_code,
            audience=audience,
            text=text,
            attachment_kind=attachment_kind,
            attachment_file_id=attachment_file_id,
            send_at=send_at,
            push_id=push.id,
            created_at=now,
        ),
    )
    assert announcement.id is not None
    rendered: dict[str, str] = {}
    targeted = queued = deferred = 0
    pages = recipient_pages(session=session, audience=audience, region_code=region_code)
    async for page in pages:
        messages: list[NewMessage] = []
        for target in targets(page, send_at=send_at, tz=tz):
            locale = normalize_locale(target.recipient.language, default_locale)
            if locale not in rendered:
                rendered[locale] = render(locale, sender, text)
            messages.append(
                NewMessage(
                    chat_id=target.recipient.telegram_id,
                    kind=KIND,
                    payload={
                        "announcement_id": announcement.id,
                        "text": rendered[locale],
                        "attachment_kind": attachment_kind,
                        "file_id": attachment_file_id,
                    },
                    dedupe_key=f"announce:{announcement.id}:{target.recipient.telegram_id}",
                    due_at=target.due_at,
                )
            )
            deferred += target.deferred
        targeted += len(messages)
        queued += await outbox_store.enqueue(
            session=session, push_id=push.id, messages=messages, now=now
        )
    await outbox_store.update_push(
        session=session,
        push_id=push.id,
        total=queued,
        **({"finished_at": now} if queued == 0 else {}),
    )
    await audit.record(
        session=session,
        actor_id=author_id,
        action="announcement.send",
        now=now,
        subject_type="announcement",
        subject_id=announcement.id,
        region_code=region_code,
        detail={
            "push_id": push.id,
            "audience": audience,
            "targeted": targeted,
            "queued": queued,
            "deferred": deferred,
            "send_at": send_at.isoformat(),
            "attachment": attachment_kind,
        },
    )
    return AnnouncementResult(announcement.id, push.id, targeted, queued, deferred)
