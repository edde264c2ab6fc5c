"""Errors as users see them: a 4xx with a Chinese and an English message, never a bare 500."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)


class ApiError(Exception):
    def __init__(self, status: int, code: str, zh: str, en: str, detail: Any = None) -> None:
        super().__init__(en)
        self.status = status
        self.code = code
        self.zh = zh
        self.en = en
        self.detail = detail


def error_body(code: str, zh: str, en: str, detail: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": f"{zh} / {en}", "message_zh": zh, "message_en": en}
    if detail is not None:
        body["detail"] = detail
    return {"error": body}


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable machine code, e.g. `invalid_request`, `task_not_found`.")
    message: str = Field(description="`message_zh / message_en`.")
    message_zh: str
    message_en: str
    detail: Any = Field(default=None, description="Where and what, for `invalid_request`: a list of {where, problem}.")


class ErrorResponse(BaseModel):
    """Every 4xx (and the rare 5xx) of every service has this body."""

    error: ErrorDetail


_HTTP_TEXT = {
    404: ("未找到", "not found"),
    405: ("不支持该请求方法", "method not allowed"),
    413: ("请求内容过大", "request too large"),
    415: ("不支持的内容类型", "unsupported media type"),
}


# What each error status means, for OpenAPI; the body is always `ErrorResponse`.
_STATUS_TEXT = {
    400: "The body could not be read as the declared content type (`http_400`).",
    401: "No token, or an unknown, expired or revoked one (`token_missing`, `token_invalid`).",
    403: "The caller's role may not do this, or not for this unit (`role_forbidden`).",
    404: "No such object (`task_not_found`, `notice_not_found`, …).",
    409: "The object's state refuses the change (`task_closed`, `already_decided`, an Idempotency-Key reused with another body, …).",
    412: "`If-Match` names an older version of the object (`etag_mismatch`; `detail.etag` is the current one).",
    413: "The body, or a field of it, is larger than the route takes (`too_large`, …).",
    422: "The request is not valid (`invalid_request` with `detail`: a list of {where, problem}, or the route's own code).",
    428: "The route needs an `If-Match` header (`if_match_required`).",
    500: "An unexpected failure (`internal_error`); `detail.request_id` is the `X-Request-Id` to quote when reporting it.",
}
_WRITES = {"post", "put", "patch", "delete"}


def _error_statuses(operation: dict[str, Any], method: str) -> list[int]:
    """The error statuses an operation can answer, read from what it declares."""
    params = operation.get("parameters", [])
    statuses = [500]
    if operation.get("security"):  # an `Access` other than PUBLIC puts its bearer scheme here
        statuses += [401, 403]
    if any(p.get("in") == "path" for p in params):
        statuses.append(404)
    if method in _WRITES:
        statuses.append(409)
    if any(p.get("in") == "header" and p.get("name", "").lower() == "if-match" for p in params):
        statuses += [412, 428]
    if "requestBody" in operation:
        statuses += [400, 413]
    if params or "requestBody" in operation:
        statuses.append(422)
    return sorted(statuses)


def document_error_responses(app: FastAPI) -> None:
    """Document each operation's error answers in OpenAPI with the body they really have.

    FastAPI documents its own `{detail}` body for 422, which `install_error_handlers` replaces;
    an answer a route declares itself with another body is left as it is.
    """
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        body = ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(body.pop("$defs", {}))
        components["ErrorResponse"] = body
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        content = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}
        for item in schema.get("paths", {}).values():
            for method, operation in item.items():
                responses = operation.setdefault("responses", {})
                for status in _error_statuses(operation, method):
                    known = responses.get(str(status), {})
                    if "content" not in known or status == 422:
                        responses[str(status)] = {"description": _STATUS_TEXT[status], "content": content}
                # Any other refusal (a route's own 4xx) still has this body.
                responses["4XX"] = {"description": "Another refusal, with the same bilingual body.", "content": content}
                operation["responses"] = dict(sorted(responses.items()))
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def install_error_handlers(app: FastAPI) -> None:
    document_error_responses(app)

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.zh, exc.en, exc.detail), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {"where": ".".join(str(p) for p in err.get("loc", ())), "problem": err.get("msg", "")}
            for err in exc.errors()
        ]
        return JSONResponse(
            error_body("invalid_request", "请求内容不正确", "the request is not valid", problems),
            status_code=422,
        )

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        # The last resort: Starlette logs and re-raises the exception after this answer is sent.
        return JSONResponse(
            error_body("internal_error", "服务内部错误，请稍后重试", "internal error, please retry later"),
            status_code=500,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        zh, en = _HTTP_TEXT.get(exc.status_code, ("请求错误", str(exc.detail)))
        return JSONResponse(error_body(f"http_{exc.status_code}", zh, en), status_code=exc.status_code)
