"""deliveries carry their event's subject, delivered one after another per subscription and subject

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 09:00:00
"""

from collections.abc import Sequence

from shared.migrations import add_delivery_subjects, drop_delivery_subjects

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    add_delivery_subjects()


def downgrade() -> None:
    drop_delivery_subjects()
