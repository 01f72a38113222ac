"""Region scope inside the query: officers see their regions, a village cadre the households paired with them."""

from typing import Any

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


def pairing_scope(principal: Principal, model: Any = Pairing) -> sa.ColumnElement[bool]:
    """The pairings the caller may read; `model` may be a table that copies a pairing's cadre and codes."""
    if principal.is_cadre_only:
        return model.cadre_id.in_(sa.select(Cadre.id).where(Cadre.username == principal.subject))
    return principal.region_clause(model.county_code, model.township_code)
