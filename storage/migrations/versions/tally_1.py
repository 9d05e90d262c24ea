"""weekly tally tables and the week-range indexes the tally scans use

Revision ID: tally_1
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "tally_1"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FIGURES = (
    "shares_total",
    "shares_telegram_inline",
    "shares_telegram_forward",
    "shares_wechat_group",
    "shares_wechat_moments",
    "shares_qq_group",
    "shares_public_account",
    "shares_other",
    "sharing_informants",
    "active_informants",
    "informants",
    "reach_telegram",
    "reach_reported",
    "visits",
    "activities",
    "participants",
    "content_uses",
    "content_use_audience",
)


def _figure_columns() -> list[sa.Column]:
    columns: list[sa.Column] = [sa.Column(name, sa.Integer(), nullable=False) for name in _FIGURES]
    columns.append(sa.Column("volume", sa.Float(), nullable=False))
    return columns


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "weekly_station_tally",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("week", sa.String(length=8), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=True),
        sa.Column("city_code", sa.String(length=6), nullable=True),
        sa.Column("province_code", sa.String(length=6), nullable=True),
        *_figure_columns(),
        sa.Column("silent", sa.Boolean(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["station_id"], ["station.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("station_id", "week", name="uq_weekly_station_tally_week"),
    )
    with op.batch_alter_table("weekly_station_tally", schema=None) as batch_op:
        batch_op.create_index("ix_weekly_station_tally_week_county", ["week", "county_code"])
        batch_op.create_index("ix_weekly_station_tally_week_city", ["week", "city_code"])
        batch_op.create_index("ix_weekly_station_tally_week_province", ["week", "province_code"])
    op.create_table(
        "weekly_region_tally",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("week", sa.String(length=8), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        *_figure_columns(),
        sa.Column("stations_counted", sa.Integer(), nullable=False),
        sa.Column("stations_silent", sa.Integer(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("region_code", "week", name="uq_weekly_region_tally_week"),
    )
    with op.batch_alter_table("weekly_region_tally", schema=None) as batch_op:
        batch_op.create_index("ix_weekly_region_tally_week_level", ["week", "level"])
    # The tally reads one week of every station: a range on the day column first.
    with op.batch_alter_table("share_event", schema=None) as batch_op:
        batch_op.create_index("ix_share_event_day_station", ["day", "station_id"])
    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.create_index("ix_activity_held_on", ["held_on"])
    with op.batch_alter_table("content_use", schema=None) as batch_op:
        batch_op.create_index("ix_content_use_used_on", ["used_on"])


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("content_use", schema=None) as batch_op:
        batch_op.drop_index("ix_content_use_used_on")
    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.drop_index("ix_activity_held_on")
    with op.batch_alter_table("share_event", schema=None) as batch_op:
        batch_op.drop_index("ix_share_event_day_station")
    with op.batch_alter_table("weekly_region_tally", schema=None) as batch_op:
        batch_op.drop_index("ix_weekly_region_tally_week_level")
    op.drop_table("weekly_region_tally")
    with op.batch_alter_table("weekly_station_tally", schema=None) as batch_op:
        batch_op.drop_index("ix_weekly_station_tally_week_province")
        batch_op.drop_index("ix_weekly_station_tally_week_city")
        batch_op.drop_index("ix_weekly_station_tally_week_county")
    op.drop_table("weekly_station_tally")
