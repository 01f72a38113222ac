"""Scope, region and grouping clauses for the records kept per household (contacts, surveys, plans, check-ins...).

Every such row carries its household's county and township codes, so an officer's scope reads the county index;
a village cadre sees the records of the households paired with them.
"""

from typing import Any

import sqlalchemy as sa

from services.registry.contacts.schemas import RollupLevel
from services.registry.scope import paired_household_ids
from shared.auth import Principal, region_clause
from shared.regions import WANSHENG_CODE, WANSHENG_TOWNSHIPS, scope_codes


def record_scope(principal: Principal, model: Any) -> sa.ColumnElement[bool]:
    """The rows of `model` the caller may read."""
    if principal.is_cadre_only:
        return model.household_id.in_(paired_household_ids(principal))
    return principal.region_clause(*code_columns(model))


def code_columns(model: Any) -> list[sa.ColumnElement[str]]:
    columns = [model.county_code, model.township_code]
    if hasattr(model, "village_code"):
        columns.append(model.village_code)
    return columns


def in_region(region: str | None, *columns: sa.ColumnElement[str]) -> list[sa.ColumnElement[bool]]:
    """The `region` query parameter (a city, county, 万盛经开区, township or village code) as a WHERE clause."""
    return [region_clause(scope_codes(region), *columns)] if region else []


def narrowing(principal: Principal, region: str | None):
    """A coarse filter for the records joined to pairings or households already in scope: it lets the database read
    the county/township index instead of every record in the city. Codes are cut to the township, since not every
    record table carries the village code."""

    def clauses(model: Any) -> list[sa.ColumnElement[bool]]:
        columns = (model.county_code, model.township_code)
        if principal.is_cadre_only:
            kept = [record_scope(principal, model)]
        else:
            kept = [region_clause([code[:9] for code in principal.regions], *columns)]
        if region:
            kept.append(region_clause([code[:9] for code in scope_codes(region)], *columns))
        return kept

    return clauses


def region_group(
    level: str, county: sa.ColumnElement[str], township: sa.ColumnElement[str], village: Any = None
) -> sa.ColumnElement[str] | None:
    """The code a row is counted under at `level` (None for the whole city); 万盛经开区's townships count under
    万盛, not 綦江区, as the notice addresses it as a unit of its own."""
    if level == RollupLevel.county:
        return sa.case((township.in_(sorted(WANSHENG_TOWNSHIPS)), WANSHENG_CODE), else_=county)
    if level == RollupLevel.township:
        return township
    if level == RollupLevel.village:
        return village
    return None
