"""Region scope inside the query: officers see their regions, a village cadre the households paired with them."""

import sqlalchemy as sa

from services.registry.models import Cadre, Household, Pairing
from shared.auth import Principal


def paired_household_ids(principal: Principal) -> sa.Select:
    return (
        sa.select(Pairing.household_id)
        .join(Cadre, Cadre.id == Pairing.cadre_id)
        .where(Cadre.username == principal.subject, Cadre.active.is_(True), Pairing.active.is_(True))
    )


def household_scope(principal: Principal) -> sa.ColumnElement[bool]:
    if principal.is_cadre_only:
        return Household.id.in_(paired_household_ids(principal))
    return principal.region_clause(Household.county_code, Household.township_code, Household.village_code)


def cadre_scope(principal: Principal) -> sa.ColumnElement[bool]:
    if principal.is_cadre_only:
        return Cadre.username == principal.subject
    return principal.region_clause(Cadre.county_code, Cadre.township_code, Cadre.region_code)


def pairing_scope(principal: Principal) -> sa.ColumnElement[bool]:
    if principal.is_cadre_only:
        return Pairing.cadre_id.in_(sa.select(Cadre.id).where(Cadre.username == principal.subject))
    return principal.region_clause(Pairing.county_code, Pairing.township_code)
