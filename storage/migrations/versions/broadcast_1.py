"""broadcast: the shared send cap's token buckets and each paid push's Stars budget

Revision ID: broadcast_1
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "broadcast_1"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "rate_bucket",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("stamp", sa.Float(), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_index("ix_rate_bucket_stamp", "rate_bucket", ["stamp"])
    op.create_table(
        "push_broadcast",
        sa.Column("push_id", sa.Integer(), nullable=False),
        sa.Column("budget_stars", sa.Float(), nullable=False),
        sa.Column("stars_per_message", sa.Float(), nullable=False),
        sa.Column("paid_sent", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("estimate_seconds", sa.Float(), nullable=False),
        sa.Column("estimate_stars", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["push_id"], ["push.id"]),
        sa.PrimaryKeyConstraint("push_id"),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("push_broadcast")
    op.drop_index("ix_rate_bucket_stamp", table_name="rate_bucket")
    op.drop_table("rate_bucket")
