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


def install_error_handlers(app: FastAPI) -> None:
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


def document_errors(app: FastAPI) -> None:
    """Give every operation's 422 and any other 4xx the error body it really has in OpenAPI.

    FastAPI documents its own `{detail}` body for 422, which our handler above replaces.
    """
    build = app.openapi

    def openapi() -> dict[str, Any]:
        schema = build()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        if "ErrorResponse" in components:
            return schema
        body = ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(body.pop("$defs", {}))
        components["ErrorResponse"] = body
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        answer = {
            "description": "Bad input, unknown object or refused action: the bilingual error body.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}},
        }
        for item in schema.get("paths", {}).values():
            for operation in item.values():
                responses = operation.setdefault("responses", {})
                responses.pop("422", None)
                responses["4XX"] = answer
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
