"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-29 08:47:00.415138
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""

    op.create_table(
        "dialog_state",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("flow", sa.String(length=32), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("chat_id", "user_id"),
    )
    op.create_table(
        "inbox_update",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=2000), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("update_id"),
    )
    with op.batch_alter_table("inbox_update", schema=None) as batch_op:
        batch_op.create_index("ix_inbox_update_status", ["status", "update_id"], unique=False)

    op.create_table(
        "job_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("error", sa.String(length=2000), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("job", "period", name="uq_job_run_period"),
    )
    op.create_table(
        "lease",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=128), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "person",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("telegram_id", sa.BigInteger(), nullable=False),
        sa.Column("first_name", sa.String(length=128), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("unreachable", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("telegram_id", name="uq_person_telegram_id"),
    )
    op.create_table(
        "region",
        sa.Column("code", sa.String(length=6), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("name_en", sa.String(length=128), nullable=True),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("parent_code", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(
            ["parent_code"],
            ["region.code"],
        ),
        sa.PrimaryKeyConstraint("code"),
    )
    with op.batch_alter_table("region", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_region_level"), ["level"], unique=False)
        batch_op.create_index(batch_op.f("ix_region_parent_code"), ["parent_code"], unique=False)

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.Column("subject_type", sa.String(length=32), nullable=True),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("region_code", sa.String(length=6), nullable=True),
        sa.Column("reason", sa.String(length=1000), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_actor_id"), ["actor_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_audit_log_region_code"), ["region_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_audit_log_subject_id"), ["subject_id"], unique=False)

    op.create_table(
        "content_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guid", sa.String(length=512), nullable=False),
        sa.Column("title", sa.String(length=256), nullable=False),
        sa.Column("summary", sa.String(length=4000), nullable=False),
        sa.Column("title_en", sa.String(length=256), nullable=True),
        sa.Column("summary_en", sa.String(length=4000), nullable=True),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("media_path", sa.String(length=1024), nullable=True),
        sa.Column("media_file_id", sa.String(length=256), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("regions", sa.JSON(), nullable=False),
        sa.Column("campaign", sa.String(length=32), nullable=True),
        sa.Column("source", sa.String(length=128), nullable=True),
        sa.Column("publish_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("guid", name="uq_content_item_guid"),
    )
    with op.batch_alter_table("content_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_content_item_category"), ["category"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_content_item_publish_at"), ["publish_at"], unique=False
        )

    op.create_table(
        "station",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("venue_type", sa.String(length=32), nullable=False),
        sa.Column("address", sa.String(length=256), nullable=True),
        sa.Column("region_code", sa.String(), nullable=True),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("status_reason", sa.String(length=1000), nullable=True),
        sa.Column("rectify_deadline", sa.Date(), nullable=True),
        sa.Column("applicant_id", sa.Integer(), nullable=True),
        sa.Column("external_ref", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recognised_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["applicant_id"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["region_code"],
            ["region.code"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("station", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_station_region_code"), ["region_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_station_status"), ["status"], unique=False)

    op.create_table(
        "activity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=24), nullable=False),
        sa.Column("title", sa.String(length=256), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("held_at_time", sa.Time(), nullable=True),
        sa.Column("place", sa.String(length=256), nullable=True),
        sa.Column("participants", sa.Integer(), nullable=False),
        sa.Column("campaign", sa.String(length=32), nullable=True),
        sa.Column("flagged", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["station.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.create_index("ix_activity_station_day", ["station_id", "held_on"], unique=False)

    op.create_table(
        "content_use",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("content_id", sa.Integer(), nullable=False),
        sa.Column("use_kind", sa.String(length=24), nullable=False),
        sa.Column("place", sa.String(length=256), nullable=True),
        sa.Column("audience", sa.Integer(), nullable=False),
        sa.Column("used_on", sa.Date(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["content_id"],
            ["content_item.id"],
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["station.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("content_use", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_content_use_content_id"), ["content_id"], unique=False
        )
        batch_op.create_index(
            "ix_content_use_station_day", ["station_id", "used_on"], unique=False
        )

    op.create_table(
        "informant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("real_name", sa.String(length=64), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("interests", sa.JSON(), nullable=False),
        sa.Column("consent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("consent_version", sa.String(length=16), nullable=True),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("quiet_start", sa.Time(), nullable=True),
        sa.Column("quiet_end", sa.Time(), nullable=True),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_active_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("forgotten_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["station.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("person_id", name="uq_informant_person"),
    )
    with op.batch_alter_table("informant", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_informant_station_id"), ["station_id"], unique=False)

    op.create_table(
        "integrity_flag",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=True),
        sa.Column("region_code", sa.String(), nullable=True),
        sa.Column("subject_type", sa.String(length=32), nullable=True),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["region_code"],
            ["region.code"],
        ),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["station.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("integrity_flag", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_integrity_flag_kind"), ["kind"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_integrity_flag_region_code"), ["region_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_integrity_flag_station_id"), ["station_id"], unique=False
        )

    op.create_table(
        "invite_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("payload", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("max_uses", sa.Integer(), nullable=True),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["station.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("payload", name="uq_invite_link_payload"),
    )
    with op.batch_alter_table("invite_link", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_invite_link_station_id"), ["station_id"], unique=False
        )

    op.create_table(
        "push",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("content_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("targeting", sa.JSON(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["content_id"],
            ["content_item.id"],
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "role_grant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("region_code", sa.String(), nullable=True),
        sa.Column("station_id", sa.Integer(), nullable=True),
        sa.Column("scope_key", sa.String(length=32), nullable=False),
        sa.Column("granted_by", sa.Integer(), nullable=True),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["granted_by"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["region_code"],
            ["region.code"],
        ),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["station.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("person_id", "role", "scope_key", name="uq_role_grant_scope"),
    )
    with op.batch_alter_table("role_grant", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_role_grant_person_id"), ["person_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_role_grant_region_code"), ["region_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_role_grant_station_id"), ["station_id"], unique=False)

    op.create_table(
        "station_evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("have", sa.String(length=16), nullable=False),
        sa.Column("text", sa.String(length=2000), nullable=True),
        sa.Column("file_id", sa.String(length=256), nullable=True),
        sa.Column("file_unique_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["station.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("station_evidence", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_station_evidence_file_unique_id"), ["file_unique_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_station_evidence_station_id"), ["station_id"], unique=False
        )

    op.create_table(
        "station_review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("decision", sa.String(length=24), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=True),
        sa.Column("reviewer_id", sa.Integer(), nullable=True),
        sa.Column("onsite_date", sa.Date(), nullable=True),
        sa.Column("inspector", sa.String(length=64), nullable=True),
        sa.Column("note", sa.String(length=2000), nullable=True),
        sa.Column("photo_file_id", sa.String(length=256), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["reviewer_id"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["station.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("station_review", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_station_review_station_id"), ["station_id"], unique=False
        )

    op.create_table(
        "activity_photo",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("file_id", sa.String(length=256), nullable=False),
        sa.Column("file_unique_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activity.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("activity_photo", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_activity_photo_activity_id"), ["activity_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_activity_photo_file_unique_id"), ["file_unique_id"], unique=False
        )

    op.create_table(
        "group_chat",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("title", sa.String(length=256), nullable=True),
        sa.Column("informant_id", sa.Integer(), nullable=True),
        sa.Column("member_count", sa.Integer(), nullable=True),
        sa.Column("member_count_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["informant_id"],
            ["informant.id"],
        ),
        sa.PrimaryKeyConstraint("chat_id"),
    )
    with op.batch_alter_table("group_chat", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_group_chat_informant_id"), ["informant_id"], unique=False
        )

    op.create_table(
        "outbox_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("push_id", sa.Integer(), nullable=True),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dedupe_key", sa.String(length=255), nullable=False),
        sa.Column("error", sa.String(length=1000), nullable=True),
        sa.Column("telegram_message_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["push_id"],
            ["push.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedupe_key", name="uq_outbox_message_dedupe"),
    )
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_message_push_id"), ["push_id"], unique=False)
        batch_op.create_index(
            "ix_outbox_message_state", ["state", "next_attempt_at"], unique=False
        )

    op.create_table(
        "share_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("informant_id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("content_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("target", sa.String(length=128), nullable=False),
        sa.Column("audience", sa.Integer(), nullable=False),
        sa.Column("audience_reported", sa.Integer(), nullable=True),
        sa.Column("flagged", sa.Boolean(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["content_id"],
            ["content_item.id"],
        ),
        sa.ForeignKeyConstraint(
            ["informant_id"],
            ["informant.id"],
        ),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["station.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedupe_key", name="uq_share_event_dedupe"),
    )
    with op.batch_alter_table("share_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_share_event_content_id"), ["content_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_share_event_informant_id"), ["informant_id"], unique=False
        )
        batch_op.create_index("ix_share_event_station_day", ["station_id", "day"], unique=False)

    op.create_table(
        "tracked_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("informant_id", sa.Integer(), nullable=False),
        sa.Column("content_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["content_id"],
            ["content_item.id"],
        ),
        sa.ForeignKeyConstraint(
            ["informant_id"],
            ["informant.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code", name="uq_tracked_link_code"),
        sa.UniqueConstraint("informant_id", "content_id", "channel", name="uq_tracked_link_owner"),
    )
    with op.batch_alter_table("tracked_link", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_tracked_link_content_id"), ["content_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_tracked_link_informant_id"), ["informant_id"], unique=False
        )

    op.create_table(
        "link_visit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("visitor_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["link_id"],
            ["tracked_link.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("link_id", "day", "visitor_hash", name="uq_link_visit_daily"),
    )
    with op.batch_alter_table("link_visit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_link_visit_day"), ["day"], unique=False)
        batch_op.create_index(batch_op.f("ix_link_visit_link_id"), ["link_id"], unique=False)


def downgrade() -> None:
    """Revert this revision."""

    with op.batch_alter_table("link_visit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_link_visit_link_id"))
        batch_op.drop_index(batch_op.f("ix_link_visit_day"))

    op.drop_table("link_visit")
    with op.batch_alter_table("tracked_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tracked_link_informant_id"))
        batch_op.drop_index(batch_op.f("ix_tracked_link_content_id"))

    op.drop_table("tracked_link")
    with op.batch_alter_table("share_event", schema=None) as batch_op:
        batch_op.drop_index("ix_share_event_station_day")
        batch_op.drop_index(batch_op.f("ix_share_event_informant_id"))
        batch_op.drop_index(batch_op.f("ix_share_event_content_id"))

    op.drop_table("share_event")
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_message_state")
        batch_op.drop_index(batch_op.f("ix_outbox_message_push_id"))

    op.drop_table("outbox_message")
    with op.batch_alter_table("group_chat", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_group_chat_informant_id"))

    op.drop_table("group_chat")
    with op.batch_alter_table("activity_photo", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activity_photo_file_unique_id"))
        batch_op.drop_index(batch_op.f("ix_activity_photo_activity_id"))

    op.drop_table("activity_photo")
    with op.batch_alter_table("station_review", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_station_review_station_id"))

    op.drop_table("station_review")
    with op.batch_alter_table("station_evidence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_station_evidence_station_id"))
        batch_op.drop_index(batch_op.f("ix_station_evidence_file_unique_id"))

    op.drop_table("station_evidence")
    with op.batch_alter_table("role_grant", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_role_grant_station_id"))
        batch_op.drop_index(batch_op.f("ix_role_grant_region_code"))
        batch_op.drop_index(batch_op.f("ix_role_grant_person_id"))

    op.drop_table("role_grant")
    op.drop_table("push")
    with op.batch_alter_table("invite_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invite_link_station_id"))

    op.drop_table("invite_link")
    with op.batch_alter_table("integrity_flag", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_integrity_flag_station_id"))
        batch_op.drop_index(batch_op.f("ix_integrity_flag_region_code"))
        batch_op.drop_index(batch_op.f("ix_integrity_flag_kind"))

    op.drop_table("integrity_flag")
    with op.batch_alter_table("informant", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_informant_station_id"))

    op.drop_table("informant")
    with op.batch_alter_table("content_use", schema=None) as batch_op:
        batch_op.drop_index("ix_content_use_station_day")
        batch_op.drop_index(batch_op.f("ix_content_use_content_id"))

    op.drop_table("content_use")
    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.drop_index("ix_activity_station_day")

    op.drop_table("activity")
    with op.batch_alter_table("station", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_station_status"))
        batch_op.drop_index(batch_op.f("ix_station_region_code"))

    op.drop_table("station")
    with op.batch_alter_table("content_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_content_item_publish_at"))
        batch_op.drop_index(batch_op.f("ix_content_item_category"))

    op.drop_table("content_item")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_subject_id"))
        batch_op.drop_index(batch_op.f("ix_audit_log_region_code"))
        batch_op.drop_index(batch_op.f("ix_audit_log_actor_id"))
        batch_op.drop_index(batch_op.f("ix_audit_log_action"))

    op.drop_table("audit_log")
    with op.batch_alter_table("region", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_region_parent_code"))
        batch_op.drop_index(batch_op.f("ix_region_level"))

    op.drop_table("region")
    op.drop_table("person")
    op.drop_table("lease")
    op.drop_table("job_run")
    with op.batch_alter_table("inbox_update", schema=None) as batch_op:
        batch_op.drop_index("ix_inbox_update_status")

    op.drop_table("inbox_update")
    op.drop_table("dialog_state")
