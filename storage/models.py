"""Tables of the whole domain (SQLModel). Each class is one table; constants live on it."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import JSON, BigInteger, Column, Index, Table, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


def utcnow() -> dt.datetime:
    """Return the current time, timezone-aware in UTC."""
    return dt.datetime.now(dt.UTC)


def table_of(model: type[SQLModel]) -> Table:
    """Return ``model.__table__`` (SQLModel sets it on table models but does not declare it)."""
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table


def _ts(*, nullable: bool = True, index: bool = False) -> Any:
    return Field(
        default=None,
        sa_column=Column(UTCDateTime(), nullable=nullable, index=index),
    )


def _created() -> Any:
    return Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


def _json(default: Any) -> Any:
    return Field(default_factory=default, sa_column=Column(JSON, nullable=False))


def _bigint(*, nullable: bool = False, index: bool = False, unique: bool = False) -> Any:
    return Field(
        default=None if nullable else ...,
        sa_column=Column(BigInteger, nullable=nullable, index=index, unique=unique),
    )


class Region(SQLModel, table=True):
    """An administrative region: province > city > county, keyed by GB/T 2260 code."""

    __tablename__ = "region"
    LEVELS: ClassVar[tuple[str, ...]] = ("province", "city", "county")

    code: str = Field(primary_key=True, max_length=6)
    name: str = Field(max_length=64)
    name_en: str | None = Field(default=None, max_length=128)
    level: str = Field(max_length=16, index=True)
    parent_code: str | None = Field(default=None, foreign_key="region.code", index=True)


class Person(SQLModel, table=True):
    """Anyone who has talked to the bot, keyed by Telegram user id."""

    __tablename__ = "person"

    id: int | None = Field(default=None, primary_key=True)
    telegram_id: int = _bigint()
    first_name: str | None = Field(default=None, max_length=128)
    username: str | None = Field(default=None, max_length=64)
    language: str | None = Field(default=None, max_length=8)
    unreachable: bool = False  # the user blocked the bot (403); pushes skip them
    created_at: dt.datetime = _created()
    last_seen_at: dt.datetime | None = _ts()

    __table_args__ = (UniqueConstraint("telegram_id", name="uq_person_telegram_id"),)


class RoleGrant(SQLModel, table=True):
    """A role held by a person, scoped to a region or a station."""

    __tablename__ = "role_grant"
    ROLES: ClassVar[tuple[str, ...]] = ("admin", "curator", "coordinator", "station_admin")

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    role: str = Field(max_length=32)
    region_code: str | None = Field(default=None, foreign_key="region.code", index=True)
    station_id: int | None = Field(default=None, foreign_key="station.id", index=True)
    # '' when unscoped: NULLs never collide in a unique constraint, '' does.
    scope_key: str = Field(default="", max_length=32)
    granted_by: int | None = Field(default=None, foreign_key="person.id")
    granted_at: dt.datetime = _created()

    __table_args__ = (
        UniqueConstraint("person_id", "role", "scope_key", name="uq_role_grant_scope"),
    )


class Station(SQLModel, table=True):
    """A 科普中国e站 and its lifecycle state."""

    __tablename__ = "station"
    STATES: ClassVar[tuple[str, ...]] = (
        "draft",
        "submitted",
        "county_approved",
        "recognised",
        "rejected",
        "rectifying",
        "revoked",
    )
    VENUE_TYPES: ClassVar[tuple[str, ...]] = (
        "civilisation_centre",
        "service_centre",
        "cultural_centre",
        "school",
        "hospital",
        "rural_association",
        "science_base",
        "transport_station",
        "other",
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=128)
    venue_type: str = Field(max_length=32)
    address: str | None = Field(default=None, max_length=256)
    region_code: str | None = Field(default=None, foreign_key="region.code", index=True)
    status: str = Field(default="draft", max_length=24, index=True)
    status_reason: str | None = Field(default=None, max_length=1000)
    rectify_deadline: dt.date | None = None
    applicant_id: int | None = Field(default=None, foreign_key="person.id")
    external_ref: str | None = Field(default=None, max_length=64)
    created_at: dt.datetime = _created()
    submitted_at: dt.datetime | None = _ts()
    recognised_at: dt.datetime | None = _ts()
    updated_at: dt.datetime | None = _ts()


class StationEvidence(SQLModel, table=True):
    """Evidence for one of the five haves (五有) of a station application."""

    __tablename__ = "station_evidence"
    HAVES: ClassVar[tuple[str, ...]] = (
        "network",
        "personnel",
        "venue",
        "activities",
        "terminals",
    )

    id: int | None = Field(default=None, primary_key=True)
    station_id: int = Field(foreign_key="station.id", index=True)
    have: str = Field(max_length=16)
    text: str | None = Field(default=None, max_length=2000)
    file_id: str | None = Field(default=None, max_length=256)
    file_unique_id: str | None = Field(default=None, max_length=64, index=True)
    phash: str | None = Field(default=None, max_length=32)  # perceptual hash, hex
    created_at: dt.datetime = _created()


class StationReview(SQLModel, table=True):
    """A review decision (county or city stage), with the on-site check record."""

    __tablename__ = "station_review"

    id: int | None = Field(default=None, primary_key=True)
    station_id: int = Field(foreign_key="station.id", index=True)
    stage: str = Field(max_length=16)  # county | city | management
    decision: str = Field(max_length=24)
    reason: str | None = Field(default=None, max_length=1000)
    reviewer_id: int | None = Field(default=None, foreign_key="person.id")
    onsite_date: dt.date | None = None
    inspector: str | None = Field(default=None, max_length=64)
    note: str | None = Field(default=None, max_length=2000)
    photo_file_id: str | None = Field(default=None, max_length=256)
    latitude: float | None = None
    longitude: float | None = None
    created_at: dt.datetime = _created()


class InviteLink(SQLModel, table=True):
    """A station's invite deep link; the payload is at least 96 random bits."""

    __tablename__ = "invite_link"

    id: int | None = Field(default=None, primary_key=True)
    station_id: int = Field(foreign_key="station.id", index=True)
    payload: str = Field(max_length=64)
    created_by: int | None = Field(default=None, foreign_key="person.id")
    created_at: dt.datetime = _created()
    expires_at: dt.datetime | None = _ts()
    max_uses: int | None = None
    uses: int = 0
    revoked_at: dt.datetime | None = _ts()
    # informant (joining the station) or coadmin (one-time station_admin grant).
    purpose: str = Field(
        default="informant", max_length=16, sa_column_kwargs={"server_default": "informant"}
    )

    __table_args__ = (UniqueConstraint("payload", name="uq_invite_link_payload"),)


class Informant(SQLModel, table=True):
    """A real-name registered informant attached to one station."""

    __tablename__ = "informant"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int | None = Field(default=None, foreign_key="person.id")
    station_id: int = Field(foreign_key="station.id", index=True)
    real_name: str | None = Field(default=None, max_length=64)
    phone: str | None = Field(default=None, max_length=32)
    interests: list[str] = _json(list)
    consent_at: dt.datetime | None = _ts()
    consent_version: str | None = Field(default=None, max_length=16)
    paused: bool = False
    quiet_start: dt.time | None = None
    quiet_end: dt.time | None = None
    joined_at: dt.datetime = _created()
    last_active_at: dt.datetime | None = _ts()
    removed_at: dt.datetime | None = _ts()
    forgotten_at: dt.datetime | None = _ts()  # personal data erased; rows kept for totals

    __table_args__ = (UniqueConstraint("person_id", name="uq_informant_person"),)


class ContentItem(SQLModel, table=True):
    """A piece of curated content: video, article or poster."""

    __tablename__ = "content_item"
    KINDS: ClassVar[tuple[str, ...]] = ("video", "article", "poster", "document")
    REVIEW_STATES: ClassVar[tuple[str, ...]] = ("pending", "approved", "returned")

    id: int | None = Field(default=None, primary_key=True)
    guid: str = Field(max_length=512)
    title: str = Field(max_length=256)
    summary: str = Field(default="", max_length=4000)
    title_en: str | None = Field(default=None, max_length=256)
    summary_en: str | None = Field(default=None, max_length=4000)
    category: str = Field(max_length=32, index=True)
    kind: str = Field(max_length=16)
    url: str = Field(max_length=2048)
    media_path: str | None = Field(default=None, max_length=1024)
    media_file_id: str | None = Field(default=None, max_length=256)
    tags: list[str] = _json(list)
    regions: list[str] = _json(list)
    campaign: str | None = Field(default=None, max_length=32)
    source: str | None = Field(default=None, max_length=128)
    publish_at: dt.datetime | None = _ts(index=True)
    expires_at: dt.datetime | None = _ts()
    retired_at: dt.datetime | None = _ts()
    created_by: int | None = Field(default=None, foreign_key="person.id")
    created_at: dt.datetime = _created()
    # content_types_1: what each kind needs, the original file, targeting, the review.
    original_file_id: str | None = Field(default=None, max_length=256)
    original_file_name: str | None = Field(default=None, max_length=256)
    original_mime: str | None = Field(default=None, max_length=128)
    original_size: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    duration_seconds: int | None = None
    cover_file_id: str | None = Field(default=None, max_length=256)
    interests: list[str] | None = Field(
        default_factory=list, sa_column=Column(JSON, nullable=True)
    )
    review_state: str | None = Field(default=None, max_length=16)
    reviewed_by: int | None = Field(default=None, foreign_key="person.id")
    reviewed_at: dt.datetime | None = _ts()
    # content_originals_2: a local original (a pack's) to upload the first time it is sent;
    # later sends reuse original_file_id.
    original_path: str | None = Field(default=None, max_length=1024)

    __table_args__ = (UniqueConstraint("guid", name="uq_content_item_guid"),)


class GroupChat(SQLModel, table=True):
    """A Telegram group the bot is in, linked to the informant who added it."""

    __tablename__ = "group_chat"

    chat_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    title: str | None = Field(default=None, max_length=256)
    informant_id: int | None = Field(default=None, foreign_key="informant.id", index=True)
    member_count: int | None = None
    member_count_at: dt.datetime | None = _ts()
    added_at: dt.datetime = _created()
    removed_at: dt.datetime | None = _ts()


class TrackedLink(SQLModel, table=True):
    """A short link unique to informant + content + channel."""

    __tablename__ = "tracked_link"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32)
    informant_id: int = Field(foreign_key="informant.id", index=True)
    content_id: int = Field(foreign_key="content_item.id", index=True)
    channel: str = Field(max_length=32)
    created_at: dt.datetime = _created()

    __table_args__ = (
        UniqueConstraint("code", name="uq_tracked_link_code"),
        UniqueConstraint("informant_id", "content_id", "channel", name="uq_tracked_link_owner"),
    )


class ShareEvent(SQLModel, table=True):
    """One share of a content item; ``dedupe_key`` makes a repeat a no-op."""

    __tablename__ = "share_event"
    CHANNELS: ClassVar[tuple[str, ...]] = (
        "telegram_inline",
        "telegram_forward",
        "wechat_group",
        "wechat_moments",
        "qq_group",
        "public_account",
        "other",
    )

    id: int | None = Field(default=None, primary_key=True)
    informant_id: int = Field(foreign_key="informant.id")  # indexed with created_at below
    station_id: int = Field(foreign_key="station.id")
    content_id: int = Field(foreign_key="content_item.id", index=True)
    channel: str = Field(max_length=32)
    target: str = Field(default="", max_length=128)
    audience: int = 0
    audience_reported: int | None = None  # what the informant claimed, before capping
    # Inline shares: the kind of chat the inline query came from, as Telegram says
    # (sender, private, group, supergroup, channel); None when it did not say.
    chat_type: str | None = Field(default=None, max_length=16)
    flagged: bool = False
    day: dt.date
    dedupe_key: str = Field(max_length=255)
    created_at: dt.datetime = _created()

    __table_args__ = (
        UniqueConstraint("dedupe_key", name="uq_share_event_dedupe"),
        Index("ix_share_event_station_day", "station_id", "day"),
        # The hourly limit counts an informant's recent shares (migration shares_3).
        Index("ix_share_event_informant_created", "informant_id", "created_at"),
    )


class LinkVisit(SQLModel, table=True):
    """A verified visit to a tracked link, once per visiting address per day."""

    __tablename__ = "link_visit"

    id: int | None = Field(default=None, primary_key=True)
    link_id: int = Field(foreign_key="tracked_link.id", index=True)
    day: dt.date = Field(index=True)
    visitor_hash: str = Field(max_length=64)
    created_at: dt.datetime = _created()

    __table_args__ = (
        UniqueConstraint("link_id", "day", "visitor_hash", name="uq_link_visit_daily"),
        # The per-address daily cap counts an address's visits across links.
        Index("ix_link_visit_day_visitor", "day", "visitor_hash"),
    )


class Activity(SQLModel, table=True):
    """An offline or online activity a station ran."""

    __tablename__ = "activity"
    TYPES: ClassVar[tuple[str, ...]] = (
        "lecture",
        "exhibition",
        "consultation",
        "competition",
        "online_live",
        "other",
    )

    id: int | None = Field(default=None, primary_key=True)
    station_id: int = Field(foreign_key="station.id")
    type: str = Field(max_length=24)
    title: str = Field(max_length=256)
    held_on: dt.date
    held_at_time: dt.time | None = None
    place: str | None = Field(default=None, max_length=256)
    participants: int = 0
    campaign: str | None = Field(default=None, max_length=32)
    flagged: bool = False  # an open finding is about it (marked ⚠️; it still counts)
    # The form's question "sales or sponsors involved?": None = not asked (older rows).
    commercial: bool | None = None
    created_by: int | None = Field(default=None, foreign_key="person.id")
    created_at: dt.datetime = _created()
    updated_at: dt.datetime | None = _ts()
    deleted_at: dt.datetime | None = _ts()

    __table_args__ = (Index("ix_activity_station_day", "station_id", "held_on"),)


class ActivityPhoto(SQLModel, table=True):
    """A photo used as evidence for an activity."""

    __tablename__ = "activity_photo"

    id: int | None = Field(default=None, primary_key=True)
    activity_id: int = Field(foreign_key="activity.id", index=True)
    file_id: str = Field(max_length=256)
    file_unique_id: str = Field(max_length=64, index=True)
    phash: str | None = Field(default=None, max_length=32)  # perceptual hash, hex


class ContentUse(SQLModel, table=True):
    """A station's offline use of content: a video played, a poster put up."""

    __tablename__ = "content_use"

    id: int | None = Field(default=None, primary_key=True)
    station_id: int = Field(foreign_key="station.id")
    content_id: int = Field(foreign_key="content_item.id", index=True)
    use_kind: str = Field(max_length=24)  # played | posted | other
    place: str | None = Field(default=None, max_length=256)
    audience: int = 0
    used_on: dt.date
    created_by: int | None = Field(default=None, foreign_key="person.id")
    created_at: dt.datetime = _created()

    __table_args__ = (Index("ix_content_use_station_day", "station_id", "used_on"),)


class IntegrityFlag(SQLModel, table=True):
    """A finding coordinators should look at: reused photos, huge audiences, bursts…"""

    __tablename__ = "integrity_flag"
    STATUSES: ClassVar[tuple[str, ...]] = ("open", "confirmed", "dismissed", "closed")

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32, index=True)
    station_id: int | None = Field(default=None, foreign_key="station.id", index=True)
    region_code: str | None = Field(default=None, foreign_key="region.code", index=True)
    subject_type: str | None = Field(default=None, max_length=32)
    subject_id: int | None = None
    detail: dict[str, Any] = _json(dict)
    created_at: dt.datetime = _created()
    resolved_at: dt.datetime | None = _ts()  # when it left "open" (any of the other states)
    # open → confirmed | dismissed (a coordinator, with a reason) | closed (a re-check found
    # it no longer holds).  Only confirmed findings may weigh on an evaluation proposal.
    status: str = Field(default="open", max_length=16, index=True)
    decided_by: int | None = Field(default=None, foreign_key="person.id")
    decided_at: dt.datetime | None = _ts()
    decision_reason: str | None = Field(default=None, max_length=1000)


class AuditLog(SQLModel, table=True):
    """Who did what, when and why — including refused attempts."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime = _created()
    actor_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    action: str = Field(max_length=64, index=True)
    allowed: bool = True
    subject_type: str | None = Field(default=None, max_length=32)
    subject_id: int | None = Field(default=None, index=True)
    region_code: str | None = Field(default=None, max_length=6, index=True)
    reason: str | None = Field(default=None, max_length=1000)
    detail: dict[str, Any] = _json(dict)


class InboxUpdate(SQLModel, table=True):
    """A Telegram update stored before it is acknowledged; processed exactly once."""

    __tablename__ = "inbox_update"
    STATES: ClassVar[tuple[str, ...]] = ("pending", "done", "parked")

    update_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    payload: dict[str, Any] = _json(dict)
    # The sender's Telegram id, copied from the payload when stored: /mydata and /forget
    # find a person's raw updates by it on every database.
    user_id: int | None = _bigint(nullable=True, index=True)
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=2000)
    received_at: dt.datetime = _created()
    next_attempt_at: dt.datetime | None = _ts()
    processed_at: dt.datetime | None = _ts()

    __table_args__ = (Index("ix_inbox_update_status", "status", "update_id"),)


class Push(SQLModel, table=True):
    """A push of one content item to many informants."""

    __tablename__ = "push"

    id: int | None = Field(default=None, primary_key=True)
    content_id: int | None = Field(default=None, foreign_key="content_item.id")
    kind: str = Field(default="content", max_length=24)
    created_by: int | None = Field(default=None, foreign_key="person.id")
    targeting: dict[str, Any] = _json(dict)
    total: int = 0
    created_at: dt.datetime = _created()
    finished_at: dt.datetime | None = _ts()


class OutboxMessage(SQLModel, table=True):
    """One message to one chat, sent by the rate-limited sender worker."""

    __tablename__ = "outbox_message"
    STATES: ClassVar[tuple[str, ...]] = ("pending", "sent", "failed", "blocked")

    id: int | None = Field(default=None, primary_key=True)
    push_id: int | None = Field(default=None, foreign_key="push.id", index=True)
    chat_id: int = _bigint()
    kind: str = Field(max_length=24)
    payload: dict[str, Any] = _json(dict)
    state: str = Field(default="pending", max_length=16)
    attempts: int = 0
    next_attempt_at: dt.datetime | None = _ts()
    dedupe_key: str = Field(max_length=255)
    error: str | None = Field(default=None, max_length=1000)
    telegram_message_id: int | None = None
    created_at: dt.datetime = _created()
    sent_at: dt.datetime | None = _ts()

    __table_args__ = (
        UniqueConstraint("dedupe_key", name="uq_outbox_message_dedupe"),
        Index("ix_outbox_message_state", "state", "next_attempt_at"),
        # A chat's replies go out in order: the claim looks for earlier unsent ones.
        Index("ix_outbox_message_chat", "chat_id", "state", "id"),
    )


class DialogState(SQLModel, table=True):
    """Where a user is in a multi-step conversation; survives restarts."""

    __tablename__ = "dialog_state"

    chat_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    user_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    flow: str = Field(max_length=32)
    step: str = Field(max_length=32)
    data: dict[str, Any] = _json(dict)
    updated_at: dt.datetime = _created()


class JobRun(SQLModel, table=True):
    """One run of a scheduled job for one period; the unique key prevents doubles."""

    __tablename__ = "job_run"

    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=64)
    period: str = Field(max_length=32)
    status: str = Field(default="running", max_length=16)
    started_at: dt.datetime = _created()
    finished_at: dt.datetime | None = _ts()
    result: dict[str, Any] = _json(dict)
    error: str | None = Field(default=None, max_length=2000)

    __table_args__ = (UniqueConstraint("job", "period", name="uq_job_run_period"),)


class Lease(SQLModel, table=True):
    """A named, expiring lock so only one process runs a job or loop."""

    __tablename__ = "lease"

    name: str = Field(primary_key=True, max_length=64)
    holder: str = Field(max_length=128)
    expires_at: dt.datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


# --- weekly tally (issue 9) ------------------------------------------------------------
# Counters aggregated from the append-only event tables by the weekly_tally job
# (bot/services/tally.py; definitions in docs/tally-and-digest.md).


class WeeklyStationTally(SQLModel, table=True):
    """One counted station's figures for one ISO week (Asia/Shanghai days)."""

    __tablename__ = "weekly_station_tally"

    id: int | None = Field(default=None, primary_key=True)
    station_id: int = Field(foreign_key="station.id")
    week: str = Field(max_length=8)  # "2026-W48"
    week_start: dt.date  # the Monday
    county_code: str | None = Field(default=None, max_length=6)
    city_code: str | None = Field(default=None, max_length=6)
    province_code: str | None = Field(default=None, max_length=6)
    shares_total: int = 0
    shares_telegram_inline: int = 0
    shares_telegram_forward: int = 0
    shares_wechat_group: int = 0
    shares_wechat_moments: int = 0
    shares_qq_group: int = 0
    shares_public_account: int = 0
    shares_other: int = 0
    sharing_informants: int = 0  # shared at least once this week
    active_informants: int = 0  # shared, or their tracked links were visited, this week
    informants: int = 0  # registered and not removed during the week
    reach_telegram: int = 0
    reach_reported: int = 0
    visits: int = 0
    activities: int = 0
    participants: int = 0
    content_uses: int = 0
    content_use_audience: int = 0
    volume: float = 0.0
    silent: bool = False  # no share, no activity, no content use this week
    computed_at: dt.datetime = _created()

    __table_args__ = (
        UniqueConstraint("station_id", "week", name="uq_weekly_station_tally_week"),
        Index("ix_weekly_station_tally_week_county", "week", "county_code"),
        Index("ix_weekly_station_tally_week_city", "week", "city_code"),
        Index("ix_weekly_station_tally_week_province", "week", "province_code"),
    )


class WeeklyRegionTally(SQLModel, table=True):
    """A region's (county, city or province) sums of its stations' weekly figures."""

    __tablename__ = "weekly_region_tally"

    id: int | None = Field(default=None, primary_key=True)
    region_code: str = Field(max_length=6)
    level: str = Field(max_length=16)
    week: str = Field(max_length=8)
    week_start: dt.date
    shares_total: int = 0
    shares_telegram_inline: int = 0
    shares_telegram_forward: int = 0
    shares_wechat_group: int = 0
    shares_wechat_moments: int = 0
    shares_qq_group: int = 0
    shares_public_account: int = 0
    shares_other: int = 0
    sharing_informants: int = 0
    active_informants: int = 0
    informants: int = 0
    reach_telegram: int = 0
    reach_reported: int = 0
    visits: int = 0
    activities: int = 0
    participants: int = 0
    content_uses: int = 0
    content_use_audience: int = 0
    volume: float = 0.0
    stations_counted: int = 0
    stations_silent: int = 0
    computed_at: dt.datetime = _created()

    __table_args__ = (
        UniqueConstraint("region_code", "week", name="uq_weekly_region_tally_week"),
        Index("ix_weekly_region_tally_week_level", "week", "level"),
    )


# Indexes on other features' event tables that the week-range scans of the tally need.
Index("ix_share_event_day_station", table_of(ShareEvent).c.day, table_of(ShareEvent).c.station_id)
Index("ix_activity_held_on", table_of(Activity).c.held_on)
Index("ix_content_use_used_on", table_of(ContentUse).c.used_on)


# --- annual evaluation (issue 10) ---------------------------------------------------------
class EvaluationRun(SQLModel, table=True):
    """One annual evaluation of a region ('' = every region); re-runs update it in place."""

    __tablename__ = "evaluation_run"

    id: int | None = Field(default=None, primary_key=True)
    year: int
    region_code: str = Field(default="", max_length=6)
    created_at: dt.datetime = _created()
    params: dict[str, Any] = _json(dict)
    summary: dict[str, Any] = _json(dict)

    __table_args__ = (
        UniqueConstraint("year", "region_code", name="uq_evaluation_run_year_region"),
    )


class EvaluationScore(SQLModel, table=True):
    """A station's figures, score and ranks in one evaluation run."""

    __tablename__ = "evaluation_score"

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="evaluation_run.id", index=True)
    station_id: int = Field(foreign_key="station.id", index=True)
    region_code: str = Field(max_length=6)
    counted_from: dt.date
    shares: int = 0
    telegram_reach: int = 0
    reported_reach: int = 0
    visits: int = 0
    volume: float = 0.0
    activities: int = 0
    content_uses: int = 0
    last_active_on: dt.date | None = None
    score: float = 0.0
    rank_county: int = 0
    rank_city: int = 0
    rank_province: int = 0
    city_count: int = 0

    __table_args__ = (
        UniqueConstraint("run_id", "station_id", name="uq_evaluation_score_station"),
    )


class EvaluationProposal(SQLModel, table=True):
    """A proposed commend / rectify / eliminate / revoke decision, and how it was decided."""

    __tablename__ = "evaluation_proposal"
    KINDS: ClassVar[tuple[str, ...]] = ("commend", "rectify", "eliminate", "revoke")
    STATES: ClassVar[tuple[str, ...]] = ("proposed", "confirmed", "overridden")

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="evaluation_run.id", index=True)
    year: int
    station_id: int = Field(foreign_key="station.id", index=True)
    kind: str = Field(max_length=16)
    reason_code: str = Field(max_length=32)
    detail: dict[str, Any] = _json(dict)
    status: str = Field(default="proposed", max_length=16, index=True)
    created_at: dt.datetime = _created()
    decided_by: int | None = Field(default=None, foreign_key="person.id")
    decided_at: dt.datetime | None = _ts()
    decision_reason: str | None = Field(default=None, max_length=1000)

    __table_args__ = (
        UniqueConstraint("year", "station_id", "kind", name="uq_evaluation_proposal_kind"),
    )


class OutstandingInformant(SQLModel, table=True):
    """An informant among the top by propagation volume in a region, in one run."""

    __tablename__ = "outstanding_informant"

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="evaluation_run.id", index=True)
    informant_id: int = Field(foreign_key="informant.id")
    region_code: str = Field(max_length=6)
    volume: float = 0.0
    rank: int = 0

    __table_args__ = (
        UniqueConstraint("run_id", "region_code", "informant_id", name="uq_outstanding_informant"),
    )


# --- feeds (subscribed RSS/Atom feeds polled on a schedule) --------------------------------
class FeedSource(SQLModel, table=True):
    """A subscribed RSS/Atom feed: its settings, HTTP validators and last poll's outcome."""

    __tablename__ = "feed_source"
    STATUSES: ClassVar[tuple[str, ...]] = ("new", "ok", "not_modified", "error")

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(max_length=2048)
    name: str = Field(max_length=128)
    category: str = Field(max_length=32)
    kind: str = Field(default="article", max_length=16)
    auto_publish: bool = False
    regions: list[str] = _json(list)
    origin: str = Field(default="bot", max_length=16)  # config | bot
    active: bool = True
    etag: str | None = Field(default=None, max_length=512)
    last_modified: str | None = Field(default=None, max_length=128)
    status: str = Field(default="new", max_length=16)
    error: str | None = Field(default=None, max_length=64)  # machine code of the failure
    error_detail: str | None = Field(default=None, max_length=500)
    failing_since: dt.datetime | None = _ts()
    error_reported: bool = False  # curators were told of the current failure streak
    last_polled_at: dt.datetime | None = _ts()
    last_ok_at: dt.datetime | None = _ts()
    added_by: int | None = Field(default=None, foreign_key="person.id")
    created_at: dt.datetime = _created()

    __table_args__ = (UniqueConstraint("url", name="uq_feed_source_url"),)


class FeedEntry(SQLModel, table=True):
    """One entry a feed carried, tied to the catalogue item it became (or duplicated)."""

    __tablename__ = "feed_entry"

    id: int | None = Field(default=None, primary_key=True)
    feed_id: int = Field(foreign_key="feed_source.id", index=True)
    content_id: int | None = Field(default=None, foreign_key="content_item.id", index=True)
    entry_key: str = Field(max_length=512, index=True)  # normalised guid or link
    link_key: str = Field(default="", max_length=512, index=True)  # normalised link
    fingerprint: str = Field(max_length=64, index=True)  # title + day
    enclosure_url: str | None = Field(default=None, max_length=2048)
    enclosure_type: str | None = Field(default=None, max_length=128)
    enclosure_length: int | None = Field(default=None, sa_column=Column(BigInteger))
    seen_at: dt.datetime = _created()

    __table_args__ = (UniqueConstraint("feed_id", "entry_key", name="uq_feed_entry_key"),)


# --- announcements (one-to-many notices to station admins and informants) -------------------
class Announcement(SQLModel, table=True):
    """A coordinator's or curator's announcement: audience, text, attachment, send time."""

    __tablename__ = "announcement"
    AUDIENCES: ClassVar[tuple[str, ...]] = ("admins", "informants", "both")

    id: int | None = Field(default=None, primary_key=True)
    author_id: int | None = Field(default=None, foreign_key="person.id")
    region_code: str | None = Field(default=None, max_length=6)  # None: everywhere
    audience: str = Field(max_length=16)
    text: str = Field(max_length=4096)
    attachment_kind: str | None = Field(default=None, max_length=16)  # photo | document
    attachment_file_id: str | None = Field(default=None, max_length=256)
    send_at: dt.datetime = _created()
    push_id: int | None = Field(default=None, foreign_key="push.id")
    created_at: dt.datetime = _created()


class Campaign(SQLModel, table=True):
    """A campaign a curator defined in the bot (``/campaigns``); config ones are not stored.

    ``key`` is the code content and activities carry (``ContentItem.campaign``,
    ``Activity.campaign``); ``regions`` are region codes (empty: everywhere); the dates are
    local days, both included.
    """

    __tablename__ = "campaign"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=32)
    name_zh: str = Field(max_length=64)
    name_en: str = Field(default="", max_length=64)
    starts_on: dt.date
    ends_on: dt.date
    regions: list[str] = _json(list)
    created_by: int | None = Field(default=None, foreign_key="person.id")
    created_at: dt.datetime = _created()
    updated_at: dt.datetime | None = _ts()

    __table_args__ = (UniqueConstraint("key", name="uq_campaign_key"),)


# --- desk exports (desk-people) ---------------------------------------------------------------
class DeskDownload(SQLModel, table=True):
    """A one-time download link of a desk export: what to build, for whom, until when.

    Only the token's SHA-256 is stored; the file is built again when the link is opened
    (with the viewer's roles at that moment), so no export content is kept here.
    """

    __tablename__ = "desk_download"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64)
    person_id: int = Field(foreign_key="person.id", index=True)
    params: dict[str, Any] = _json(dict)
    filename: str = Field(max_length=128)
    created_at: dt.datetime = _created()
    expires_at: dt.datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    used_at: dt.datetime | None = _ts()

    __table_args__ = (UniqueConstraint("token_hash", name="uq_desk_download_token"),)


# --- reach-cap: one shared send cap and paid broadcasts (migration broadcast_1) -----------
class RateBucket(SQLModel, table=True):
    """A token bucket of the shared send cap (``storage.ratelimit``); no row means full."""

    __tablename__ = "rate_bucket"

    name: str = Field(primary_key=True, max_length=64)
    tokens: float = 0.0
    stamp: float = Field(default=0.0, index=True)  # seconds on the senders' common clock
    granted: bool = False  # what the last take answered (read back by RETURNING)


class PushBroadcast(SQLModel, table=True):
    """A push the curator opted into paid broadcasts for: its Stars budget and spending."""

    __tablename__ = "push_broadcast"

    push_id: int = Field(primary_key=True, foreign_key="push.id")
    budget_stars: float = 0.0
    stars_per_message: float = 0.1
    paid_sent: int = 0  # messages sent with allow_paid_broadcast (each cost stars_per_message)
    # on: paid sends allowed; spent: the budget ran out; balance: Telegram answered that the
    # bot's Stars balance is too low. Once off, the push carries on at the free rate.
    state: str = Field(default="on", max_length=16)
    estimate_seconds: float = 0.0
    estimate_stars: float = 0.0
    created_at: dt.datetime = _created()
    stopped_at: dt.datetime | None = _ts()


# --- channels (migration channels_1) ----------------------------------------------------------
class ReachChannel(SQLModel, table=True):
    """A Telegram channel linked to a region: pushes there reach every subscriber at once."""

    __tablename__ = "reach_channel"

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = _bigint()
    region_code: str = Field(foreign_key="region.code", max_length=6, index=True)
    title: str | None = Field(default=None, max_length=256)
    username: str | None = Field(default=None, max_length=64)
    invite_link: str | None = Field(default=None, max_length=256)  # private channels
    linked_by: int | None = Field(default=None, foreign_key="person.id")
    linked_at: dt.datetime = _created()

    __table_args__ = (UniqueConstraint("chat_id", name="uq_reach_channel_chat"),)


class ChannelPost(SQLModel, table=True):
    """One item posted to one channel; its subscribers at posting time are its reach."""

    __tablename__ = "channel_post"

    id: int | None = Field(default=None, primary_key=True)
    channel_chat_id: int = _bigint()
    region_code: str = Field(max_length=6, index=True)  # the channel's region when posted
    content_id: int = Field(foreign_key="content_item.id", index=True)
    push_id: int | None = Field(default=None, foreign_key="push.id")
    message_id: int
    posted_at: dt.datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    subscribers: int | None = None  # getChatMemberCount once, after the send
    subscribers_at: dt.datetime | None = _ts()

    __table_args__ = (
        UniqueConstraint("channel_chat_id", "message_id", name="uq_channel_post_message"),
    )


class ChannelLink(SQLModel, table=True):
    """The tracked link of one item in one channel's posts (``/c/<code>``)."""

    __tablename__ = "channel_link"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32)
    channel_chat_id: int = _bigint()
    region_code: str = Field(max_length=6, index=True)  # the channel's region when made
    content_id: int = Field(foreign_key="content_item.id")
    created_at: dt.datetime = _created()

    __table_args__ = (
        UniqueConstraint("code", name="uq_channel_link_code"),
        UniqueConstraint("channel_chat_id", "content_id", name="uq_channel_link_owner"),
    )


class ChannelLinkVisit(SQLModel, table=True):
    """A verified visit to a channel link: once per visitor per link per local day."""

    __tablename__ = "channel_link_visit"

    id: int | None = Field(default=None, primary_key=True)
    link_id: int = Field(foreign_key="channel_link.id", index=True)
    day: dt.date = Field(index=True)
    visitor_hash: str = Field(max_length=64)
    created_at: dt.datetime = _created()

    __table_args__ = (
        UniqueConstraint("link_id", "day", "visitor_hash", name="uq_channel_link_visit"),
    )
