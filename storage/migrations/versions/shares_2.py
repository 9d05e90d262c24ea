"""inline shares: the kind of chat the inline query came from (Telegram's chat_type)

Revision ID: shares_2
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "shares_2"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("share_event") as batch_op:
        batch_op.add_column(sa.Column("chat_type", sa.String(length=16), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("share_event") as batch_op:
        batch_op.drop_column("chat_type")
