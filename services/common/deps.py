"""FastAPI dependencies every service shares."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlmodel import Session

from services.common.runtime import ServiceRuntime


def get_runtime(request: Request) -> ServiceRuntime[Any]:
    return request.app.state.runtime  # type: ignore[no-any-return]


def get_session(request: Request) -> Iterator[Session]:
    with Session(get_runtime(request).engine, expire_on_commit=False) as session:
        yield session


RuntimeDep = Annotated[ServiceRuntime[Any], Depends(get_runtime)]
SessionDep = Annotated[Session, Depends(get_session)]
