"""The registry's tables. Rows that belong to a place carry their county and township codes, indexed."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.db import make_base, plumbing_tables, utcnow
from shared.events import event_tables
from shared.ids import uuid7
from shared.parameters import ParameterColumns

Base = make_base()
plumbing = plumbing_tables(Base.metadata)
events = event_tables(Base.metadata)


class Region(Base):
    """行政区划: city, county, 万盛经开区 (reporting unit), township, village."""

    __tablename__ = "regions"

    code: Mapped[str] = mapped_column(sa.String(12), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), index=True)
    level: Mapped[str] = mapped_column(sa.String(20))
    parent_code: Mapped[str | None] = mapped_column(sa.String(12), index=True)
    county_code: Mapped[str | None] = mapped_column(sa.String(6), index=True)


class Household(Base):
    """建档立卡贫困户"""

    __tablename__ = "households"
    __table_args__ = (
        sa.Index("ix_households_county_status_id", "county_code", "status", "id"),
        sa.Index("ix_households_county_id", "county_code", "id"),  # a county's page without a status
        sa.Index("ix_households_township_id", "township_code", "id"),
        sa.Index("ix_households_village_status_id", "village_code", "status", "id"),
    )

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=uuid7)
    household_no: Mapped[str] = mapped_column(sa.String(32), unique=True)
    village_code: Mapped[str] = mapped_column(sa.String(12), sa.ForeignKey("regions.code"))
    township_code: Mapped[str] = mapped_column(sa.String(9))
    county_code: Mapped[str] = mapped_column(sa.String(6))
    status: Mapped[str] = mapped_column(sa.String(20))
    attribute: Mapped[str] = mapped_column(sa.String(20))
    dibao: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    area_class: Mapped[str] = mapped_column(sa.String(10))
    address: Mapped[str | None] = mapped_column(sa.String(200))
    head_name: Mapped[str] = mapped_column(sa.String(50))
    member_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    phone_enc: Mapped[str | None] = mapped_column(sa.Text)
    phone_masked: Mapped[str | None] = mapped_column(sa.String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)

    members: Mapped[list["Person"]] = relationship(back_populates="household", order_by="Person.id", lazy="raise")


class Person(Base):
    """贫困人口: a member of a registered household."""

    __tablename__ = "persons"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=uuid7)
    household_id: Mapped[str] = mapped_column(sa.String(36), sa.ForeignKey("households.id"), index=True)
    county_code: Mapped[str] = mapped_column(sa.String(6), index=True)
    township_code: Mapped[str] = mapped_column(sa.String(9))
    name: Mapped[str] = mapped_column(sa.String(50))
    id_number_enc: Mapped[str] = mapped_column(sa.Text)
    id_number_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    id_number_masked: Mapped[str] = mapped_column(sa.String(18))
    gender: Mapped[str] = mapped_column(sa.String(10))
    birth_date: Mapped[date] = mapped_column(sa.Date)
    relation: Mapped[str] = mapped_column(sa.String(20))
    labour_capacity: Mapped[str] = mapped_column(sa.String(20))
    migrant_status: Mapped[str] = mapped_column(sa.String(20))
    phone_enc: Mapped[str | None] = mapped_column(sa.Text)
    phone_masked: Mapped[str | None] = mapped_column(sa.String(20))
    # Health state, kept by the health events: none, suspected, confirmed, isolated, discharged, deceased, ...
    health_status: Mapped[str] = mapped_column(sa.String(20), default="none", server_default="none")
    diagnosed_on: Mapped[date | None] = mapped_column(sa.Date)
    deceased_on: Mapped[date | None] = mapped_column(sa.Date)
    key_monitoring: Mapped[bool] = mapped_column(sa.Boolean, default=False, server_default=sa.false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)

    household: Mapped[Household] = relationship(back_populates="members", lazy="raise")


class Cadre(Base):
    """帮扶干部"""

    __tablename__ = "cadres"
    __table_args__ = (sa.Index("ix_cadres_county_id", "county_code", "id"),)

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=uuid7)
    name: Mapped[str] = mapped_column(sa.String(50))
    unit: Mapped[str] = mapped_column(sa.String(100))
    position: Mapped[str | None] = mapped_column(sa.String(50))
    phone_enc: Mapped[str | None] = mapped_column(sa.Text)
    phone_masked: Mapped[str | None] = mapped_column(sa.String(20))
    region_code: Mapped[str] = mapped_column(sa.String(12), sa.ForeignKey("regions.code"))
    county_code: Mapped[str] = mapped_column(sa.String(6))
    township_code: Mapped[str | None] = mapped_column(sa.String(9))
    username: Mapped[str | None] = mapped_column(sa.String(100), unique=True)
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)


class Pairing(Base):
    """结对帮扶: one cadre, one household, from a date; at most one open pairing per cadre and household."""

    __tablename__ = "pairings"
    __table_args__ = (
        sa.Index("ix_pairings_cadre_active", "cadre_id", "active"),
        sa.Index("ix_pairings_county_id", "county_code", "id"),
        sa.Index(
            "uq_pairings_open",
            "cadre_id",
            "household_id",
            unique=True,
            postgresql_where=sa.text("active"),
            sqlite_where=sa.text("active"),
        ),
    )

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=uuid7)
    cadre_id: Mapped[str] = mapped_column(sa.String(36), sa.ForeignKey("cadres.id"))
    household_id: Mapped[str] = mapped_column(sa.String(36), sa.ForeignKey("households.id"), index=True)
    county_code: Mapped[str] = mapped_column(sa.String(6))
    township_code: Mapped[str] = mapped_column(sa.String(9))
    start_date: Mapped[date] = mapped_column(sa.Date)
    end_date: Mapped[date | None] = mapped_column(sa.Date)
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)


class FiveOnesProgress(Base):
    """The five ones kept current (services/registry/fiveones/upkeep.py): per pairing and campaign window start,
    the first time each item was done on or after that start (NULL: not yet). Contacts are instants; a needs survey
    or income plan on record, its date. Pairing columns are copied, so a roll-up reads this table alone."""

    __tablename__ = "five_ones_progress"
    __table_args__ = (
        sa.Index("ix_five_ones_progress_start_county", "window_start", "county_code", "township_code"),
        sa.Index("ix_five_ones_progress_start_household", "window_start", "household_id", "cadre_id"),
        sa.Index("ix_five_ones_progress_start_cadre", "window_start", "cadre_id"),
    )

    window_start: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    pairing_id: Mapped[str] = mapped_column(sa.String(36), sa.ForeignKey("pairings.id"), primary_key=True)
    cadre_id: Mapped[str] = mapped_column(sa.String(36))
    household_id: Mapped[str] = mapped_column(sa.String(36))
    county_code: Mapped[str] = mapped_column(sa.String(6))
    township_code: Mapped[str] = mapped_column(sa.String(9))
    village_code: Mapped[str] = mapped_column(sa.String(12))
    start_date: Mapped[date] = mapped_column(sa.Date)
    active: Mapped[bool] = mapped_column(sa.Boolean)
    phone_call: Mapped[datetime | None]
    prevention_education: Mapped[datetime | None]
    supplies_help: Mapped[datetime | None]
    needs_contact: Mapped[datetime | None]
    plan_contact: Mapped[datetime | None]
    needs_record: Mapped[date | None] = mapped_column(sa.Date)
    plan_record: Mapped[date | None] = mapped_column(sa.Date)


class FiveOnesTally(Base):
    """Active pairings counted per window start, county, unit (the county, or 万盛经开区 for its townships), what was
    counted (`pairing`, an item of the five, `complete`) and day: a pairing is due from its start date, an item done
    from the day it was first done (not before the pairing's start), complete from the last of its items. The
    roll-up of a county or the city as of a day, in an open window, sums the rows up to that day
    (fiveones/repository.py)."""

    __tablename__ = "five_ones_tally"

    window_start: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    county_code: Mapped[str] = mapped_column(sa.String(6), primary_key=True)
    unit: Mapped[str] = mapped_column(sa.String(8), primary_key=True)
    what: Mapped[str] = mapped_column(sa.String(24), primary_key=True)
    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    pairings: Mapped[int] = mapped_column(sa.Integer)


class FiveOnesWindow(Base):
    """A campaign window start whose `five_ones_progress` rows are built and kept current."""

    __tablename__ = "five_ones_windows"

    window_start: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    built_at: Mapped[datetime] = mapped_column(default=utcnow)


# --- Epidemic monitoring (measures 1, 4, 7, 22) -----------------------------------------------------------------


class HealthEvent(Base):
    """A person's health event: suspected, confirmed, isolated, released, discharged, deceased, cleared."""

    __tablename__ = "health_events"
    __table_args__ = (
        sa.Index("ix_health_events_person_on", "person_id", "occurred_on", "id"),
        sa.Index("ix_health_events_county_kind_on", "county_code", "kind", "occurred_on"),
    )

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=uuid7)
    person_id: Mapped[str] = mapped_column(sa.String(36), sa.ForeignKey("persons.id"))
    household_id: Mapped[str] = mapped_column(sa.String(36), sa.ForeignKey("households.id"), index=True)
    county_code: Mapped[str] = mapped_column(sa.String(6))
    township_code: Mapped[str] = mapped_column(sa.String(9))
    village_code: Mapped[str] = mapped_column(sa.String(12), index=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    occurred_on: Mapped[date] = mapped_column(sa.Date)
    hospital: Mapped[str | None] = mapped_column(sa.String(100))
    hospitalised: Mapped[bool | None] = mapped_column(sa.Boolean)
    isolation_place: Mapped[str | None] = mapped_column(sa.String(20))
    isolation_reason: Mapped[str | None] = mapped_column(sa.String(30))
    notes: Mapped[str | None] = mapped_column(sa.Text)
    recorded_by: Mapped[str] = mapped_column(sa.String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CaseFlag(Base):
    """有疫情的村社/乡镇: derived from the events (active cases) or set by an officer; drives "no team entry"."""

    __tablename__ = "case_flags"

    region_code: Mapped[str] = mapped_column(sa.String(12), primary_key=True)
    level: Mapped[str] = mapped_column(sa.String(20))
    county_code: Mapped[str] = mapped_column(sa.String(6), index=True)
    active_cases: Mapped[int] = mapped_column(sa.Integer, default=0)
    manual: Mapped[bool | None] = mapped_column(sa.Boolean)
    manual_reason: Mapped[str | None] = mapped_column(sa.String(200))
    manual_by: Mapped[str | None] = mapped_column(sa.String(100))
    flagged: Mapped[bool] = mapped_column(sa.Boolean, default=False, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Parameter(ParameterColumns, Base):
    """A configurable policy value with its effective date (the care-overdue days, the five-ones window, ...)."""


class StatusChange(Base):
    """A household's poverty status change, e.g. 返贫 with its reason and date."""

    __tablename__ = "household_status_changes"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=uuid7)
    household_id: Mapped[str] = mapped_column(sa.String(36), sa.ForeignKey("households.id"), index=True)
    county_code: Mapped[str] = mapped_column(sa.String(6), index=True)
    from_status: Mapped[str] = mapped_column(sa.String(20))
    to_status: Mapped[str] = mapped_column(sa.String(20))
    changed_on: Mapped[date] = mapped_column(sa.Date)
    reason: Mapped[str] = mapped_column(sa.String(500))
    recorded_by: Mapped[str] = mapped_column(sa.String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DibaoReferral(Base):
    """纳入农村低保: a referral to civil affairs and its decision."""

    __tablename__ = "dibao_referrals"
    __table_args__ = (sa.Index("ix_dibao_referrals_county_id", "county_code", "id"),)

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=uuid7)
    household_id: Mapped[str] = mapped_column(sa.String(36), sa.ForeignKey("households.id"), index=True)
    county_code: Mapped[str] = mapped_column(sa.String(6))
    township_code: Mapped[str] = mapped_column(sa.String(9))
    referred_on: Mapped[date] = mapped_column(sa.Date)
    reason: Mapped[str] = mapped_column(sa.String(500))
    referred_by: Mapped[str] = mapped_column(sa.String(100))
    decision: Mapped[str | None] = mapped_column(sa.String(20))
    decided_on: Mapped[date | None] = mapped_column(sa.Date)
    decision_note: Mapped[str | None] = mapped_column(sa.String(500))
    decided_by: Mapped[str | None] = mapped_column(sa.String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


# --- Contacts, the five ones, isolation care, surveys (measures 5–8, 19, 21) ------------------------------------


class Contact(Base):
    """帮扶联系: a contact with a household by a channel (phone, SMS, QQ, WeChat, letter, visit)."""

    __tablename__ = "contacts"
    __table_args__ = (
        sa.Index("ix_contacts_household_at", "household_id", "contacted_at"),
        sa.Index("ix_contacts_cadre_at", "cadre_id", "contacted_at"),
        sa.Index("ix_contacts_county_at", "county_code", "contacted_at"),
    )

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=uuid7)
    household_id: Mapped[str] = mapped_column(sa.String(36), sa.ForeignKey("households.id"))
    cadre_id: Mapped[str | None] = mapped_column(sa.String(36), sa.ForeignKey("cadres.id"))
    county_code: Mapped[str] = mapped_column(sa.String(6))
    township_code: Mapped[str] = mapped_column(sa.String(9))
    village_code: Mapped[str] = mapped_column(sa.String(12))
    channel: Mapped[str] = mapped_column(sa.String(20))
    kind: Mapped[str] = mapped_column(sa.String(30))
    contacted_at: Mapped[datetime]
    notes: Mapped[str | None] = mapped_column(sa.Text)
    recorded_by: Mapped[str] = mapped_column(sa.String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class NeedsSurvey(Base):
    """脱贫需求调查"""

    __tablename__ = "needs_surveys"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=uuid7)
    household_id: Mapped[str] = mapped_column(sa.String(36), sa.ForeignKey("households.id"), index=True)
    cadre_id: Mapped[str | None] = mapped_column(sa.String(36), sa.ForeignKey("cadres.id"), index=True)
    county_code: Mapped[str] = mapped_column(sa.String(6), index=True)
    township_code: Mapped[str] = mapped_column(sa.String(9))
    surveyed_on: Mapped[date] = mapped_column(sa.Date)
    needs: Mapped[list] = mapped_column(sa.JSON)
    difficulties: Mapped[str | None] = mapped_column(sa.Text)
    recorded_by: Mapped[str] = mapped_column(sa.String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class IncomePlan(Base):
    """脱贫增收计划: measures with their expected income, in fen."""

    __tablename__ = "income_plans"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=uuid7)
    household_id: Mapped[str] = mapped_column(sa.String(36), sa.ForeignKey("households.id"), index=True)
    cadre_id: Mapped[str | None] = mapped_column(sa.String(36), sa.ForeignKey("cadres.id"), index=True)
    county_code: Mapped[str] = mapped_column(sa.String(6), index=True)
    township_code: Mapped[str] = mapped_column(sa.String(9))
    planned_on: Mapped[date] = mapped_column(sa.Date)
    measures: Mapped[list] = mapped_column(sa.JSON)
    expected_income_fen: Mapped[int] = mapped_column(sa.BigInteger)
    recorded_by: Mapped[str] = mapped_column(sa.String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class IsolationCheckin(Base):
    """A daily check-in of an isolated person: temperature, symptoms, needs, counselling, the four rules."""

    __tablename__ = "isolation_checkins"
    __table_args__ = (sa.UniqueConstraint("person_id", "checked_on", name="uq_isolation_checkins_person_day"),)

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=uuid7)
    person_id: Mapped[str] = mapped_column(sa.String(36), sa.ForeignKey("persons.id"))
    household_id: Mapped[str] = mapped_column(sa.String(36), sa.ForeignKey("households.id"), index=True)
    county_code: Mapped[str] = mapped_column(sa.String(6), index=True)
    township_code: Mapped[str] = mapped_column(sa.String(9))
    checked_on: Mapped[date] = mapped_column(sa.Date)
    temperature_dc: Mapped[int | None] = mapped_column(sa.Integer)  # tenths of a degree Celsius
    symptoms: Mapped[list] = mapped_column(sa.JSON)
    living_needs: Mapped[str | None] = mapped_column(sa.Text)
    counselling: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    stays_home: Mapped[bool] = mapped_column(sa.Boolean)
    no_gatherings: Mapped[bool] = mapped_column(sa.Boolean)
    temperature_taken: Mapped[bool] = mapped_column(sa.Boolean)
    mask_worn: Mapped[bool] = mapped_column(sa.Boolean)
    help_given: Mapped[str | None] = mapped_column(sa.Text)
    recorded_by: Mapped[str] = mapped_column(sa.String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Cleanup(Base):
    """房前屋后大扫除: one record per household and campaign."""

    __tablename__ = "cleanups"
    __table_args__ = (sa.UniqueConstraint("household_id", "campaign", name="uq_cleanups_household_campaign"),)

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=uuid7)
    household_id: Mapped[str] = mapped_column(sa.String(36), sa.ForeignKey("households.id"))
    county_code: Mapped[str] = mapped_column(sa.String(6), index=True)
    township_code: Mapped[str] = mapped_column(sa.String(9))
    campaign: Mapped[str] = mapped_column(sa.String(50))
    done_on: Mapped[date] = mapped_column(sa.Date)
    notes: Mapped[str | None] = mapped_column(sa.Text)
    recorded_by: Mapped[str] = mapped_column(sa.String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ImpactSurvey(Base):
    """疫情影响调查 (measure 19): exit target at risk, income expectation, the patient's economic burden."""

    __tablename__ = "impact_surveys"
    __table_args__ = (sa.Index("ix_impact_surveys_county_on", "county_code", "surveyed_on"),)

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=uuid7)
    household_id: Mapped[str] = mapped_column(sa.String(36), sa.ForeignKey("households.id"), index=True)
    county_code: Mapped[str] = mapped_column(sa.String(6))
    township_code: Mapped[str] = mapped_column(sa.String(9))
    surveyed_on: Mapped[date] = mapped_column(sa.Date)
    method: Mapped[str] = mapped_column(sa.String(20))
    exit_target_at_risk: Mapped[bool] = mapped_column(sa.Boolean)
    income_expectation: Mapped[str] = mapped_column(sa.String(20))
    income_change_fen: Mapped[int | None] = mapped_column(sa.BigInteger)
    patient_burden_fen: Mapped[int | None] = mapped_column(sa.BigInteger)
    notes: Mapped[str | None] = mapped_column(sa.Text)
    recorded_by: Mapped[str] = mapped_column(sa.String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CadreHealthCheck(Base):
    """A front-line cadre's health check (measure 21)."""

    __tablename__ = "cadre_health_checks"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=uuid7)
    cadre_id: Mapped[str] = mapped_column(sa.String(36), sa.ForeignKey("cadres.id"), index=True)
    county_code: Mapped[str] = mapped_column(sa.String(6), index=True)
    checked_on: Mapped[date] = mapped_column(sa.Date)
    temperature_dc: Mapped[int | None] = mapped_column(sa.Integer)
    healthy: Mapped[bool] = mapped_column(sa.Boolean)
    notes: Mapped[str | None] = mapped_column(sa.Text)
    recorded_by: Mapped[str] = mapped_column(sa.String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# --- The household ledger (台账) ------------------------------------------------------------------------------


class LedgerEntry(Base):
    """One event about a household, from this service or another; `event_id` makes a repeat a no-op."""

    __tablename__ = "ledger_entries"
    __table_args__ = (sa.Index("ix_ledger_entries_household_at", "household_id", "occurred_at", "id"),)

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=uuid7)
    household_id: Mapped[str] = mapped_column(sa.String(36))
    county_code: Mapped[str] = mapped_column(sa.String(6), index=True)
    occurred_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(sa.String(20))
    event_type: Mapped[str] = mapped_column(sa.String(60))
    event_id: Mapped[str | None] = mapped_column(sa.String(36), unique=True)
    summary: Mapped[str] = mapped_column(sa.String(300))
    details: Mapped[dict] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# --- Imports (导入) --------------------------------------------------------------------------------------------


class ImportJob(Base):
    """导入任务: households and persons imported from an office's XLSX or CSV ledger, its progress and errors.

    `errors` keeps the first 200 errors with ID numbers and phones masked; `error_report_enc` keeps the report
    (up to 10,000 errors, bad values as typed) encrypted with the PII key.
    """

    __tablename__ = "import_jobs"
    __table_args__ = (sa.Index("ix_import_jobs_created_by_id", "created_by", "id"),)

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=uuid7)
    file_name: Mapped[str] = mapped_column(sa.String(255))
    file_format: Mapped[str] = mapped_column(sa.String(10))
    file_size: Mapped[int] = mapped_column(sa.BigInteger)
    mode: Mapped[str] = mapped_column(sa.String(20))
    status: Mapped[str] = mapped_column(sa.String(20))
    rows_total: Mapped[int] = mapped_column(sa.Integer, default=0)
    rows_done: Mapped[int] = mapped_column(sa.Integer, default=0)
    households_created: Mapped[int] = mapped_column(sa.Integer, default=0)
    persons_created: Mapped[int] = mapped_column(sa.Integer, default=0)
    error_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    errors: Mapped[list] = mapped_column(sa.JSON, default=list)
    error_report_enc: Mapped[str | None] = mapped_column(sa.Text)
    message: Mapped[str | None] = mapped_column(sa.String(500))
    created_by: Mapped[str] = mapped_column(sa.String(100))
    created_by_roles: Mapped[list] = mapped_column(sa.JSON)
    scope: Mapped[list] = mapped_column(sa.JSON)
    county_code: Mapped[str | None] = mapped_column(sa.String(6), index=True)
    request_id: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
