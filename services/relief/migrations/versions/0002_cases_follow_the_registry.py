"""cases follow the registry's health timeline; reconciliations; deliveries carry their subject

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03 09:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.db
from shared.migrations import add_delivery_subjects, drop_delivery_subjects

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    instant = shared.db.UTCDateTime(timezone=True)
    with op.batch_alter_table("relief_cases") as batch_op:
        batch_op.add_column(sa.Column("confirmation_id", sa.String(length=36), nullable=True))
    op.create_table(
        "known_health_events",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("learned_at", instant, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_known_health_events")),
    )
    op.create_index(op.f("ix_known_health_events_person_id"), "known_health_events", ["person_id"])
    op.create_table(
        "reconciliations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("started_by", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("persons", sa.Integer(), nullable=False),
        sa.Column("differences", sa.Integer(), nullable=False),
        sa.Column("repaired", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=300), nullable=True),
        sa.Column("started_at", instant, nullable=False),
        sa.Column("finished_at", instant, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliations")),
    )
    op.create_table(
        "reconciliation_findings",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("reconciliation_id", sa.String(length=36), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=True),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("repaired", sa.Boolean(), nullable=False),
        sa.Column("detail", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["reconciliation_id"], ["reconciliations.id"],
            name=op.f("fk_reconciliation_findings_reconciliation_id_reconciliations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliation_findings")),
    )  # fmt: skip
    op.create_index("ix_reconciliation_findings_run_id", "reconciliation_findings", ["reconciliation_id", "id"])
    add_delivery_subjects()


def downgrade() -> None:
    drop_delivery_subjects()
    op.drop_index("ix_reconciliation_findings_run_id", table_name="reconciliation_findings")
    op.drop_table("reconciliation_findings")
    op.drop_table("reconciliations")
    op.drop_index(op.f("ix_known_health_events_person_id"), table_name="known_health_events")
    op.drop_table("known_health_events")
    with op.batch_alter_table("relief_cases") as batch_op:
        batch_op.drop_column("confirmation_id")
