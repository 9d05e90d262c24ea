"""channels: channels linked to regions, their posts (with reach) and tracked links

Revision ID: channels_1
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "channels_1"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "reach_channel",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("title", sa.String(length=256), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=True),
        sa.Column("invite_link", sa.String(length=256), nullable=True),
        sa.Column("linked_by", sa.Integer(), nullable=True),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["region_code"], ["region.code"]),
        sa.ForeignKeyConstraint(["linked_by"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("chat_id", name="uq_reach_channel_chat"),
    )
    op.create_index("ix_reach_channel_region_code", "reach_channel", ["region_code"])
    op.create_table(
        "channel_post",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_chat_id", sa.BigInteger(), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("content_id", sa.Integer(), nullable=False),
        sa.Column("push_id", sa.Integer(), nullable=True),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("subscribers", sa.Integer(), nullable=True),
        sa.Column("subscribers_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["content_id"], ["content_item.id"]),
        sa.ForeignKeyConstraint(["push_id"], ["push.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel_chat_id", "message_id", name="uq_channel_post_message"),
    )
    op.create_index("ix_channel_post_region_code", "channel_post", ["region_code"])
    op.create_index("ix_channel_post_content_id", "channel_post", ["content_id"])
    op.create_index("ix_channel_post_posted_at", "channel_post", ["posted_at"])
    op.create_table(
        "channel_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("channel_chat_id", sa.BigInteger(), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("content_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["content_id"], ["content_item.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code", name="uq_channel_link_code"),
        sa.UniqueConstraint("channel_chat_id", "content_id", name="uq_channel_link_owner"),
    )
    op.create_index("ix_channel_link_region_code", "channel_link", ["region_code"])
    op.create_table(
        "channel_link_visit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("visitor_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["link_id"], ["channel_link.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("link_id", "day", "visitor_hash", name="uq_channel_link_visit"),
    )
    op.create_index("ix_channel_link_visit_link_id", "channel_link_visit", ["link_id"])
    op.create_index("ix_channel_link_visit_day", "channel_link_visit", ["day"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_channel_link_visit_day", table_name="channel_link_visit")
    op.drop_index("ix_channel_link_visit_link_id", table_name="channel_link_visit")
    op.drop_table("channel_link_visit")
    op.drop_index("ix_channel_link_region_code", table_name="channel_link")
    op.drop_table("channel_link")
    op.drop_index("ix_channel_post_posted_at", table_name="channel_post")
    op.drop_index("ix_channel_post_content_id", table_name="channel_post")
    op.drop_index("ix_channel_post_region_code", table_name="channel_post")
    op.drop_table("channel_post")
    op.drop_index("ix_reach_channel_region_code", table_name="reach_channel")
    op.drop_table("reach_channel")
