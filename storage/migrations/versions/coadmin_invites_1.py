"""invite links: a purpose (informant invites, or one-time co-admin invites)

Revision ID: coadmin_invites_1
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "coadmin_invites_1"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.add_column(
        "invite_link",
        sa.Column("purpose", sa.String(length=16), nullable=False, server_default="informant"),
    )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("invite_link") as batch:
        batch.drop_column("purpose")
