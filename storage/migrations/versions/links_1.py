"""link visits: an index on (day, visitor_hash) for the per-address daily cap

Revision ID: links_1
Revises: 0001
"""

from collections.abc import Sequence

from alembic import op

revision: str = "links_1"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("link_visit") as batch_op:
        batch_op.create_index("ix_link_visit_day_visitor", ["day", "visitor_hash"])


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("link_visit") as batch_op:
        batch_op.drop_index("ix_link_visit_day_visitor")
