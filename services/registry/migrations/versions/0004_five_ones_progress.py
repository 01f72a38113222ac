"""five ones progress and tally

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 08:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.db

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    instant = shared.db.UTCDateTime(timezone=True)
    op.create_table(
        "five_ones_windows",
        sa.Column("window_start", sa.Date(), nullable=False),
        sa.Column("built_at", instant, nullable=False),
        sa.PrimaryKeyConstraint("window_start", name=op.f("pk_five_ones_windows")),
    )
    op.create_table(
        "five_ones_tally",
        sa.Column("window_start", sa.Date(), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("unit", sa.String(length=8), nullable=False),
        sa.Column("what", sa.String(length=24), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("pairings", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("window_start", "county_code", "unit", "what", "day", name=op.f("pk_five_ones_tally")),
    )
    op.create_table(
        "five_ones_progress",
        sa.Column("window_start", sa.Date(), nullable=False),
        sa.Column("pairing_id", sa.String(length=36), nullable=False),
        sa.Column("cadre_id", sa.String(length=36), nullable=False),
        sa.Column("household_id", sa.String(length=36), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("township_code", sa.String(length=9), nullable=False),
        sa.Column("village_code", sa.String(length=12), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("phone_call", instant, nullable=True),
        sa.Column("prevention_education", instant, nullable=True),
        sa.Column("supplies_help", instant, nullable=True),
        sa.Column("needs_contact", instant, nullable=True),
        sa.Column("plan_contact", instant, nullable=True),
        sa.Column("needs_record", sa.Date(), nullable=True),
        sa.Column("plan_record", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["pairing_id"], ["pairings.id"], name=op.f("fk_five_ones_progress_pairing_id_pairings")
        ),
        sa.PrimaryKeyConstraint("window_start", "pairing_id", name=op.f("pk_five_ones_progress")),
    )
    with op.batch_alter_table("five_ones_progress", schema=None) as batch_op:
        batch_op.create_index(
            "ix_five_ones_progress_start_county", ["window_start", "county_code", "township_code"], unique=False
        )
        batch_op.create_index(
            "ix_five_ones_progress_start_household", ["window_start", "household_id", "cadre_id"], unique=False
        )
        batch_op.create_index("ix_five_ones_progress_start_cadre", ["window_start", "cadre_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("five_ones_progress", schema=None) as batch_op:
        batch_op.drop_index("ix_five_ones_progress_start_cadre")
        batch_op.drop_index("ix_five_ones_progress_start_household")
        batch_op.drop_index("ix_five_ones_progress_start_county")
    op.drop_table("five_ones_progress")
    op.drop_table("five_ones_tally")
    op.drop_table("five_ones_windows")
