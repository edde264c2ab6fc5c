"""FastAPI dependencies every service shares.

They are `async def` on purpose: neither does blocking work (a Session connects lazily, in the
route that uses it), and FastAPI runs a plain `def` dependency in a worker thread, a hand-off
that costs more than the dependency itself on every request.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlmodel import Session

from services.common.runtime import ServiceRuntime


async def get_runtime(request: Request) -> ServiceRuntime[Any]:
    return request.app.state.runtime  # type: ignore[no-any-return]


async def get_session(request: Request) -> AsyncIterator[Session]:
    with Session(request.app.state.runtime.engine, expire_on_commit=False) as session:
        yield session


RuntimeDep = Annotated[ServiceRuntime[Any], Depends(get_runtime)]
SessionDep = Annotated[Session, Depends(get_session)]
