"""content originals: the original file of an item (its Telegram file id, name, type, size)

The same four columns as content-fields' ``content_types_1``: when both branches are
merged, keep one of the two (see docs/content-originals.md).

Revision ID: content_originals_1
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "content_originals_1"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("content_item") as batch_op:
        batch_op.add_column(sa.Column("original_file_id", sa.String(length=256), nullable=True))
        batch_op.add_column(sa.Column("original_file_name", sa.String(length=256), nullable=True))
        batch_op.add_column(sa.Column("original_mime", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("original_size", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("content_item") as batch_op:
        batch_op.drop_column("original_size")
        batch_op.drop_column("original_mime")
        batch_op.drop_column("original_file_name")
        batch_op.drop_column("original_file_id")
