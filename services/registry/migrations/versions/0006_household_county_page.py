"""a county's households, newest first, without a status: an index on (county_code, id)

Without it a county officer's first page walked the primary key from the newest row backwards until it had met 50
of the county's (hundreds of milliseconds at province scale when the county's rows are not the newest), or read the
(county_code, status, id) index and sorted the county.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 14:45:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_households_county_id", "households", ["county_code", "id"])


def downgrade() -> None:
    op.drop_index("ix_households_county_id", table_name="households")
