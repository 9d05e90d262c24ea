"""Two-step publishing (``[content] review_before_publish``): a second curator approves.

The request reaches every other curator (and admin) through the outbox, with approve and
send-back buttons; the decision is audited, the author cannot decide their own item (a
refusal, audited), and an approved item that had a publish time is pushed then.
"""

from __future__ import annotations

import datetime as dt
import uuid

from telegram import Update

from bot.content.catalogue import CatalogueError, authors_of, decide_review, request_review
from bot.handlers.callbacks import CatalogItem
from bot.handlers.common import esc, refuse, reply
from bot.handlers.content_fields import error, start_push
from bot.i18n import N_, get_translator
from bot.runtime.context import KepuContext
from storage import outbox as outbox_store
from storage import roles as role_store
from storage.models import ContentItem, Person
from storage.outbox import NewMessage

REVIEW_ROLES = ("curator", "admin")
REQUEST = N_(
    "Please review #{id} “{title}” by {author} before it is published. Open it with the "
    "button to see the card; approve it or send it back."
)
APPROVED = N_("#{id} “{title}” was approved by {name}.")
RETURNED = N_(
    "#{id} “{title}” was sent back by {name}. Change it in /catalog and ask for review again."
)


async def _reviewers(context: KepuContext, item: ContentItem) -> list[Person]:
    authors = await authors_of(session=context.session, item=item)
    if context.person is not None and context.person.id is not None:
        authors.add(context.person.id)
    people: dict[int, Person] = {}
    for role in REVIEW_ROLES:
        for _grant, person in await role_store.list_grants(session=context.session, role=role):
            if person.id is not None and person.id not in authors:
                people[person.id] = person
    return sorted(people.values(), key=lambda p: p.telegram_id)


def _name(person: Person | None) -> str:
    if person is None:
        return "?"
    return esc(person.first_name or person.username or str(person.telegram_id))


async def notify_reviewers(context: KepuContext, item: ContentItem) -> int:
    """Send the review request to the other curators; return how many got it."""
    assert item.id is not None
    now = context.runtime.now()
    author = context.person
    reviewers = await _reviewers(context, item)
    default = context.runtime.settings.i18n.default_locale
    # One key per request: a replayed update rolls its rows back with it, a new request
    # (after a send-back) must reach the reviewers again.
    request = uuid.uuid4().hex[:12]
    messages = []
    for person in reviewers:
        t = get_translator(person.language or default)
        rows = [
            [
                {"text": t("👁 Open"), "callback_data": CatalogItem("view", item.id).encode()},
            ],
            [
                {
                    "text": t("✅ Approve"),
                    "callback_data": CatalogItem("approve", item.id).encode(),
                },
                {
                    "text": t("↩️ Send back"),
                    "callback_data": CatalogItem("sendback", item.id).encode(),
                },
            ],
        ]
        messages.append(
            NewMessage(
                chat_id=person.telegram_id,
                kind="message",
                payload={
                    "text": t(REQUEST, id=item.id, title=esc(item.title), author=_name(author)),
                    "rows": rows,
                },
                dedupe_key=f"review:{item.id}:{request}:{person.telegram_id}",
                due_at=now,
            )
        )
    await outbox_store.enqueue(session=context.session, push_id=None, messages=messages, now=now)
    return len(messages)


async def after_request(update: Update, context: KepuContext, item: ContentItem) -> None:
    """Tell the author who was asked."""
    t = context.t
    n = await notify_reviewers(context, item)
    if n == 0:
        await reply(
            update,
            t(
                "#{id} waits for approval, but there is no other curator to approve it. "
                "An administrator can grant the curator role to someone else.",
                id=item.id,
            ),
        )
        return
    await reply(
        update,
        t.plural(
            "#{id} waits for approval: {n} other curator was asked.",
            "#{id} waits for approval: {n} other curators were asked.",
            n,
            id=item.id,
        ),
    )


async def ask_review(update: Update, context: KepuContext, content_id: int) -> None:
    """Ask for review from /catalog (a sent-back or edited item, or an imported one)."""
    person = context.person
    try:
        item = await request_review(
            session=context.session,
            content_id=content_id,
            actor_id=person.id if person is not None else None,
            now=context.runtime.now(),
        )
    except CatalogueError as exc:
        await reply(update, error(context.t, exc))
        return
    await after_request(update, context, item)


async def decide(update: Update, context: KepuContext, content_id: int, *, approve: bool) -> None:
    """Approve or send back; the author is refused (audited)."""
    t = context.t
    person = context.person
    now = context.runtime.now()
    try:
        item = await decide_review(
            session=context.session,
            content_id=content_id,
            approve=approve,
            actor_id=person.id if person is not None else None,
            now=now,
        )
    except CatalogueError as exc:
        if exc.code == "own_item":
            await refuse(
                update,
                context,
                error(t, exc),
                reason="own_item",
                action="content.approve" if approve else "content.send_back",
                subject_type="content",
                subject_id=content_id,
            )
            return
        if update.callback_query is not None:
            await update.callback_query.answer()
        await reply(update, error(t, exc))
        return
    query = update.callback_query
    if query is not None:
        await query.answer()
    await _tell_author(context, item, approve=approve)
    if not approve:
        await reply(update, t("Sent back #{id} to its author.", id=item.id))
        return
    await reply(update, t("Approved #{id}.", id=item.id))
    assert item.id is not None
    if item.publish_at is not None:
        # The author asked for a push (now or at a time): it happens now that it is approved.
        later = item.publish_at if item.publish_at > now else None
        await start_push(update, context, item.id, not_before=later)


async def _tell_author(context: KepuContext, item: ContentItem, *, approve: bool) -> None:
    if item.created_by is None:
        return
    author = await context.session.get(Person, item.created_by)
    if author is None:
        return
    t = get_translator(author.language or context.runtime.settings.i18n.default_locale)
    text = t(
        APPROVED if approve else RETURNED,
        id=item.id,
        title=esc(item.title),
        name=_name(context.person),
    )
    now: dt.datetime = context.runtime.now()
    await outbox_store.enqueue_one(
        session=context.session,
        message=NewMessage(
            chat_id=author.telegram_id,
            kind="message",
            payload={"text": text},
            dedupe_key=f"review:done:{item.id}:{uuid.uuid4().hex[:12]}",
            due_at=now,
        ),
        now=now,
    )
