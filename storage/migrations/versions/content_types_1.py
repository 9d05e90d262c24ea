"""Content types and review: video duration and cover, the original file, target interests,
and the second curator's approval.

``original_*`` is the file as the curator sent it (an image sent as a document, a PDF):
the card shows the compressed picture, the original stays available. ``review_state`` is
NULL (no review asked), ``pending``, ``approved`` or ``returned`` (sent back to the author).

Revision ID: content_types_1
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "content_types_1"
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
        batch_op.add_column(sa.Column("duration_seconds", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("cover_file_id", sa.String(length=256), nullable=True))
        batch_op.add_column(sa.Column("interests", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("review_state", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("reviewed_by", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(
            "fk_content_item_reviewed_by_person", "person", ["reviewed_by"], ["id"]
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("content_item") as batch_op:
        batch_op.drop_constraint("fk_content_item_reviewed_by_person", type_="foreignkey")
        for name in (
            "reviewed_at",
            "reviewed_by",
            "review_state",
            "interests",
            "cover_file_id",
            "duration_seconds",
            "original_size",
            "original_mime",
            "original_file_name",
            "original_file_id",
        ):
            batch_op.drop_column(name)
