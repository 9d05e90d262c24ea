"""inbox_update.user_id: the sender of each raw update, so /mydata and /forget find them

Revision ID: privacy_1
Revises: 0001
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "privacy_1"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 500


def _sender_id(payload: Any) -> int | None:
    """Return the sender's Telegram id (a frozen copy of storage.inbox.sender_id)."""
    if not isinstance(payload, dict):
        return None
    for key, value in payload.items():
        if key == "update_id" or not isinstance(value, dict):
            continue
        for sender_key in ("from", "user"):
            sender = value.get(sender_key)
            if isinstance(sender, dict) and isinstance(sender.get("id"), int):
                return int(sender["id"])
    return None


def upgrade() -> None:
    """Apply this revision."""
    op.add_column("inbox_update", sa.Column("user_id", sa.BigInteger(), nullable=True))
    op.create_index("ix_inbox_update_user_id", "inbox_update", ["user_id"], unique=False)
    # Backfill in Python: the JSON functions differ between SQLite and PostgreSQL, and the
    # inbox only holds a few days of updates.
    inbox = sa.table(
        "inbox_update",
        sa.column("update_id", sa.BigInteger()),
        sa.column("payload", sa.JSON()),
        sa.column("user_id", sa.BigInteger()),
    )
    bind = op.get_bind()
    last = None
    while True:
        query = sa.select(inbox.c.update_id, inbox.c.payload).order_by(inbox.c.update_id)
        if last is not None:
            query = query.where(inbox.c.update_id > last)
        rows = bind.execute(query.limit(_BATCH)).all()
        if not rows:
            break
        last = rows[-1][0]
        values = [
            {"uid": update_id, "sender": sender}
            for update_id, payload in rows
            if (sender := _sender_id(payload)) is not None
        ]
        if values:
            bind.execute(
                inbox.update()
                .where(inbox.c.update_id == sa.bindparam("uid"))
                .values(user_id=sa.bindparam("sender")),
                values,
            )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("inbox_update") as batch_op:
        batch_op.drop_index("ix_inbox_update_user_id")
        batch_op.drop_column("user_id")
