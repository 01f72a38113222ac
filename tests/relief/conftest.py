"""Fixtures of the payment tests: cases, standards and payee accounts written straight into relief's test
transaction (the rules that open cases are tested on their own), and a relief app on a database of its own, with
committed data, for requests that must truly run at the same time. Batches made and approved through the API are
helpers of tests/support/relief.py."""

import itertools
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date

import pytest
import sqlalchemy as sa
from httpx import ASGITransport

from services.relief.batches.accounts import mask_account_number
from services.relief.models import DibaoStandard, PayeeAccount, Payment, PaymentBatch, PaymentLine, ReliefCase
from shared.clients import RegistryClient
from shared.ids import uuid7
from shared.migrations import upgrade_async
from tests.support.callers import RELIEF_SERVICE, Api, StaticToken

_serial = itertools.count(1)

TOWNSHIPS = {"500230": "500230101", "500101": "500101001", "wansheng": "500110004"}


def account_number() -> str:
    """A 19-digit account number, different on every call."""
    return f"621799{next(_serial):013d}"


@dataclass
class Ledger:
    """Writes cases, standards and payee accounts into the transaction of the `relief` fixture."""

    relief: Api

    async def add(self, *rows: object) -> None:
        async with self.relief.app.state.session_factory() as session:
            session.add_all(rows)
            await session.commit()

    async def scalar(self, query):
        async with self.relief.app.state.session_factory() as session:
            return await session.scalar(query)

    async def rows(self, query) -> list:
        async with self.relief.app.state.session_factory() as session:
            return list((await session.execute(query)).all())

    async def standard(self, unit_code: str, monthly_fen: int, effective_from: date, area_class: str = "rural") -> None:
        await self.add(
            DibaoStandard(
                unit_code=unit_code, area_class=area_class, monthly_fen=monthly_fen, effective_from=effective_from,
                created_by="test",
            )
        )  # fmt: skip

    async def case(
        self,
        diagnosed_on: date,
        closed_on: date | None = None,
        *,
        unit_code: str = "500230",
        area_class: str = "rural",
        payee_name: str = "张秀华",
        account: bool = True,
    ) -> ReliefCase:
        """A case of the unit (万盛经开区: a township of 500110), with a payee account unless account=False."""
        township = TOWNSHIPS[unit_code]
        case = ReliefCase(
            person_id=uuid7(), household_id=uuid7(), county_code=township[:6], township_code=township,
            village_code=f"{township}201", unit_code=unit_code, area_class=area_class, payee_name=payee_name,
            payee_id_masked=f"{township[:6]}********123X", diagnosed_on=diagnosed_on, closed_on=closed_on,
            close_reason=None if closed_on is None else "discharged",
            status="open" if closed_on is None else "closed", opened_by="test",
        )  # fmt: skip
        await self.add(case)
        if account:
            await self.account(case, account_number())
        return case

    async def account(self, case: ReliefCase, number: str, bank_name: str = "重庆农村商业银行") -> None:
        cipher = self.relief.app.state.cipher
        await self.add(
            PayeeAccount(
                person_id=case.person_id, household_id=case.household_id, county_code=case.county_code,
                holder_name=case.payee_name, bank_name=bank_name, account_enc=cipher.encrypt(number),
                account_hash=cipher.blind_index(number), account_masked=mask_account_number(number),
                created_by="test",
            )
        )  # fmt: skip

    async def lines(self, case_id: str) -> list[tuple[int, str, int, str]]:
        """(period_no, kind, amount_fen, status) of the case's lines, in period then creation order."""
        rows = await self.rows(
            sa.select(PaymentLine.period_no, PaymentLine.kind, PaymentLine.amount_fen, PaymentLine.status)
            .where(PaymentLine.case_id == case_id)
            .order_by(PaymentLine.period_no, PaymentLine.created_at, PaymentLine.id)
        )
        return [tuple(r) for r in rows]


@pytest.fixture
async def ledger(relief) -> Ledger:
    return Ledger(relief)


# --- a relief app of its own, for truly concurrent requests ---------------------------------------------------------


@pytest.fixture(scope="module")
async def own_relief_url(databases, relief_app) -> str:
    """A relief database of its own (dropped with the session's databases); `relief_app` first, so the settings it
    sets for relief apps (no event dispatcher) are in force."""
    url = await databases.create("relief_concurrent")
    await upgrade_async("relief", url)
    assert os.environ.get("RELIEF_EVENTS_DISPATCH") == "false"
    return url


@pytest.fixture
async def own_relief(own_relief_url, verifier, registry_app, token_for) -> AsyncIterator[Api]:
    """A relief app whose requests each run in their own committed transaction, as in production; every row of the
    payment tables is deleted afterwards."""
    from services.relief.app import create_app

    registry = RegistryClient(
        "http://registry", transport=ASGITransport(registry_app), credentials=StaticToken(token_for(RELIEF_SERVICE))
    )
    app = create_app(
        database_url=own_relief_url, verifier=verifier, cipher=registry_app.state.cipher, registry=registry
    )
    async with app.router.lifespan_context(app):
        api = Api(app, token_for)
        try:
            yield api
        finally:
            await api.http.aclose()
            async with app.state.db.engine.begin() as conn:
                for model in (PaymentLine, Payment, PaymentBatch, PayeeAccount, ReliefCase, DibaoStandard):
                    await conn.execute(sa.delete(model))
                for table in ("idempotency_keys", "audit_log", "deliveries", "outbox_events"):
                    await conn.execute(sa.text(f"DELETE FROM {table}"))


@pytest.fixture
async def own_ledger(own_relief) -> Ledger:
    """A Ledger writing into the app's own database: each write commits."""
    own_relief.app.state.session_factory = own_relief.app.state.db.sessions
    try:
        yield Ledger(own_relief)
    finally:
        own_relief.app.state.session_factory = None
