"""monitoring contacts ledger events

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 03:18:15.029820
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.db

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_flags",
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("active_cases", sa.Integer(), nullable=False),
        sa.Column("manual", sa.Boolean(), nullable=True),
        sa.Column("manual_reason", sa.String(length=200), nullable=True),
        sa.Column("manual_by", sa.String(length=100), nullable=True),
        sa.Column("flagged", sa.Boolean(), nullable=False),
        sa.Column("updated_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("region_code", name=op.f("pk_case_flags")),
    )
    with op.batch_alter_table("case_flags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_flags_county_code"), ["county_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_case_flags_flagged"), ["flagged"], unique=False)

    op.create_table(
        "inbox_events",
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("source", sa.String(length=30), nullable=False),
        sa.Column("type", sa.String(length=60), nullable=False),
        sa.Column("received_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_inbox_events")),
    )
    op.create_table(
        "ledger_entries",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("household_id", sa.String(length=36), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("occurred_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("event_type", sa.String(length=60), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=True),
        sa.Column("summary", sa.String(length=300), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entries")),
        sa.UniqueConstraint("event_id", name=op.f("uq_ledger_entries_event_id")),
    )
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ledger_entries_county_code"), ["county_code"], unique=False)
        batch_op.create_index("ix_ledger_entries_household_at", ["household_id", "occurred_at", "id"], unique=False)

    op.create_table(
        "outbox_events",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("type", sa.String(length=60), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("occurred_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("household_id", sa.String(length=36), nullable=True),
        sa.Column("county_code", sa.String(length=6), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_events")),
    )
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_events_household_id"), ["household_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_events_type"), ["type"], unique=False)

    op.create_table(
        "parameters",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("key", sa.String(length=50), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("set_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parameters")),
        sa.UniqueConstraint("key", "effective_from", name="uq_parameters_key_effective_from"),
    )
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("secret_enc", sa.Text(), nullable=False),
        sa.Column("event_types", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriptions")),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("subscription_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("lease_until", shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("delivered_at", shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["outbox_events.id"], name=op.f("fk_deliveries_event_id_outbox_events")),
        sa.ForeignKeyConstraint(
            ["subscription_id"], ["subscriptions.id"], name=op.f("fk_deliveries_subscription_id_subscriptions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint("event_id", "subscription_id", name="uq_deliveries_event_subscription"),
    )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_deliveries_status_next", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_deliveries_subscription_id"), ["subscription_id"], unique=False)

    op.create_table(
        "cadre_health_checks",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("cadre_id", sa.String(length=36), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("checked_on", sa.Date(), nullable=False),
        sa.Column("temperature_dc", sa.Integer(), nullable=True),
        sa.Column("healthy", sa.Boolean(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["cadre_id"], ["cadres.id"], name=op.f("fk_cadre_health_checks_cadre_id_cadres")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cadre_health_checks")),
    )
    with op.batch_alter_table("cadre_health_checks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cadre_health_checks_cadre_id"), ["cadre_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_cadre_health_checks_county_code"), ["county_code"], unique=False)

    op.create_table(
        "cleanups",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("household_id", sa.String(length=36), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("township_code", sa.String(length=9), nullable=False),
        sa.Column("campaign", sa.String(length=50), nullable=False),
        sa.Column("done_on", sa.Date(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["household_id"], ["households.id"], name=op.f("fk_cleanups_household_id_households")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cleanups")),
        sa.UniqueConstraint("household_id", "campaign", name="uq_cleanups_household_campaign"),
    )
    with op.batch_alter_table("cleanups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cleanups_county_code"), ["county_code"], unique=False)

    op.create_table(
        "contacts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("household_id", sa.String(length=36), nullable=False),
        sa.Column("cadre_id", sa.String(length=36), nullable=True),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("township_code", sa.String(length=9), nullable=False),
        sa.Column("village_code", sa.String(length=12), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("contacted_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["cadre_id"], ["cadres.id"], name=op.f("fk_contacts_cadre_id_cadres")),
        sa.ForeignKeyConstraint(["household_id"], ["households.id"], name=op.f("fk_contacts_household_id_households")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
    )
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.create_index("ix_contacts_cadre_at", ["cadre_id", "contacted_at"], unique=False)
        batch_op.create_index("ix_contacts_county_at", ["county_code", "contacted_at"], unique=False)
        batch_op.create_index("ix_contacts_household_at", ["household_id", "contacted_at"], unique=False)

    op.create_table(
        "dibao_referrals",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("household_id", sa.String(length=36), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("township_code", sa.String(length=9), nullable=False),
        sa.Column("referred_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("referred_by", sa.String(length=100), nullable=False),
        sa.Column("decision", sa.String(length=20), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("decision_note", sa.String(length=500), nullable=True),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["household_id"], ["households.id"], name=op.f("fk_dibao_referrals_household_id_households")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dibao_referrals")),
    )
    with op.batch_alter_table("dibao_referrals", schema=None) as batch_op:
        batch_op.create_index("ix_dibao_referrals_county_id", ["county_code", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_dibao_referrals_household_id"), ["household_id"], unique=False)

    op.create_table(
        "household_status_changes",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("household_id", sa.String(length=36), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=False),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("changed_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["household_id"], ["households.id"], name=op.f("fk_household_status_changes_household_id_households")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_household_status_changes")),
    )
    with op.batch_alter_table("household_status_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_household_status_changes_county_code"), ["county_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_household_status_changes_household_id"), ["household_id"], unique=False)

    op.create_table(
        "impact_surveys",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("household_id", sa.String(length=36), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("township_code", sa.String(length=9), nullable=False),
        sa.Column("surveyed_on", sa.Date(), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("exit_target_at_risk", sa.Boolean(), nullable=False),
        sa.Column("income_expectation", sa.String(length=20), nullable=False),
        sa.Column("income_change_fen", sa.BigInteger(), nullable=True),
        sa.Column("patient_burden_fen", sa.BigInteger(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["household_id"], ["households.id"], name=op.f("fk_impact_surveys_household_id_households")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_impact_surveys")),
    )
    with op.batch_alter_table("impact_surveys", schema=None) as batch_op:
        batch_op.create_index("ix_impact_surveys_county_on", ["county_code", "surveyed_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_impact_surveys_household_id"), ["household_id"], unique=False)

    op.create_table(
        "income_plans",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("household_id", sa.String(length=36), nullable=False),
        sa.Column("cadre_id", sa.String(length=36), nullable=True),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("township_code", sa.String(length=9), nullable=False),
        sa.Column("planned_on", sa.Date(), nullable=False),
        sa.Column("measures", sa.JSON(), nullable=False),
        sa.Column("expected_income_fen", sa.BigInteger(), nullable=False),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["cadre_id"], ["cadres.id"], name=op.f("fk_income_plans_cadre_id_cadres")),
        sa.ForeignKeyConstraint(
            ["household_id"], ["households.id"], name=op.f("fk_income_plans_household_id_households")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_income_plans")),
    )
    with op.batch_alter_table("income_plans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_income_plans_cadre_id"), ["cadre_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_income_plans_county_code"), ["county_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_income_plans_household_id"), ["household_id"], unique=False)

    op.create_table(
        "needs_surveys",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("household_id", sa.String(length=36), nullable=False),
        sa.Column("cadre_id", sa.String(length=36), nullable=True),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("township_code", sa.String(length=9), nullable=False),
        sa.Column("surveyed_on", sa.Date(), nullable=False),
        sa.Column("needs", sa.JSON(), nullable=False),
        sa.Column("difficulties", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["cadre_id"], ["cadres.id"], name=op.f("fk_needs_surveys_cadre_id_cadres")),
        sa.ForeignKeyConstraint(
            ["household_id"], ["households.id"], name=op.f("fk_needs_surveys_household_id_households")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_needs_surveys")),
    )
    with op.batch_alter_table("needs_surveys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_needs_surveys_cadre_id"), ["cadre_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_needs_surveys_county_code"), ["county_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_needs_surveys_household_id"), ["household_id"], unique=False)

    op.create_table(
        "health_events",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("household_id", sa.String(length=36), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("township_code", sa.String(length=9), nullable=False),
        sa.Column("village_code", sa.String(length=12), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("hospital", sa.String(length=100), nullable=True),
        sa.Column("hospitalised", sa.Boolean(), nullable=True),
        sa.Column("isolation_place", sa.String(length=20), nullable=True),
        sa.Column("isolation_reason", sa.String(length=30), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["household_id"], ["households.id"], name=op.f("fk_health_events_household_id_households")
        ),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], name=op.f("fk_health_events_person_id_persons")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_health_events")),
    )
    with op.batch_alter_table("health_events", schema=None) as batch_op:
        batch_op.create_index("ix_health_events_county_kind_on", ["county_code", "kind", "occurred_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_health_events_household_id"), ["household_id"], unique=False)
        batch_op.create_index("ix_health_events_person_on", ["person_id", "occurred_on", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_health_events_village_code"), ["village_code"], unique=False)

    op.create_table(
        "isolation_checkins",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("household_id", sa.String(length=36), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("township_code", sa.String(length=9), nullable=False),
        sa.Column("checked_on", sa.Date(), nullable=False),
        sa.Column("temperature_dc", sa.Integer(), nullable=True),
        sa.Column("symptoms", sa.JSON(), nullable=False),
        sa.Column("living_needs", sa.Text(), nullable=True),
        sa.Column("counselling", sa.Boolean(), nullable=False),
        sa.Column("stays_home", sa.Boolean(), nullable=False),
        sa.Column("no_gatherings", sa.Boolean(), nullable=False),
        sa.Column("temperature_taken", sa.Boolean(), nullable=False),
        sa.Column("mask_worn", sa.Boolean(), nullable=False),
        sa.Column("help_given", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["household_id"], ["households.id"], name=op.f("fk_isolation_checkins_household_id_households")
        ),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], name=op.f("fk_isolation_checkins_person_id_persons")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_isolation_checkins")),
        sa.UniqueConstraint("person_id", "checked_on", name="uq_isolation_checkins_person_day"),
    )
    with op.batch_alter_table("isolation_checkins", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_isolation_checkins_county_code"), ["county_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_isolation_checkins_household_id"), ["household_id"], unique=False)

    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.add_column(sa.Column("health_status", sa.String(length=20), server_default="none", nullable=False))
        batch_op.add_column(sa.Column("diagnosed_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("deceased_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("key_monitoring", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.drop_column("key_monitoring")
        batch_op.drop_column("deceased_on")
        batch_op.drop_column("diagnosed_on")
        batch_op.drop_column("health_status")

    with op.batch_alter_table("isolation_checkins", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_isolation_checkins_household_id"))
        batch_op.drop_index(batch_op.f("ix_isolation_checkins_county_code"))

    op.drop_table("isolation_checkins")
    with op.batch_alter_table("health_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_health_events_village_code"))
        batch_op.drop_index("ix_health_events_person_on")
        batch_op.drop_index(batch_op.f("ix_health_events_household_id"))
        batch_op.drop_index("ix_health_events_county_kind_on")

    op.drop_table("health_events")
    with op.batch_alter_table("needs_surveys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_needs_surveys_household_id"))
        batch_op.drop_index(batch_op.f("ix_needs_surveys_county_code"))
        batch_op.drop_index(batch_op.f("ix_needs_surveys_cadre_id"))

    op.drop_table("needs_surveys")
    with op.batch_alter_table("income_plans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_income_plans_household_id"))
        batch_op.drop_index(batch_op.f("ix_income_plans_county_code"))
        batch_op.drop_index(batch_op.f("ix_income_plans_cadre_id"))

    op.drop_table("income_plans")
    with op.batch_alter_table("impact_surveys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_impact_surveys_household_id"))
        batch_op.drop_index("ix_impact_surveys_county_on")

    op.drop_table("impact_surveys")
    with op.batch_alter_table("household_status_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_household_status_changes_household_id"))
        batch_op.drop_index(batch_op.f("ix_household_status_changes_county_code"))

    op.drop_table("household_status_changes")
    with op.batch_alter_table("dibao_referrals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dibao_referrals_household_id"))
        batch_op.drop_index("ix_dibao_referrals_county_id")

    op.drop_table("dibao_referrals")
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_index("ix_contacts_household_at")
        batch_op.drop_index("ix_contacts_county_at")
        batch_op.drop_index("ix_contacts_cadre_at")

    op.drop_table("contacts")
    with op.batch_alter_table("cleanups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cleanups_county_code"))

    op.drop_table("cleanups")
    with op.batch_alter_table("cadre_health_checks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cadre_health_checks_county_code"))
        batch_op.drop_index(batch_op.f("ix_cadre_health_checks_cadre_id"))

    op.drop_table("cadre_health_checks")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deliveries_subscription_id"))
        batch_op.drop_index("ix_deliveries_status_next")

    op.drop_table("deliveries")
    op.drop_table("subscriptions")
    op.drop_table("parameters")
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_events_type"))
        batch_op.drop_index(batch_op.f("ix_outbox_events_household_id"))

    op.drop_table("outbox_events")
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_ledger_entries_household_at")
        batch_op.drop_index(batch_op.f("ix_ledger_entries_county_code"))

    op.drop_table("ledger_entries")
    op.drop_table("inbox_events")
    with op.batch_alter_table("case_flags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_flags_flagged"))
        batch_op.drop_index(batch_op.f("ix_case_flags_county_code"))

    op.drop_table("case_flags")
