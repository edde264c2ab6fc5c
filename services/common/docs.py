"""Each service's Swagger UI and ReDoc pages, with their scripts served by the service itself.

FastAPI's own pages load swagger-ui and redoc from a CDN, which a government network often cannot
reach; the `fastapi-offline` package ships the same files, installed with Luoshi. Every URL in a
page starts with the request's root path, so the pages work mounted under /api/<service> in the
local gateway and behind the compose proxy (`luoshi serve --root-path`). They are public: they
show the API's shape, no data, as /openapi.json already does.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from services.common.access import PUBLIC

ASSETS_PATH = "/docs-assets"


def assets_dir() -> Path:
    return Path(str(resources.files("fastapi_offline").joinpath("static")))


def _root(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")


def docs_router(title: str) -> APIRouter:
    router = APIRouter(include_in_schema=False, dependencies=[Depends(PUBLIC)])

    @router.get("/docs")
    def swagger(request: Request) -> HTMLResponse:
        root = _root(request)
        return get_swagger_ui_html(
            openapi_url=f"{root}/openapi.json",
            title=f"{title} — Swagger UI",
            swagger_js_url=f"{root}{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_PATH}/favicon.png",
        )

    @router.get("/redoc")
    def redoc(request: Request) -> HTMLResponse:
        root = _root(request)
        return get_redoc_html(
            openapi_url=f"{root}/openapi.json",
            title=f"{title} — ReDoc",
            redoc_js_url=f"{root}{ASSETS_PATH}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS_PATH}/favicon.png",
            with_google_fonts=False,
        )

    return router


def install_docs_assets(app: FastAPI) -> None:
    """Serve the pages' scripts and styles; the pages are `docs_router`'s (the app has docs_url=None)."""
    app.mount(ASSETS_PATH, StaticFiles(directory=assets_dir()), name="docs-assets")
