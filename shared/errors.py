"""One error hierarchy and one handler: every failure leaves as an RFC 9457 problem document.

Domain code raises a `DomainError` subclass with a stable `code`; messages are in Chinese (default) or English,
chosen by Accept-Language. Validation errors list each field with its own code.
"""

import logging
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("fupin.errors")

PROBLEM_JSON = "application/problem+json"


def language(accept_language: str | None) -> str:
    """'en' when the caller prefers English, else 'zh' (the default)."""
    if not accept_language:
        return "zh"
    first = accept_language.split(",")[0].strip().lower()
    return "en" if first.startswith("en") else "zh"


class DomainError(Exception):
    """A refusal the caller can act on. Subclasses set status, code and the two messages."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    zh: ClassVar[str] = "请求有误"
    en: ClassVar[str] = "Bad request"

    def __init__(self, *, field: str | None = None, headers: dict[str, str] | None = None, **params: Any):
        super().__init__(self.code)
        self.field = field
        self.params = params
        self.headers = headers or {}

    def message(self, lang: str) -> str:
        template = self.en if lang == "en" else self.zh
        return template.format(**self.params)


def domain_error(name: str, status: int, code: str, zh: str, en: str) -> type[DomainError]:
    """Declare a DomainError subclass in one line, so each refusal has its own stable code."""
    return type(name, (DomainError,), {"status": status, "code": code, "zh": zh, "en": en})


Unauthenticated = domain_error(
    "Unauthenticated", 401, "unauthenticated", "未登录或令牌无效", "Missing or invalid access token"
)
Forbidden = domain_error(
    "Forbidden", 403, "forbidden", "无权执行此操作（需要权限 {permission}）", "Permission {permission} is required"
)
Conflict = domain_error("Conflict", 409, "conflict", "与现有数据冲突", "Conflicts with existing data")
IdempotencyKeyReused = domain_error(
    "IdempotencyKeyReused",
    409,
    "idempotency_key_reused",
    "该 Idempotency-Key 已用于另一个请求",
    "This Idempotency-Key was already used for a different request",
)
InvalidCursor = domain_error("InvalidCursor", 400, "invalid_cursor", "分页游标无效", "The page cursor is invalid")


# Chinese messages for the validation errors pydantic raises, and for our own PydanticCustomError codes.
FIELD_MESSAGES_ZH: dict[str, str] = {
    "missing": "必填字段",
    "string_too_short": "长度不能少于 {min_length}",
    "string_too_long": "长度不能超过 {max_length}",
    "string_pattern_mismatch": "格式不正确",
    "string_type": "应为字符串",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "bool_parsing": "应为布尔值",
    "date_from_datetime_parsing": "应为日期（YYYY-MM-DD）",
    "date_parsing": "应为日期（YYYY-MM-DD）",
    "datetime_parsing": "应为时间（ISO 8601）",
    "datetime_from_date_parsing": "应为时间（ISO 8601）",
    "enum": "取值应为 {expected} 之一",
    "literal_error": "取值应为 {expected} 之一",
    "greater_than_equal": "应不小于 {ge}",
    "less_than_equal": "应不大于 {le}",
    "greater_than": "应大于 {gt}",
    "extra_forbidden": "不允许的字段",
    "uuid_parsing": "应为 UUID",
    "json_invalid": "JSON 格式错误",
    "model_attributes_type": "应为对象",
    "dict_type": "应为对象",
    "list_type": "应为列表",
    "id_number_invalid": "身份证号码无效：{reason_zh}",
    "region_code_invalid": "行政区划代码格式不正确",
    "phone_invalid": "电话号码格式不正确",
    "value_error": "取值无效",
    "null_not_allowed": "该字段不能清空",
    "timezone_aware": "时间须带时区（如 2020-02-09T00:00:00+08:00）",
    "one_head_required": "家庭成员中必须有且只有一名户主（relation=head）",
}


def _field_path(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        where, rest = parts[0], parts[1:]
        return ".".join(rest) if where == "body" and rest else ".".join([where, *rest])
    return ".".join(parts)


def _field_message(err: dict[str, Any], lang: str) -> str:
    ctx = {k: v for k, v in (err.get("ctx") or {}).items()}
    if lang == "zh" and err["type"] in FIELD_MESSAGES_ZH:
        try:
            return FIELD_MESSAGES_ZH[err["type"]].format(**ctx)
        except (KeyError, IndexError):
            return FIELD_MESSAGES_ZH[err["type"]]
    return err.get("msg", "invalid")


def problem_response(
    request: Request,
    *,
    status: int,
    code: str,
    title: str,
    detail: str | None = None,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"urn:fupin:problem:{code}",
        "title": title,
        "status": status,
        "code": code,
        "instance": request.url.path,
    }
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    request_id = getattr(request.state, "request_id", None)
    if request_id:
        body["request_id"] = request_id
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


_TITLES = {
    "validation_failed": ("请求数据校验失败", "The request did not validate"),
    "route_not_found": ("请求的路径不存在", "No such path"),
    "method_not_allowed": ("不支持该请求方法", "Method not allowed"),
    "internal_error": ("服务器内部错误", "Internal server error"),
}


def _title(code: str, lang: str) -> str:
    zh, en = _TITLES[code]
    return en if lang == "en" else zh


def domain_problem(request: Request, exc: DomainError) -> JSONResponse:
    """The problem document of a domain error, in the caller's language."""
    lang = language(request.headers.get("accept-language"))
    message = exc.message(lang)
    errors = [{"field": exc.field, "code": exc.code, "message": message}] if exc.field else None
    return problem_response(
        request, status=exc.status, code=exc.code, title=message, errors=errors, headers=exc.headers
    )


async def _domain_handler(request: Request, exc: DomainError) -> JSONResponse:
    return domain_problem(request, exc)


async def _validation_handler(request: Request, exc: RequestValidationError) -> JSONResponse:
    lang = language(request.headers.get("accept-language"))
    errors = [
        {"field": _field_path(tuple(e["loc"])), "code": e["type"], "message": _field_message(e, lang)}
        for e in exc.errors()
    ]
    fields = ", ".join(e["field"] for e in errors)
    return problem_response(
        request,
        status=422,
        code="validation_failed",
        title=_title("validation_failed", lang),
        detail=fields,
        errors=errors,
    )


async def _http_handler(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    lang = language(request.headers.get("accept-language"))
    if exc.status_code == 404:
        code, title = "route_not_found", _title("route_not_found", lang)
    elif exc.status_code == 405:
        code, title = "method_not_allowed", _title("method_not_allowed", lang)
    else:
        code, title = f"http_{exc.status_code}", str(exc.detail)
    return problem_response(request, status=exc.status_code, code=code, title=title, headers=exc.headers)


async def _unhandled_handler(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    lang = language(request.headers.get("accept-language"))
    return problem_response(request, status=500, code="internal_error", title=_title("internal_error", lang))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_handler)
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(StarletteHTTPException, _http_handler)
    app.add_exception_handler(Exception, _unhandled_handler)


# What every service refuses alike (shared.dates.not_in_future)
DateInFuture = domain_error(
    "DateInFuture", 422, "date_in_future", "不能晚于当前时间",
    "Cannot be later than now (a date is an Asia/Shanghai date)",
)  # fmt: skip
OutOfScope = domain_error(
    "OutOfScope", 403, "out_of_scope", "该地区不在您的管辖范围内", "That region is outside your scope"
)
HouseholdNotFound = domain_error(
    "HouseholdNotFound", 404, "household_not_found", "未找到该贫困户", "Household not found"
)
CadreNotFound = domain_error("CadreNotFound", 404, "cadre_not_found", "未找到该帮扶干部", "Cadre not found")
CadreInactive = domain_error("CadreInactive", 422, "cadre_inactive", "该干部已停用", "This cadre is inactive")
