"""share_event: one index on (informant_id, created_at) instead of informant_id alone

Every burst of shares counts each informant's shares of the last hour (the hourly limit,
``storage.shares.informants_by_telegram_id``); with the time in the index that count is a
range of the index, not a visit of every share the informant ever made. The new index
also serves every lookup by informant the old one did.

Revision ID: shares_3
Revises: shares_2
"""

from collections.abc import Sequence

from alembic import op

revision: str = "shares_3"
down_revision: str | None = "shares_2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("share_event") as batch_op:
        batch_op.create_index(
            "ix_share_event_informant_created", ["informant_id", "created_at"], unique=False
        )
        batch_op.drop_index("ix_share_event_informant_id")


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("share_event") as batch_op:
        batch_op.create_index("ix_share_event_informant_id", ["informant_id"], unique=False)
        batch_op.drop_index("ix_share_event_informant_created")
