"""Activities keep the form's answer about sales or sponsors, so a re-check can weigh it.

Revision ID: detection_1
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "detection_1"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("activity") as batch_op:
        batch_op.add_column(sa.Column("commercial", sa.Boolean(), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("activity") as batch_op:
        batch_op.drop_column("commercial")
