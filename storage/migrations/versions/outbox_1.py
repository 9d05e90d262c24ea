"""outbox: an index by chat, so a chat's replies are claimed in order cheaply

Revision ID: outbox_1
Revises: 0001
"""

from collections.abc import Sequence

from alembic import op

revision: str = "outbox_1"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_outbox_message_chat", "outbox_message", ["chat_id", "state", "id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_message_chat", table_name="outbox_message")
