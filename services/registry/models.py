"""The registry's tables. Rows that belong to a place carry their county and township codes, indexed."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.db import make_base, plumbing_tables, utcnow
from shared.ids import uuid7

Base = make_base()
plumbing = plumbing_tables(Base.metadata)


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
