"""Payee accounts (收款账户): checked against the registry, stored encrypted, shown masked without pii:read, every
unmasked read audited, in the caller's scope only."""

import sqlalchemy as sa

from services.relief.batches.accounts import mask_account_number, normalize_account_number
from services.relief.batches.errors import AccountNumberInvalid
from services.relief.models import PayeeAccount
from tests.support.callers import AUDITOR, BANK, CITY_ADMIN, CIVIL, FENGDU, WANZHOU, Caller
from tests.support.registry import assert_problem, make_household
from tests.support.relief import RELIEF_AUDIT, account_path

VILLAGE = "500230101201"
NUMBER = "6217996100001234567"


def account_body(household: dict, **overrides) -> dict:
    body = {
        "household_id": household["id"],
        "county_code": household["county_code"],
        "holder_name": household["members"][0]["name"],
        "bank_name": "重庆农村商业银行丰都支行",
        "account_number": "6217 9961 0000 1234 567",
    }
    body.update(overrides)
    return body


async def put_account(relief, person_id: str, body: dict, caller=CIVIL, **kw):
    return await relief.request("PUT", account_path(person_id), caller, json=body, **kw)


async def audit(relief, **filters) -> list[dict]:
    response = await relief.get(RELIEF_AUDIT, CITY_ADMIN, params={**filters, "limit": 200})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_account_numbers_are_digits_12_to_30_and_masked_to_the_last_four():
    assert normalize_account_number("6217 9961-0000 1234 567") == NUMBER
    assert normalize_account_number("６２１７９９６１００００１２３４５６７") == NUMBER  # full-width digits
    assert normalize_account_number("1" * 12) == "1" * 12
    assert normalize_account_number("1" * 30) == "1" * 30
    for bad in ("1" * 11, "1" * 31, "6217A961000012345", "", "62179961000012345.0"):
        try:
            normalize_account_number(bad)
        except AccountNumberInvalid:
            continue
        raise AssertionError(f"{bad!r} was accepted")
    assert mask_account_number(NUMBER) == "***************4567"
    assert mask_account_number("123456789012") == "********9012"


async def test_register_account_stored_encrypted_and_shown_to_pii_readers(relief, registry):
    household = await make_household(registry, VILLAGE)
    person = household["members"][0]
    response = await put_account(relief, person["id"], account_body(household))
    assert response.status_code == 200, response.text
    created = response.json()
    assert (created["person_id"], created["account_number"], created["county_code"]) == (person["id"], NUMBER, "500230")
    async with relief.app.state.session_factory() as session:
        stored = await session.scalar(sa.select(PayeeAccount).where(PayeeAccount.person_id == person["id"]))
    assert NUMBER not in stored.account_enc
    assert relief.app.state.cipher.decrypt(stored.account_enc) == NUMBER
    assert stored.account_hash == relief.app.state.cipher.blind_index(NUMBER)
    assert stored.account_masked == "***************4567"
    assert [e["action"] for e in await audit(relief, entity_id=created["id"])] == ["pii.read", "payee_account.create"]


async def test_reader_without_pii_read_sees_the_mask_and_leaves_no_pii_audit(relief, registry):
    household = await make_household(registry, VILLAGE)
    person_id = household["members"][0]["id"]
    assert (await put_account(relief, person_id, account_body(household))).status_code == 200
    before = len(await audit(relief, action="pii.read"))
    masked = await relief.get(account_path(person_id), AUDITOR)
    assert masked.status_code == 200, masked.text
    assert masked.json()["account_number"] == "***************4567"
    assert len(await audit(relief, action="pii.read")) == before
    full = await relief.get(account_path(person_id), BANK)
    assert full.json()["account_number"] == NUMBER
    reads = await audit(relief, action="pii.read", actor="bank")
    assert [(r["entity"], r["entity_id"]) for r in reads] == [("payee_account", full.json()["id"])]


async def test_officer_of_another_county_gets_404(relief, registry):
    household = await make_household(registry, VILLAGE)
    person_id = household["members"][0]["id"]
    assert (await put_account(relief, person_id, account_body(household))).status_code == 200
    assert (await relief.get(account_path(person_id), FENGDU)).status_code == 200
    assert_problem(await relief.get(account_path(person_id), WANZHOU), 404, "payee_account_not_found")
    assert_problem(await relief.get(account_path("no-such-person"), CIVIL), 404, "payee_account_not_found")


async def test_only_account_keepers_register_accounts(relief, registry):
    household = await make_household(registry, VILLAGE)
    person_id = household["members"][0]["id"]
    for caller in (FENGDU, AUDITOR):
        assert_problem(await put_account(relief, person_id, account_body(household), caller), 403, "forbidden")
    assert (await put_account(relief, person_id, account_body(household), BANK)).status_code == 200


async def test_bad_account_number_is_a_clear_problem(relief, registry):
    household = await make_household(registry, VILLAGE)
    person_id = household["members"][0]["id"]
    for number in ("62179961", "6217-9961-ABCD-1234", "1" * 31):
        response = await put_account(relief, person_id, account_body(household, account_number=number))
        problem = assert_problem(response, 422, "account_number_invalid", field="account_number")
        assert problem["title"] == "银行账号应为12至30位数字（可含空格或短横线分隔）"
    english = await put_account(
        relief, person_id, account_body(household, account_number="123"), headers={"Accept-Language": "en"}
    )
    assert assert_problem(english, 422, "account_number_invalid")["title"].startswith("The bank account number")


async def test_holder_name_that_a_spreadsheet_would_run_is_refused(relief, registry):
    household = await make_household(registry, VILLAGE)
    person_id = household["members"][0]["id"]
    response = await put_account(relief, person_id, account_body(household, holder_name="=HYPERLINK(1)"))
    assert_problem(response, 422, "validation_failed", field="holder_name")


async def test_person_and_household_are_checked_against_the_registry(relief, registry):
    household = await make_household(registry, VILLAGE)
    other = await make_household(registry, VILLAGE)
    person_id = household["members"][0]["id"]
    unknown = await put_account(relief, person_id, account_body(household, household_id="01900000-0000-7000-8000-0"))
    assert_problem(unknown, 422, "payee_household_not_found", field="household_id")
    not_member = await put_account(relief, person_id, account_body(other))
    assert_problem(not_member, 422, "payee_not_in_household", field="person_id")
    wrong_county = await put_account(relief, person_id, account_body(household, county_code="500101"))
    problem = assert_problem(wrong_county, 422, "payee_county_mismatch", field="county_code")
    assert "500230" in problem["title"]
    assert await _count(relief) == 0


async def test_account_outside_the_callers_scope_is_refused(relief, registry):
    household = await make_household(registry, VILLAGE)
    wanzhou_civil = Caller("civil-wz", ("civil_affairs",), ("500101",))
    response = await put_account(relief, household["members"][0]["id"], account_body(household), wanzhou_civil)
    assert_problem(response, 403, "out_of_scope", field="county_code")


async def test_replacing_the_account_keeps_one_row_and_audits_the_change(relief, registry):
    household = await make_household(registry, VILLAGE)
    person_id = household["members"][0]["id"]
    first = (await put_account(relief, person_id, account_body(household))).json()
    body = account_body(household, bank_name="中国农业银行丰都支行", account_number="622848 0012 3456 7890 12")
    replaced = await put_account(relief, person_id, body)
    assert replaced.status_code == 200, replaced.text
    assert (replaced.json()["id"], replaced.json()["account_number"]) == (first["id"], "62284800123456789012")
    assert await _count(relief) == 1
    [update] = await audit(relief, action="payee_account.update")
    assert update["changes"] == {
        "bank_name": ["重庆农村商业银行丰都支行", "中国农业银行丰都支行"],
        "account_masked": ["***************4567", "****************9012"],
        "account_number": "changed",
    }
    assert "62284800123456789012" not in str(update["changes"])


async def test_repeated_put_with_the_same_key_returns_the_first_answer(relief, registry):
    household = await make_household(registry, VILLAGE)
    person_id = household["members"][0]["id"]
    headers = {"Idempotency-Key": "acct-1"}
    first = await put_account(relief, person_id, account_body(household), headers=headers)
    second = await put_account(relief, person_id, account_body(household), headers=headers)
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.headers["idempotent-replayed"] == "true" and second.json() == first.json()
    assert len(await audit(relief, action="payee_account.create")) == 1


async def _count(relief) -> int:
    async with relief.app.state.session_factory() as session:
        return await session.scalar(sa.select(sa.func.count()).select_from(PayeeAccount))
