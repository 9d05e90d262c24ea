"""Integrity findings get a life (open → confirmed | dismissed | closed) and photos a
perceptual hash, so re-uploads and resized copies are recognised.

Revision ID: findings_1
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "findings_1"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("integrity_flag") as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=16), nullable=False, server_default="open")
        )
        batch_op.add_column(sa.Column("decided_by", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("decision_reason", sa.String(length=1000), nullable=True))
        batch_op.create_index("ix_integrity_flag_status", ["status"], unique=False)
        batch_op.create_foreign_key(
            "fk_integrity_flag_decided_by_person", "person", ["decided_by"], ["id"]
        )
    # Findings resolved before this revision were closed by a re-check of their own.
    flag = sa.table("integrity_flag", sa.column("status", sa.String()), sa.column("resolved_at"))
    op.execute(flag.update().where(flag.c.resolved_at.isnot(None)).values(status="closed"))
    for table in ("activity_photo", "station_evidence"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column("phash", sa.String(length=32), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    for table in ("activity_photo", "station_evidence"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("phash")
    with op.batch_alter_table("integrity_flag") as batch_op:
        batch_op.drop_constraint("fk_integrity_flag_decided_by_person", type_="foreignkey")
        batch_op.drop_index("ix_integrity_flag_status")
        batch_op.drop_column("decision_reason")
        batch_op.drop_column("decided_at")
        batch_op.drop_column("decided_by")
        batch_op.drop_column("status")
