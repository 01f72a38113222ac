"""RFC 9457 problems (shared/errors.py), the audit diff (shared/audit.py), seen through the registry app."""

import pytest

from shared.audit import diff
from shared.errors import domain_error, language
from tests.support.callers import AUDITOR, HR
from tests.support.registry import AUDIT, HOUSEHOLDS, assert_problem


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        (None, "zh"),
        ("", "zh"),
        ("en", "en"),
        ("en-US,en;q=0.9", "en"),
        ("EN-gb", "en"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        ("fr-FR", "zh"),
    ],
)
def test_language_is_english_only_when_asked_first(header, lang):
    assert language(header) == lang


def test_domain_error_formats_its_messages():
    Quota = domain_error("Quota", 429, "quota", "超过限额 {n}", "Over the quota of {n}")
    error = Quota(field="n", n=3)
    assert (error.status, error.code, error.field) == (429, "quota", "n")
    assert error.message("zh") == "超过限额 3"
    assert error.message("en") == "Over the quota of 3"


def test_diff_keeps_only_changed_fields():
    before = {"status": "not_lifted", "dibao": True, "address": None}
    after = {"status": "lifted", "dibao": True, "address": "虎威镇"}
    assert diff(before, after) == {"status": ["not_lifted", "lifted"], "address": [None, "虎威镇"]}
    assert diff(before, {"dibao": True}) == {}


async def test_unknown_route_is_a_problem(registry):
    response = await registry.get("/api/v1/registry/nowhere")
    problem = assert_problem(response, 404, "route_not_found")
    assert problem["title"] == "请求的路径不存在"
    assert problem["instance"] == "/api/v1/registry/nowhere"


async def test_wrong_method_is_a_problem(registry):
    response = await registry.request("DELETE", HOUSEHOLDS, headers={"Accept-Language": "en"})
    problem = assert_problem(response, 405, "method_not_allowed")
    assert problem["title"] == "Method not allowed"


async def test_problem_carries_the_request_id(registry):
    response = await registry.get("/api/v1/registry/regions/999999", headers={"X-Request-ID": "req-42"})
    problem = assert_problem(response, 404, "region_not_found")
    assert problem["request_id"] == "req-42"
    assert response.headers["x-request-id"] == "req-42"


async def test_missing_permission_names_it(registry):
    response = await registry.get(AUDIT, HR)
    problem = assert_problem(response, 403, "forbidden")
    assert problem["title"] == "无权执行此操作（需要权限 audit:read）"
    assert "errors" not in problem
    english = await registry.get(AUDIT, HR, headers={"Accept-Language": "en"})
    assert english.json()["title"] == "Permission audit:read is required"


async def test_malformed_json_is_a_validation_problem(registry):
    response = await registry.post(
        HOUSEHOLDS, content=b'{"household_no": ', headers={"Content-Type": "application/json"}
    )
    problem = assert_problem(response, 422, "validation_failed")
    assert problem["errors"][0]["code"] == "json_invalid"
    assert problem["errors"][0]["message"] == "JSON 格式错误"


async def test_naive_updated_since_on_the_audit_log_is_refused_not_a_crash(registry):
    response = await registry.get(AUDIT, AUDITOR, params={"updated_since": "2020-01-01T00:00:00"})
    assert_problem(response, 422, "validation_failed", field="query.updated_since")
