"""content originals: where an imported item's original file lies on disk

Revision ID: content_originals_2
Revises: content_types_1
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "content_originals_2"
down_revision: str | None = "content_types_1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("content_item") as batch_op:
        batch_op.add_column(sa.Column("original_path", sa.String(length=1024), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("content_item") as batch_op:
        batch_op.drop_column("original_path")
