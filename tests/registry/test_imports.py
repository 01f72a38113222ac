"""Imports from an office's ledger: XLSX and CSV, every check, all-or-nothing, the job, the report, the template."""

import csv
import io
import json
import sys

import openpyxl
import pytest

from services.registry.imports import load, run, service
from services.registry.imports.columns import COLUMNS, HEADERS
from services.registry.imports.run import Progress, run_import
from services.registry.imports.runner import runner_of
from services.registry.imports.schemas import ImportMode
from services.registry.imports.service import cli_principal, job_fields, new_job
from services.registry.imports.template import EXAMPLE_ROW
from services.registry.imports.validate import Validator
from tests.support.callers import AUDITOR, CITY_ADMIN, FENGDU, HR, WANZHOU
from tests.support.imports import VILLAGE, csv_bytes, family, grid, household_no, person, xlsx_bytes
from tests.support.registry import (
    HOUSEHOLDS,
    PERSONS,
    assert_problem,
    audit_entries,
    id_number,
    make_household,
    make_village,
    masked,
)

IMPORTS = "/api/v1/registry/imports"
OTHER_VILLAGE = "500230101202"
WANZHOU_VILLAGE = "500101001201"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
JOB_TIMEOUT_S = 60


async def upload(registry, content: bytes, name: str = "花名册.xlsx", caller=CITY_ADMIN, **params):
    return await registry.post(IMPORTS, caller, files={"file": (name, content)}, params=params)


async def finished(registry, job_id: str, caller=CITY_ADMIN) -> dict:
    """The job once its background task has ended (bounded wait, no sleeping), as the API answers it."""
    await runner_of(registry.app.state).wait(job_id, timeout_s=JOB_TIMEOUT_S)
    response = await registry.get(f"{IMPORTS}/{job_id}", caller)
    assert response.status_code == 200, response.text
    return response.json()


async def imported(registry, rows: list[dict[str, str]], caller=CITY_ADMIN, fmt: str = "xlsx", **params) -> dict:
    await make_village(registry, VILLAGE)
    content = xlsx_bytes(grid(rows)) if fmt == "xlsx" else csv_bytes(grid(rows))
    response = await upload(registry, content, f"花名册.{fmt}", caller, **params)
    assert response.status_code == 202, response.text
    return await finished(registry, response.json()["id"], caller)


async def households_in(registry, village: str = VILLAGE) -> list[dict]:
    response = await registry.get(HOUSEHOLDS, params={"region": village, "limit": 200})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def described(error: dict) -> tuple:
    return error["row"], error["column"], error["code"], error["message"]


def only_error(job: dict) -> dict:
    assert job["status"] == "failed", job
    assert job["error_count"] == len(job["errors"]) == 1, job["errors"]
    return job["errors"][0]


async def report_rows(registry, job_id: str, caller=CITY_ADMIN) -> list[tuple]:
    response = await registry.get(f"{IMPORTS}/{job_id}/errors.xlsx", caller)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX_TYPE
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    return list(sheet.iter_rows(values_only=True))


# --- good files --------------------------------------------------------------------------------------------------


async def test_xlsx_import_creates_households_and_persons(registry):
    first = family(3, phone="13812341234", status="返贫", attribute="特困供养贫困户", dibao="否", area_class="城镇")
    first[1].update(relation="儿媳", labour_capacity="弱劳动力或半劳动力", migrant_status="因疫情暂不能外出务工")
    second = family(1, address="虎威镇红岩村5组", migrant_status="市外", labour_capacity="技能劳动力")
    job = await imported(registry, first + second)

    assert job["status"] == "done", json.dumps(job, ensure_ascii=False)
    assert (job["rows_total"], job["rows_done"]) == (4, 4)
    assert (job["households_created"], job["persons_created"], job["error_count"]) == (2, 4, 0)
    assert job["errors"] == [] and job["message"] == "已导入2户4人"
    by_no = {h["household_no"]: h for h in await households_in(registry)}
    assert set(by_no) == {first[0]["household_no"], second[0]["household_no"]}
    household = (await registry.get(f"{HOUSEHOLDS}/{by_no[first[0]['household_no']]['id']}")).json()
    assert (household["village_code"], household["township_code"], household["county_code"]) == (
        VILLAGE,
        VILLAGE[:9],
        VILLAGE[:6],
    )
    assert (household["status"], household["attribute"], household["dibao"], household["area_class"]) == (
        "returned",
        "destitute",
        False,
        "urban",
    )
    assert (household["head_name"], household["member_count"], household["phone"]) == ("张秀华", 3, "13812341234")
    assert household["address"] == "虎威镇红岩村3组"
    members = {m["id_number"]: m for m in household["members"]}
    assert set(members) == {row["id_number"] for row in first}
    head, in_law = members[first[0]["id_number"]], members[first[1]["id_number"]]
    assert (head["relation"], head["phone"], head["birth_date"]) == ("head", "13812341234", "1970-01-01")
    assert (in_law["relation"], in_law["labour_capacity"], in_law["migrant_status"]) == (
        "child_in_law",
        "weak",
        "stranded",
    )
    assert in_law["gender"] == ("male" if int(first[1]["id_number"][16]) % 2 else "female")
    other = by_no[second[0]["household_no"]]
    assert (other["status"], other["attribute"], other["dibao"], other["area_class"]) == (
        "not_lifted",
        "dibao",
        True,
        "rural",
    )
    assert other["address"] == "虎威镇红岩村5组" and other["phone"] is None


async def test_id_numbers_are_masked_for_callers_without_pii_read(registry):
    rows = family(2, phone="13812341234")
    await imported(registry, rows)
    number = rows[0]["id_number"]
    full = (await registry.get(PERSONS, params={"id_number": number})).json()
    assert (full["id_number"], full["phone"]) == (number, "13812341234")
    hidden = (await registry.get(PERSONS, HR, params={"id_number": number})).json()
    assert (hidden["id_number"], hidden["phone"]) == (masked(number), "138****1234")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
async def test_csv_import_in_each_encoding(registry, encoding):
    rows = family(2) + family(1)
    await make_village(registry, VILLAGE)
    response = await upload(registry, csv_bytes(grid(rows), encoding), "花名册.csv")
    assert response.status_code == 202, response.text
    assert response.json()["file_format"] == "csv"
    job = await finished(registry, response.json()["id"])
    assert (job["status"], job["households_created"], job["persons_created"]) == ("done", 2, 3), job
    for row in rows:
        found = await registry.get(PERSONS, params={"id_number": row["id_number"]})
        assert found.status_code == 200, found.text
        assert found.json()["name"] == row["name"]


async def test_households_may_be_spread_over_the_file_and_values_typed_loosely(registry):
    first, second = family(2), family(2)
    first[0]["status"] = "已脱贫(不再享受政策)"  # ASCII parentheses
    first[1]["id_number"] = first[1]["id_number"].replace("X", "x")
    job = await imported(registry, [first[0], second[0], second[1], first[1]])
    assert (job["status"], job["households_created"], job["persons_created"]) == ("done", 2, 4), job
    statuses = {h["household_no"]: h["status"] for h in await households_in(registry)}
    assert statuses[first[0]["household_no"]] == "lifted_no_policy"


async def test_a_title_row_above_the_header_is_allowed_and_rows_keep_their_numbers(registry):
    rows = family(2)
    rows[1]["name"] = ""
    await make_village(registry, VILLAGE)
    content = xlsx_bytes([["丰都县虎威镇建档立卡贫困户花名册"], *grid(rows)])
    job = await finished(registry, (await upload(registry, content)).json()["id"])
    error = only_error(job)
    assert (error["row"], error["column"], error["code"]) == (4, "姓名", "required")


async def test_optional_columns_may_be_left_out_of_the_file(registry):
    keep = [c for c in COLUMNS if c.key not in ("dibao", "area_class", "phone", "labour_capacity", "migrant_status")]
    rows = family(2)
    table = [[c.header for c in keep], *[[row[c.key] for c in keep] for row in rows]]
    await make_village(registry, VILLAGE)
    job = await finished(registry, (await upload(registry, xlsx_bytes(table))).json()["id"])
    assert job["status"] == "done", json.dumps(job, ensure_ascii=False)
    [household] = await households_in(registry)
    assert (household["dibao"], household["area_class"]) == (False, "rural")


# --- all or nothing, and the report ------------------------------------------------------------------------------


async def test_one_bad_row_imports_nothing_and_is_reported(registry):
    rows = family(2) + family(3) + family(1)
    good = rows[3]["id_number"]
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    rows[3]["id_number"] = bad
    job = await imported(registry, rows)

    error = only_error(job)
    assert error == {
        "row": 5,  # the header is row 1
        "column": "身份证号码",
        "value": masked(bad),
        "code": "id_number_invalid",
        "message": "校验码错误",
    }
    assert (job["households_created"], job["persons_created"]) == (0, 0)
    assert "未导入任何数据" in job["message"]
    assert await households_in(registry) == []
    report = await report_rows(registry, job["id"])
    assert report == [
        ("行号", "列", "填写的值", "错误代码", "错误说明"),
        (5, "身份证号码", bad, "id_number_invalid", "校验码错误"),
    ]


async def test_every_error_of_a_row_is_reported_in_file_order(registry):
    rows = family(2)
    rows[1].update(name="", relation="表哥", phone="12345", labour_capacity="壮劳力")
    rows[0].update(status="脱贫了")
    job = await imported(registry, rows)
    assert job["status"] == "failed"
    found = [(e["row"], e["column"], e["code"]) for e in job["errors"]]
    assert found == [
        (2, "贫困状态", "not_allowed"),
        (3, "姓名", "required"),
        (3, "与户主关系", "not_allowed"),
        (3, "联系电话", "phone_invalid"),
        (3, "劳动能力", "not_allowed"),
    ]
    by_column = {e["column"]: e for e in job["errors"]}
    assert (
        by_column["与户主关系"]["message"]
        == "取值应为：户主、配偶、子女、儿媳/女婿、孙子女、父母、祖父母、兄弟姐妹、其他"
    )
    assert by_column["联系电话"]["value"] == "*****"


async def test_duplicate_id_number_inside_the_file(registry):
    first, second = family(2), family(1)
    second[0]["id_number"] = first[1]["id_number"]
    job = await imported(registry, first + second)
    assert job["status"] == "failed"
    assert [(e["row"], e["code"], e["message"]) for e in job["errors"]] == [
        (3, "id_number_repeated", "身份证号码在文件中重复出现（第3、4行）"),
        (4, "id_number_repeated", "身份证号码在文件中重复出现（第3、4行）"),
    ]


async def test_id_number_already_registered(registry):
    registered = await make_household(registry, VILLAGE)
    taken = (await registry.get(f"{HOUSEHOLDS}/{registered['id']}")).json()["members"][1]["id_number"]
    rows = family(2)
    rows[1]["id_number"] = taken
    error = only_error(await imported(registry, rows))
    assert described(error) == (3, "身份证号码", "id_number_duplicate", "该身份证号码已登记")


async def test_household_number_already_registered(registry):
    registered = await make_household(registry, VILLAGE)
    rows = family(2)
    for row in rows:
        row["household_no"] = registered["household_no"]
    error = only_error(await imported(registry, rows))
    assert described(error) == (2, "户编号", "household_no_duplicate", "户编号已存在")


async def test_unknown_village(registry):
    rows = family(2, village_code="500230101299")
    error = only_error(await imported(registry, rows))
    assert (error["row"], error["column"], error["value"], error["code"]) == (
        2,
        "村（社区）代码",
        "500230101299",
        "village_not_found",
    )


async def test_a_township_code_is_not_a_village(registry):
    error = only_error(await imported(registry, family(1, village_code="500230101000")))
    assert error["code"] == "village_not_found"


async def test_county_officer_cannot_import_outside_their_county(registry):
    await make_village(registry, WANZHOU_VILLAGE)
    rows = family(1) + family(1, village_code=WANZHOU_VILLAGE)
    error = only_error(await imported(registry, rows, caller=FENGDU))
    assert described(error) == (3, "村（社区）代码", "out_of_scope", "该地区不在您的管辖范围内")


async def test_county_officer_imports_in_their_county(registry):
    job = await imported(registry, family(2), caller=FENGDU)
    assert (job["status"], job["created_by"], job["county_code"]) == ("done", "fengdu", "500230"), job


async def test_rows_of_a_household_that_disagree(registry):
    rows = family(3)
    rows[1]["status"] = "已脱贫"
    rows[2]["village_code"] = OTHER_VILLAGE
    await make_village(registry, OTHER_VILLAGE)
    job = await imported(registry, rows)
    assert [(e["row"], e["column"], e["code"], e["message"]) for e in job["errors"]] == [
        (3, "贫困状态", "household_conflict", "同一户编号的各行贫困状态不一致：第2行为“未脱贫”"),
        (4, "村（社区）代码", "household_conflict", f"同一户编号的各行村（社区）代码不一致：第2行为“{VILLAGE}”"),
    ]


async def test_household_without_a_head(registry):
    rows = family(2)
    rows[0]["relation"] = "配偶"
    error = only_error(await imported(registry, rows))
    assert described(error) == (2, "与户主关系", "no_head", "该户没有户主")


async def test_household_with_two_heads(registry):
    rows = family(2)
    rows[1]["relation"] = "户主"
    error = only_error(await imported(registry, rows))
    assert (error["row"], error["code"], error["message"]) == (3, "several_heads", "该户已有户主（第2行）")


async def test_household_columns_must_be_given_on_some_row(registry):
    rows = family(2, attribute="")
    error = only_error(await imported(registry, rows))
    assert (error["row"], error["column"], error["code"]) == (2, "贫困户属性", "required")


@pytest.mark.parametrize(
    ("key", "value", "code"),
    [
        ("household_no", "", "required"),
        ("household_no", "户编号1", "household_no_invalid"),
        ("village_code", "50023010120", "village_code_invalid"),
        ("name", "张" * 51, "too_long"),
        ("id_number", "", "required"),
        ("id_number", "5002301970010112", "id_number_invalid"),
        ("relation", "", "required"),
        ("dibao", "有", "not_allowed"),
        ("area_class", "乡下", "not_allowed"),
        ("migrant_status", "外出", "not_allowed"),
        ("address", "村" * 201, "too_long"),
    ],
)
async def test_required_fields_and_allowed_values(registry, key, value, code):
    rows = family(1)
    rows[0][key] = value
    job = await imported(registry, rows)
    header = next(c.header for c in COLUMNS if c.key == key)
    assert (header, code) in [(e["column"], e["code"]) for e in job["errors"]], job["errors"]
    assert job["status"] == "failed"


async def test_valid_households_mode_imports_the_households_without_errors(registry):
    good, bad, also_good = family(2), family(2), family(1)
    bad[1]["relation"] = "户主"
    job = await imported(registry, good + bad + also_good, mode="valid_households")
    assert job["status"] == "done", json.dumps(job, ensure_ascii=False)
    assert (job["households_created"], job["persons_created"], job["error_count"]) == (2, 3, 1)
    assert (job["rows_total"], job["rows_done"]) == (5, 5)
    assert job["message"] == "已导入2户3人；1户因有错误未导入"
    assert [e["row"] for e in job["errors"]] == [5]
    numbers = {h["household_no"] for h in await households_in(registry)}
    assert numbers == {good[0]["household_no"], also_good[0]["household_no"]}
    assert [r[0] for r in (await report_rows(registry, job["id"]))[1:]] == [5]


async def test_valid_households_mode_with_nothing_valid_fails(registry):
    rows = family(1, relation="配偶")
    job = await imported(registry, rows, mode="valid_households")
    assert (job["status"], job["households_created"]) == ("failed", 0)


async def test_a_missing_column_fails_the_job_at_the_header(registry):
    keep = [c for c in COLUMNS if c.key != "name"]
    table = [[c.header for c in keep], *[[row[c.key] for c in keep] for row in family(1)]]
    await make_village(registry, VILLAGE)
    job = await finished(registry, (await upload(registry, xlsx_bytes(table))).json()["id"])
    error = only_error(job)
    assert described(error) == (1, "姓名", "column_missing", "缺少“姓名”列")


async def test_a_file_with_a_header_only_fails(registry):
    job = await finished(registry, (await upload(registry, csv_bytes([list(HEADERS)]), "空.csv")).json()["id"])
    assert only_error(job)["code"] == "no_rows"


async def test_the_import_is_audited_once_with_counts_only(registry):
    rows = family(2, phone="13812341234")
    job = await imported(registry, rows)
    [entry] = await audit_entries(registry, AUDITOR, entity_id=job["id"])
    assert (entry["action"], entry["entity"], entry["actor"], entry["county_code"]) == (
        "households.import",
        "import_job",
        "admin",
        None,
    )
    assert entry["changes"] == {
        "file_name": "花名册.xlsx",
        "mode": "all",
        "rows": 2,
        "households": 1,
        "persons": 2,
        "errors": 0,
    }
    everything = json.dumps(await audit_entries(registry, AUDITOR), ensure_ascii=False)
    assert rows[0]["id_number"] not in everything and "13812341234" not in everything


# --- the job -----------------------------------------------------------------------------------------------------


async def test_upload_answers_202_with_the_queued_job(registry):
    await make_village(registry, VILLAGE)
    response = await upload(registry, xlsx_bytes(grid(family(2))))
    assert response.status_code == 202, response.text
    job = response.json()
    assert response.headers["location"] == f"{IMPORTS}/{job['id']}"
    assert (job["status"], job["mode"], job["file_name"], job["file_format"]) == (
        "queued",
        "all",
        "花名册.xlsx",
        "xlsx",
    )
    assert (job["rows_total"], job["rows_done"], job["error_count"], job["errors"]) == (0, 0, 0, [])
    assert job["started_at"] is None and job["finished_at"] is None
    done = await finished(registry, job["id"])
    assert done["status"] == "done"
    assert done["started_at"] <= done["finished_at"]
    assert done["created_at"] == job["created_at"]


async def run_directly(registry, rows: list[dict[str, str]], mode: ImportMode = ImportMode.all, listener=None):
    """The job's code path without HTTP: a queued job for a CSV of `rows`, run here; returns the outcome."""
    await make_village(registry, VILLAGE)
    sessions = registry.app.state.session_factory
    async with sessions() as session:
        job = await new_job(
            session, cli_principal("admin"), file_name="x.csv", file_format="csv", file_size=1, mode=mode
        )
        await session.commit()
    path = service.imports_dir() / f"{job.id}.csv"
    path.write_bytes(csv_bytes(grid(rows)))
    try:
        outcome = await run_import(
            job.id,
            sessions=sessions,
            cipher=registry.app.state.cipher,
            source=path,
            progress=Progress(listener=listener),
        )
    finally:
        path.unlink()
    return job.id, outcome


@pytest.fixture
def small_chunks(monkeypatch):
    """Two rows a validation chunk, one household a write chunk: every step of the pipelines is taken."""
    monkeypatch.setattr(run, "VALIDATE_CHUNK", 2)
    monkeypatch.setattr(load, "HOUSEHOLDS_PER_CHUNK", 1)


@pytest.mark.parametrize("mode", [ImportMode.all, ImportMode.valid_households])
async def test_progress_goes_through_each_phase(registry, small_chunks, mode):
    # All or nothing on PostgreSQL writes households while checking: the two the file closed (5 persons) are in
    # by then; the last one is complete only at the end of the file.
    streams = mode == ImportMode.all and registry.app.state.db.engine.dialect.name == "postgresql"
    importing = [5, 6] if streams else [0, 2, 5, 6]
    seen: list[tuple[str, int, int]] = []
    rows = family(2) + family(3) + family(1)
    job_id, outcome = await run_directly(
        registry, rows, mode, lambda p: seen.append((p.status, p.rows_done, p.rows_total))
    )
    assert (outcome.status, outcome.households_created, outcome.persons_created) == ("done", 3, 6)
    assert [done for status, done, total in seen if status == "validating" and total == 6] == [0, 2, 4, 6]
    assert [done for status, done, _ in seen if status == "importing"] == importing
    assert seen[-1] == ("done", 6, 6)
    stored = (await registry.get(f"{IMPORTS}/{job_id}")).json()
    assert (stored["status"], stored["rows_done"], stored["rows_total"]) == ("done", 6, 6)
    assert stored["started_at"] and stored["finished_at"]


async def test_an_error_after_households_were_written_leaves_nothing(registry, small_chunks):
    rows = family(2) + family(3) + family(2)
    rows[6]["phone"] = "12"
    job_id, outcome = await run_directly(registry, rows)
    assert (outcome.status, outcome.error_count) == ("failed", 1)
    assert await households_in(registry) == []
    stored = (await registry.get(f"{IMPORTS}/{job_id}")).json()
    assert (stored["status"], stored["households_created"], stored["rows_total"]) == ("failed", 0, 7)


async def test_a_household_whose_rows_come_apart_after_it_was_written(registry, small_chunks):
    first, second, third = family(2), family(2), family(1)
    late = person(first[0]["household_no"], name="张末", id_number=id_number("500230", "19990909"), relation="孙子女")
    _, outcome = await run_directly(registry, first + second + third + [late])
    assert (outcome.status, outcome.households_created, outcome.persons_created) == ("done", 3, 6), outcome
    sizes = {h["household_no"]: h["member_count"] for h in await households_in(registry)}
    assert sizes == {first[0]["household_no"]: 3, second[0]["household_no"]: 2, third[0]["household_no"]: 1}


async def test_a_failure_in_the_checking_thread_ends_the_job_and_writes_nothing(registry, small_chunks, monkeypatch):
    fed = Validator.feed
    calls = []

    def failing(self, rows):
        calls.append(len(rows))
        if len(calls) == 3:  # after two households were complete, and written on PostgreSQL
            raise RuntimeError("disk gone")
        return fed(self, rows)

    monkeypatch.setattr(Validator, "feed", failing)
    interval = sys.getswitchinterval()
    job_id, outcome = await run_directly(registry, family(2) + family(2) + family(2))
    assert (outcome.status, outcome.households_created) == ("failed", 0)
    assert "导入出错" in outcome.message
    assert await households_in(registry) == []
    stored = (await registry.get(f"{IMPORTS}/{job_id}")).json()
    assert (stored["status"], stored["households_created"]) == ("failed", 0)
    assert sys.getswitchinterval() == interval  # the import's shorter interval ends with it


async def test_a_running_jobs_live_progress_is_shown_over_the_stored_row(registry):
    async with registry.app.state.session_factory() as session:
        job = await new_job(
            session, cli_principal("x"), file_name="x.csv", file_format="csv", file_size=1, mode=ImportMode.all
        )
        live = Progress(status="importing", rows_total=10, rows_done=4)
        fields = job_fields(job, live)
        assert (fields["status"], fields["rows_total"], fields["rows_done"]) == ("importing", 10, 4)
        job.status, job.rows_total, job.rows_done = "done", 10, 10
        assert job_fields(job, live)["rows_done"] == 10  # a finished row is the truth


async def test_error_report_waits_for_the_end_of_the_job(registry):
    sessions = registry.app.state.session_factory
    async with sessions() as session:
        job = await new_job(
            session, cli_principal("admin"), file_name="x.csv", file_format="csv", file_size=1, mode=ImportMode.all
        )
        await session.commit()
    assert_problem(await registry.get(f"{IMPORTS}/{job.id}/errors.xlsx"), 409, "import_not_finished")


async def test_a_job_is_seen_by_its_importer_and_wider_scopes_only(registry):
    job = await imported(registry, family(1), caller=FENGDU)
    assert (await registry.get(f"{IMPORTS}/{job['id']}", CITY_ADMIN)).status_code == 200
    assert_problem(await registry.get(f"{IMPORTS}/{job['id']}", WANZHOU), 404, "import_job_not_found")
    assert_problem(await registry.get(f"{IMPORTS}/{job['id']}/errors.xlsx", WANZHOU), 404, "import_job_not_found")
    assert_problem(await registry.get(f"{IMPORTS}/unknown", FENGDU), 404, "import_job_not_found")


async def test_list_shows_the_callers_jobs_newest_first(registry):
    first = await imported(registry, family(1), caller=FENGDU)
    second = await imported(registry, family(1, relation="配偶"), caller=FENGDU)
    await imported(registry, family(1), caller=CITY_ADMIN)
    response = await registry.get(IMPORTS, FENGDU, params={"limit": 1})
    assert response.status_code == 200, response.text
    page = response.json()
    assert [j["id"] for j in page["items"]] == [second["id"]]
    assert "errors" not in page["items"][0]
    rest = (await registry.get(IMPORTS, FENGDU, params={"limit": 1, "cursor": page["next_cursor"]})).json()
    assert [j["id"] for j in rest["items"]] == [first["id"]]
    assert rest["next_cursor"] is None


# --- refusals ----------------------------------------------------------------------------------------------------


async def test_permission_is_needed(registry):
    assert_problem(await upload(registry, xlsx_bytes(grid(family(1))), caller=HR), 403, "forbidden")
    assert_problem(await registry.get(f"{IMPORTS}/template.xlsx", HR), 403, "forbidden")
    assert_problem(await registry.get(IMPORTS, AUDITOR), 403, "forbidden")


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("photo.png", b"\x89PNG\r\n\x1a\n" + bytes(200)),
        ("notes.txt", "今天走访了三户，情况良好。\n".encode()),
        ("archive.zip", b"PK\x03\x04" + bytes(100)),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100)),
        ("empty.csv", b""),
    ],
)
async def test_a_file_that_is_not_a_spreadsheet_is_refused(registry, name, content):
    response = await upload(registry, content, name)
    problem = assert_problem(response, 422, "import_file_unsupported", field="file")
    assert "XLSX" in problem["title"]
    assert not any(service.imports_dir().iterdir())


async def test_a_file_over_the_limit_is_refused(registry, monkeypatch):
    monkeypatch.setattr(service, "MAX_FILE_BYTES", 1024 * 1024)
    content = csv_bytes(grid(family(1) * 8000))
    assert len(content) > 1024 * 1024
    problem = assert_problem(await upload(registry, content, "big.csv"), 413, "import_file_too_large", field="file")
    assert "1 MB" in problem["title"]
    assert not any(service.imports_dir().iterdir())


async def test_the_stored_upload_is_deleted_when_the_job_ends(registry):
    await make_village(registry, VILLAGE)
    job = (await upload(registry, xlsx_bytes(grid(family(1))))).json()
    await finished(registry, job["id"])
    assert not (service.imports_dir() / job["id"]).exists()


# --- the template ------------------------------------------------------------------------------------------------


async def test_xlsx_template_has_the_headers_an_example_and_an_explanation(registry):
    response = await registry.get(f"{IMPORTS}/template.xlsx")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX_TYPE
    assert "attachment" in response.headers["content-disposition"]
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["导入模板", "填写说明"]
    rows = list(book["导入模板"].iter_rows(values_only=True))
    assert rows == [HEADERS, EXAMPLE_ROW]
    guide = {row[0]: row for row in book["填写说明"].iter_rows(min_row=2, values_only=True) if row and row[0]}
    assert set(HEADERS) <= set(guide)
    assert guide["与户主关系"][1] == "必填"
    assert guide["贫困状态"][3] == "未脱贫、已脱贫、返贫、已脱贫（不再享受政策）"
    assert guide["贫困户属性"][3] == "一般贫困户、低保贫困户、特困供养贫困户"
    assert guide["务工状态"][3] == "未务工、乡镇内务工、县内乡外、市内县外、市外、因疫情暂不能外出务工"
    assert guide["劳动能力"][3] == "技能劳动力、普通劳动力、弱劳动力或半劳动力、丧失劳动力、无劳动力"


async def test_csv_template_is_utf8_with_bom(registry):
    response = await registry.get(f"{IMPORTS}/template.csv")
    assert response.status_code == 200, response.text
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows == [list(HEADERS), list(EXAMPLE_ROW)]


async def test_the_template_imports_once_filled_in(registry):
    book = openpyxl.load_workbook(io.BytesIO((await registry.get(f"{IMPORTS}/template.xlsx")).content))
    sheet = book["导入模板"]
    number = household_no()
    head, spouse = id_number("500230", "19680808"), id_number("500230", "19700303")
    sheet["A2"], sheet["D2"] = number, head
    sheet.append([number, "", "李明", spouse, "配偶", "", "", "", "", "", "丧失劳动力", "", ""])
    buffer = io.BytesIO()
    book.save(buffer)
    await make_village(registry, EXAMPLE_ROW[1])
    job = await finished(registry, (await upload(registry, buffer.getvalue(), "模板.xlsx")).json()["id"])
    assert (job["status"], job["households_created"], job["persons_created"]) == ("done", 1, 2), job
    person = (await registry.get(PERSONS, params={"id_number": spouse})).json()
    assert (person["name"], person["relation"], person["labour_capacity"]) == ("李明", "spouse", "lost")


async def test_the_csv_template_imports_once_filled_in(registry):
    text = (await registry.get(f"{IMPORTS}/template.csv")).content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    rows[1][0], rows[1][3] = household_no(), id_number("500230", "19680808")
    await make_village(registry, EXAMPLE_ROW[1])
    job = await finished(registry, (await upload(registry, csv_bytes(rows), "模板.csv")).json()["id"])
    assert (job["status"], job["persons_created"]) == ("done", 1), job
