"""annual evaluation: runs, scores, proposals, outstanding informants (issue 10)

Revision ID: evaluation_1
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "evaluation_1"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "evaluation_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("year", "region_code", name="uq_evaluation_run_year_region"),
    )
    op.create_table(
        "evaluation_score",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("counted_from", sa.Date(), nullable=False),
        sa.Column("shares", sa.Integer(), nullable=False),
        sa.Column("telegram_reach", sa.Integer(), nullable=False),
        sa.Column("reported_reach", sa.Integer(), nullable=False),
        sa.Column("visits", sa.Integer(), nullable=False),
        sa.Column("volume", sa.Float(), nullable=False),
        sa.Column("activities", sa.Integer(), nullable=False),
        sa.Column("content_uses", sa.Integer(), nullable=False),
        sa.Column("last_active_on", sa.Date(), nullable=True),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("rank_county", sa.Integer(), nullable=False),
        sa.Column("rank_city", sa.Integer(), nullable=False),
        sa.Column("rank_province", sa.Integer(), nullable=False),
        sa.Column("city_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["evaluation_run.id"]),
        sa.ForeignKeyConstraint(["station_id"], ["station.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("run_id", "station_id", name="uq_evaluation_score_station"),
    )
    op.create_index("ix_evaluation_score_run_id", "evaluation_score", ["run_id"])
    op.create_index("ix_evaluation_score_station_id", "evaluation_score", ["station_id"])
    op.create_table(
        "evaluation_proposal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("reason_code", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_reason", sa.String(length=1000), nullable=True),
        sa.ForeignKeyConstraint(["decided_by"], ["person.id"]),
        sa.ForeignKeyConstraint(["run_id"], ["evaluation_run.id"]),
        sa.ForeignKeyConstraint(["station_id"], ["station.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("year", "station_id", "kind", name="uq_evaluation_proposal_kind"),
    )
    op.create_index("ix_evaluation_proposal_run_id", "evaluation_proposal", ["run_id"])
    op.create_index("ix_evaluation_proposal_station_id", "evaluation_proposal", ["station_id"])
    op.create_index("ix_evaluation_proposal_status", "evaluation_proposal", ["status"])
    op.create_table(
        "outstanding_informant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("informant_id", sa.Integer(), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("volume", sa.Float(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["informant_id"], ["informant.id"]),
        sa.ForeignKeyConstraint(["run_id"], ["evaluation_run.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "run_id", "region_code", "informant_id", name="uq_outstanding_informant"
        ),
    )
    op.create_index("ix_outstanding_informant_run_id", "outstanding_informant", ["run_id"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_outstanding_informant_run_id", table_name="outstanding_informant")
    op.drop_table("outstanding_informant")
    op.drop_index("ix_evaluation_proposal_status", table_name="evaluation_proposal")
    op.drop_index("ix_evaluation_proposal_station_id", table_name="evaluation_proposal")
    op.drop_index("ix_evaluation_proposal_run_id", table_name="evaluation_proposal")
    op.drop_table("evaluation_proposal")
    op.drop_index("ix_evaluation_score_station_id", table_name="evaluation_score")
    op.drop_index("ix_evaluation_score_run_id", table_name="evaluation_score")
    op.drop_table("evaluation_score")
    op.drop_table("evaluation_run")
