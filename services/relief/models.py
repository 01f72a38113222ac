"""The relief service's tables: dibao standards, relief cases, payee accounts, payment batches and their lines,
insurance policies, enrolments and claims. Rows that belong to a place carry their county code, indexed.

Money is integer fen (`*_fen`). `unit_code` is the county code a dibao standard is set for, or `wansheng` for
万盛经开区's ten townships (shared.regions).
"""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import make_base, plumbing_tables, utcnow
from shared.events import event_tables
from shared.ids import uuid7
from shared.parameters import ParameterColumns

Base = make_base()
plumbing = plumbing_tables(Base.metadata)
events = event_tables(Base.metadata)


class Parameter(ParameterColumns, Base):
    """A configurable policy value with its effective date (the household statuses eligible for relief, ...)."""


class DibaoStandard(Base):
    """低保标准: the monthly dibao amount of a county (or 万盛经开区) for its rural or urban residents, from a date.

    Never updated: a new standard is a new row from its effective date, so the history stays (an amount typed
    wrong is corrected by a row with the same date only while no paid period used it).
    """

    __tablename__ = "dibao_standards"
    __table_args__ = (
        sa.UniqueConstraint("unit_code", "area_class", "effective_from", name="uq_dibao_standards_unit_class_from"),
    )

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=uuid7)
    unit_code: Mapped[str] = mapped_column(sa.String(9), index=True)
    area_class: Mapped[str] = mapped_column(sa.String(10))  # rural | urban
    monthly_fen: Mapped[int] = mapped_column(sa.BigInteger)
    effective_from: Mapped[date] = mapped_column(sa.Date)
    example: Mapped[bool] = mapped_column(sa.Boolean, default=False)  # demo data, not an official figure
    note: Mapped[str | None] = mapped_column(sa.String(200))
    created_by: Mapped[str] = mapped_column(sa.String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReliefCase(Base):
    """临时救助: relief for a registered poor person diagnosed with COVID-19, at twice the dibao standard a month
    from the diagnosis date until discharge (or death). Opened from the registry's event or by civil affairs."""

    __tablename__ = "relief_cases"
    __table_args__ = (
        sa.UniqueConstraint("person_id", "diagnosed_on", name="uq_relief_cases_person_diagnosed_on"),
        sa.Index("ix_relief_cases_county_status_id", "county_code", "status", "id"),
        sa.Index("ix_relief_cases_township_id", "township_code", "id"),
    )

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=uuid7)
    person_id: Mapped[str] = mapped_column(sa.String(36), index=True)
    household_id: Mapped[str] = mapped_column(sa.String(36), index=True)
    county_code: Mapped[str] = mapped_column(sa.String(6))
    township_code: Mapped[str] = mapped_column(sa.String(9))
    village_code: Mapped[str] = mapped_column(sa.String(12))
    unit_code: Mapped[str] = mapped_column(sa.String(9))  # whose dibao standard applies
    area_class: Mapped[str] = mapped_column(sa.String(10))  # rural | urban
    payee_name: Mapped[str] = mapped_column(sa.String(50))
    payee_id_masked: Mapped[str | None] = mapped_column(sa.String(18))
    diagnosed_on: Mapped[date] = mapped_column(sa.Date)
    closed_on: Mapped[date | None] = mapped_column(sa.Date)  # the discharge or death date
    close_reason: Mapped[str | None] = mapped_column(sa.String(20))  # discharged | deceased
    status: Mapped[str] = mapped_column(sa.String(10))  # open | closed
    opened_by: Mapped[str] = mapped_column(sa.String(100))  # "event", or the civil-affairs user
    open_reason: Mapped[str | None] = mapped_column(sa.String(300))
    source_event_id: Mapped[str | None] = mapped_column(sa.String(36))
    # the registry's confirmation (health event) the case follows; None for a case opened by hand
    confirmation_id: Mapped[str | None] = mapped_column(sa.String(36))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class KnownHealthEvent(Base):
    """A health event of the registry that relief has taken into its cases and claims: an event announcing one of
    these needs no call to the registry (the registry's events are never changed, only added to)."""

    __tablename__ = "known_health_events"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)  # the registry's health event id
    person_id: Mapped[str] = mapped_column(sa.String(36), index=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    occurred_on: Mapped[date] = mapped_column(sa.Date)
    learned_at: Mapped[datetime] = mapped_column(default=utcnow)


class Reconciliation(Base):
    """对账: one comparison of relief's cases with the registry's confirmed, discharged and deceased people, by the
    schedule or by hand, with what it found and repaired."""

    __tablename__ = "reconciliations"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=uuid7)
    trigger: Mapped[str] = mapped_column(sa.String(20))  # schedule | manual
    started_by: Mapped[str] = mapped_column(sa.String(100))
    status: Mapped[str] = mapped_column(sa.String(10))  # running | done | failed
    persons: Mapped[int] = mapped_column(sa.Integer, default=0)
    differences: Mapped[int] = mapped_column(sa.Integer, default=0)
    repaired: Mapped[int] = mapped_column(sa.Integer, default=0)
    error: Mapped[str | None] = mapped_column(sa.String(300))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


class ReconciliationFinding(Base):
    """A difference a reconciliation found between a person's cases and their registry timeline, and whether it
    was repaired (a case opened, closed, its date corrected) or is left to civil affairs (a date corrected by hand)."""

    __tablename__ = "reconciliation_findings"
    __table_args__ = (sa.Index("ix_reconciliation_findings_run_id", "reconciliation_id", "id"),)

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=uuid7)
    reconciliation_id: Mapped[str] = mapped_column(sa.String(36), sa.ForeignKey("reconciliations.id"))
    person_id: Mapped[str] = mapped_column(sa.String(36))
    case_id: Mapped[str | None] = mapped_column(sa.String(36))
    county_code: Mapped[str] = mapped_column(sa.String(6))
    region_code: Mapped[str] = mapped_column(sa.String(12))  # the person's village: scope below the county
    kind: Mapped[str] = mapped_column(sa.String(30))
    repaired: Mapped[bool] = mapped_column(sa.Boolean)
    detail: Mapped[str] = mapped_column(sa.String(300))


class CaseCorrection(Base):
    """A date of a case corrected by civil affairs, with the reason (the audit log has it too)."""

    __tablename__ = "relief_case_corrections"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=uuid7)
    case_id: Mapped[str] = mapped_column(sa.String(36), sa.ForeignKey("relief_cases.id"), index=True)
    field: Mapped[str] = mapped_column(sa.String(20))  # diagnosed_on | closed_on
    old_value: Mapped[date | None] = mapped_column(sa.Date)
    new_value: Mapped[date | None] = mapped_column(sa.Date)
    reason: Mapped[str] = mapped_column(sa.String(300))
    corrected_by: Mapped[str] = mapped_column(sa.String(100))
    corrected_at: Mapped[datetime] = mapped_column(default=utcnow)


class PayeeAccount(Base):
    """The payee's social-security card account (社保卡/一卡通), encrypted, found by blind index, shown masked."""

    __tablename__ = "payee_accounts"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=uuid7)
    person_id: Mapped[str] = mapped_column(sa.String(36), unique=True)
    household_id: Mapped[str] = mapped_column(sa.String(36), index=True)
    county_code: Mapped[str] = mapped_column(sa.String(6), index=True)
    holder_name: Mapped[str] = mapped_column(sa.String(50))
    bank_name: Mapped[str] = mapped_column(sa.String(100))
    account_enc: Mapped[str] = mapped_column(sa.Text)
    account_hash: Mapped[str] = mapped_column(sa.String(64), index=True)
    account_masked: Mapped[str] = mapped_column(sa.String(40))
    created_by: Mapped[str] = mapped_column(sa.String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PaymentBatch(Base):
    """发放批次: every due and unpaid relief line of a county up to a date, made by one user and approved by another
    (draft → approved → (bank results) → reconciled)."""

    __tablename__ = "payment_batches"
    __table_args__ = (sa.Index("ix_payment_batches_unit_id", "unit_code", "id"),)

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=uuid7)
    unit_code: Mapped[str] = mapped_column(sa.String(9))  # a county, or wansheng
    county_code: Mapped[str] = mapped_column(sa.String(6), index=True)  # for scope (wansheng: 500110)
    up_to: Mapped[date] = mapped_column(sa.Date)
    status: Mapped[str] = mapped_column(sa.String(20))
    payment_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    total_fen: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    paid_fen: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    failed_fen: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    made_by: Mapped[str] = mapped_column(sa.String(100))
    approved_by: Mapped[str | None] = mapped_column(sa.String(100))
    approved_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Payment(Base):
    """One bank transfer of a batch: a case's lines in it, summed, to the payee account copied when the batch was
    made; `reference` is what the bank file and the bank's result file name it by."""

    __tablename__ = "payments"
    __table_args__ = (sa.Index("ix_payments_batch_id", "batch_id", "id"),)

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=uuid7)
    batch_id: Mapped[str] = mapped_column(sa.String(36), sa.ForeignKey("payment_batches.id"))
    case_id: Mapped[str] = mapped_column(sa.String(36), sa.ForeignKey("relief_cases.id"), index=True)
    reference: Mapped[str] = mapped_column(sa.String(40), unique=True)
    amount_fen: Mapped[int] = mapped_column(sa.BigInteger)
    # the payee's account as the maker saw it: what the checker approves is what the bank file pays
    holder_name: Mapped[str] = mapped_column(sa.String(50))
    bank_name: Mapped[str] = mapped_column(sa.String(100))
    account_enc: Mapped[str] = mapped_column(sa.Text)
    account_masked: Mapped[str] = mapped_column(sa.String(40))
    status: Mapped[str] = mapped_column(sa.String(10))  # pending | paid | failed
    failure_reason: Mapped[str | None] = mapped_column(sa.String(200))
    result_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


LIVE_PERIOD_LINE = "kind = 'period' AND status <> 'failed'"


class PaymentLine(Base):
    """A relief period (or an adjustment of one already paid) inside a payment.

    A period is paid at most once: one live line (pending or paid) per case and period, held by a unique partial
    index in the database, not only by code; a failed line leaves the period due again.
    """

    __tablename__ = "payment_lines"
    __table_args__ = (
        sa.Index(
            "uq_payment_lines_live_period", "case_id", "period_no", unique=True,
            postgresql_where=sa.text(LIVE_PERIOD_LINE), sqlite_where=sa.text(LIVE_PERIOD_LINE),
        ),
    )  # fmt: skip

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=uuid7)
    payment_id: Mapped[str] = mapped_column(sa.String(36), sa.ForeignKey("payments.id"), index=True)
    # the payment's batch and case, copied for the index and the queries; the payment's own foreign keys hold them
    # (checking them again on each of a batch's 200,000 lines cost PostgreSQL 4 s)
    batch_id: Mapped[str] = mapped_column(sa.String(36), index=True)
    case_id: Mapped[str] = mapped_column(sa.String(36), index=True)
    period_no: Mapped[int] = mapped_column(sa.Integer)
    period_start: Mapped[date] = mapped_column(sa.Date)
    kind: Mapped[str] = mapped_column(sa.String(12))  # period | adjustment
    amount_fen: Mapped[int] = mapped_column(sa.BigInteger)
    status: Mapped[str] = mapped_column(sa.String(10))  # pending | paid | failed (as its payment)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class InsurancePolicy(Base):
    """专属保险 (measure 23): a policy for one insured group, its benefits per kind and its period of cover."""

    __tablename__ = "insurance_policies"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=uuid7)
    name: Mapped[str] = mapped_column(sa.String(100))
    insurer: Mapped[str] = mapped_column(sa.String(100))
    insured_group: Mapped[str] = mapped_column(sa.String(20))  # resident_cadre | first_secretary | poor_household
    hospitalisation_fen: Mapped[int] = mapped_column(sa.BigInteger)
    death_fen: Mapped[int] = mapped_column(sa.BigInteger)
    cover_from: Mapped[date] = mapped_column(sa.Date)
    cover_to: Mapped[date] = mapped_column(sa.Date)
    created_by: Mapped[str] = mapped_column(sa.String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class InsuranceEnrolment(Base):
    """An insured person under a policy: a registered poor person, or a cadre (registry ids)."""

    __tablename__ = "insurance_enrolments"
    __table_args__ = (
        sa.UniqueConstraint("policy_id", "insured_kind", "insured_id", name="uq_insurance_enrolments_policy_insured"),
        sa.Index("ix_insurance_enrolments_insured", "insured_kind", "insured_id"),
        sa.Index("ix_insurance_enrolments_county_id", "county_code", "id"),
    )

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=uuid7)
    policy_id: Mapped[str] = mapped_column(sa.String(36), sa.ForeignKey("insurance_policies.id"))
    insured_kind: Mapped[str] = mapped_column(sa.String(10))  # person | cadre
    insured_id: Mapped[str] = mapped_column(sa.String(36))
    household_id: Mapped[str | None] = mapped_column(sa.String(36))
    county_code: Mapped[str] = mapped_column(sa.String(6))
    # the person's village, or the cadre's region: scope below the county (万盛经开区's townships)
    region_code: Mapped[str] = mapped_column(sa.String(12))
    name: Mapped[str] = mapped_column(sa.String(50))
    enrolled_by: Mapped[str] = mapped_column(sa.String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class InsuranceClaim(Base):
    """A claim: opened from the registry's events or by hand; opened → approved → paid, or rejected with a reason.
    At most one per insured person and kind (a unique constraint)."""

    __tablename__ = "insurance_claims"
    __table_args__ = (
        sa.UniqueConstraint("insured_kind", "insured_id", "kind", name="uq_insurance_claims_insured_kind"),
        sa.Index("ix_insurance_claims_county_status_id", "county_code", "status", "id"),
    )

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=uuid7)
    policy_id: Mapped[str] = mapped_column(sa.String(36), sa.ForeignKey("insurance_policies.id"), index=True)
    enrolment_id: Mapped[str] = mapped_column(sa.String(36), sa.ForeignKey("insurance_enrolments.id"))
    insured_kind: Mapped[str] = mapped_column(sa.String(10))
    insured_id: Mapped[str] = mapped_column(sa.String(36))
    household_id: Mapped[str | None] = mapped_column(sa.String(36))
    county_code: Mapped[str] = mapped_column(sa.String(6))
    region_code: Mapped[str] = mapped_column(sa.String(12))  # as its enrolment's
    kind: Mapped[str] = mapped_column(sa.String(20))  # hospitalisation | death
    occurred_on: Mapped[date] = mapped_column(sa.Date)
    amount_fen: Mapped[int] = mapped_column(sa.BigInteger)
    status: Mapped[str] = mapped_column(sa.String(10))  # opened | approved | paid | rejected
    opened_by: Mapped[str] = mapped_column(sa.String(100))  # "event", or the user
    open_reason: Mapped[str | None] = mapped_column(sa.String(300))  # why opened by hand
    source_event_id: Mapped[str | None] = mapped_column(sa.String(36))
    decided_by: Mapped[str | None] = mapped_column(sa.String(100))
    decided_at: Mapped[datetime | None]
    reject_reason: Mapped[str | None] = mapped_column(sa.String(300))
    paid_by: Mapped[str | None] = mapped_column(sa.String(100))
    paid_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
