"""Payee accounts (收款账户): the social-security card account (社保卡/一卡通) relief is paid into, one per person.

The number is stored encrypted, found by its blind index, and shown with only its last four digits to a caller
without pii:read; every unmasked read is audited. The person and household are checked against the registry.
"""

import re
import unicodedata

from sqlalchemy.exc import IntegrityError

from services.relief.batches import repository
from services.relief.batches.errors import (
    AccountNumberInvalid,
    PayeeAccountNotFound,
    PayeeCountyMismatch,
    PayeeHouseholdNotFound,
    PayeeNotInHousehold,
)
from services.relief.batches.schemas import PayeeAccountOut, PayeeAccountSet
from services.relief.cases.service import member_of
from services.relief.errors import from_registry
from services.relief.models import PayeeAccount
from shared.clients import RegistryClient
from shared.context import Ctx
from shared.db import utcnow
from shared.errors import Conflict, OutOfScope

_ACCOUNT_DIGITS = re.compile(r"[0-9]{12,30}")
_SEPARATORS = re.compile(r"[\s\-]")


def normalize_account_number(value: str) -> str:
    """The digits of an account number as typed (full-width digits, spaces and hyphens allowed), or
    AccountNumberInvalid: 12 to 30 digits."""
    digits = _SEPARATORS.sub("", unicodedata.normalize("NFKC", value))
    if not _ACCOUNT_DIGITS.fullmatch(digits):
        raise AccountNumberInvalid(field="account_number")
    return digits


def mask_account_number(number: str) -> str:
    """Only the last four digits stay visible: 6217996100001234567 → ***************4567."""
    return "*" * (len(number) - 4) + number[-4:]


def account_out(ctx: Ctx, account: PayeeAccount) -> PayeeAccountOut:
    return PayeeAccountOut(
        id=account.id,
        person_id=account.person_id,
        household_id=account.household_id,
        county_code=account.county_code,
        holder_name=account.holder_name,
        bank_name=account.bank_name,
        account_number=ctx.show(account.account_enc, account.account_masked) or "",
        created_by=account.created_by,
        created_at=account.created_at,
        updated_at=account.updated_at,
    )


async def _check_registry(registry: RegistryClient, person_id: str, body: PayeeAccountSet) -> None:
    """The household exists in the registry, the person is one of its members, and it lies in the county given."""
    household = await from_registry(registry.household(body.household_id))
    if household is None:
        raise PayeeHouseholdNotFound(field="household_id")
    if member_of(household, person_id) is None:
        raise PayeeNotInHousehold(field="person_id")
    if household.county_code != body.county_code:
        raise PayeeCountyMismatch(field="county_code", registered=household.county_code)


async def set_account(ctx: Ctx, registry: RegistryClient, person_id: str, body: PayeeAccountSet) -> PayeeAccountOut:
    """Register the person's account, or replace it (a new card, another bank): one account per person."""
    number = normalize_account_number(body.account_number)
    if not ctx.principal.covers(body.county_code):
        raise OutOfScope(field="county_code")
    account = await repository.account_of(ctx.session, person_id, for_update=True)
    if account is not None and not ctx.principal.covers(account.county_code):
        raise OutOfScope(field="county_code")
    await _check_registry(registry, person_id, body)
    values = {
        "household_id": body.household_id,
        "county_code": body.county_code,
        "holder_name": body.holder_name,
        "bank_name": body.bank_name,
        "account_masked": mask_account_number(number),
    }
    if account is None:
        account = PayeeAccount(
            person_id=person_id,
            account_enc=ctx.cipher.encrypt(number),
            account_hash=ctx.cipher.blind_index(number),
            created_by=ctx.principal.subject,
            **values,
        )
        try:
            async with ctx.session.begin_nested():
                ctx.session.add(account)
        except IntegrityError as exc:  # the same person's account registered at the same moment
            raise Conflict(field="person_id") from exc
        action, changes = "payee_account.create", {**values, "person_id": person_id}
    else:
        same_number = account.account_hash == ctx.cipher.blind_index(number)
        changes = {k: [getattr(account, k), v] for k, v in values.items() if getattr(account, k) != v}
        if not same_number:
            account.account_enc = ctx.cipher.encrypt(number)
            account.account_hash = ctx.cipher.blind_index(number)
            changes["account_number"] = "changed"
        for key, value in values.items():
            setattr(account, key, value)
        account.updated_at = utcnow()
        await ctx.session.flush()
        action = "payee_account.update"
    await ctx.audit.record(
        ctx.principal,
        action=action,
        entity="payee_account",
        entity_id=account.id,
        county_code=account.county_code,
        changes=changes,
    )
    await ctx.audit_pii_read("payee_account", [account.id])
    return account_out(ctx, account)


async def get_account(ctx: Ctx, person_id: str) -> PayeeAccountOut:
    account = await repository.account_of(
        ctx.session, person_id, scope=ctx.principal.region_clause(PayeeAccount.county_code)
    )
    if account is None:
        raise PayeeAccountNotFound()
    await ctx.audit_pii_read("payee_account", [account.id])
    return account_out(ctx, account)
