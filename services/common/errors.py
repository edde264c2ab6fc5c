"""Errors as users see them: a 4xx with a Chinese and an English message, never a bare 500."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
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

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        zh, en = _HTTP_TEXT.get(exc.status_code, ("请求错误", str(exc.detail)))
        return JSONResponse(error_body(f"http_{exc.status_code}", zh, en), status_code=exc.status_code)
