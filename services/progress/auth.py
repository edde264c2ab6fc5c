"""Who is calling: bearer tokens resolved to a principal, and the roles each route needs."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Engine
from sqlmodel import Session

from services.common.errors import ApiError
from services.progress.tokens import Principal, authenticate, hash_token, token_invalid

# Declared as a security scheme, so OpenAPI shows it; it reads the header itself, which costs less
# per request than a `Header()` parameter through FastAPI's parameter validation.
_bearer = HTTPBearer(auto_error=False, description="A token issued by the office (`luoshi token issue`).")
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def _token(credentials: HTTPAuthorizationCredentials | None) -> str:
    return _required(credentials.credentials if credentials is not None else "")


def _required(token: str) -> str:
    token = token.strip()
    if not token:
        raise ApiError(
            401,
            "token_missing",
            "缺少令牌：请在 Authorization 头中提供 Bearer 令牌",
            "missing Authorization: Bearer token",
        )
    return token


def _lookup(engine: Engine, token: str) -> Principal | None:
    # A session of its own, closed at once, so no read transaction lingers into the write.
    with Session(engine) as session:
        return authenticate(session=session, token=token)


def _principal(request: Request, token: str) -> Principal:
    principal = _lookup(request.app.state.runtime.engine, token)
    if principal is None:
        raise token_invalid()
    return principal


class TokenCache:
    """Active tokens by their hash, so a report's authentication costs no database round trip.

    Only the report route uses it, and the report writer checks every token again inside the
    transaction that records the report: a token revoked by another process (`luoshi token
    revoke`) is refused there; one revoked through this service is forgotten at once.
    """

    def __init__(self, engine: Engine, limit: int = 10_000) -> None:
        self._engine = engine
        self._limit = limit
        self._by_hash: dict[str, Principal] = {}

    async def principal(self, token: str) -> Principal | None:
        digest = hash_token(token)
        found = self._by_hash.get(digest)
        if found is None:
            found = await asyncio.to_thread(_lookup, self._engine, token)
            if found is not None:
                if len(self._by_hash) >= self._limit:
                    self._by_hash.clear()
                self._by_hash[digest] = found
        return found

    def forget(self, token_id: str) -> None:
        for digest, principal in list(self._by_hash.items()):
            if principal.token_id == token_id:
                del self._by_hash[digest]


async def get_reporter(request: Request) -> Principal:
    """The principal of a report, from the token cache; the writer re-checks the token as it records.

    The busiest route reads its header itself: a nested `HTTPBearer` dependency cost a third of
    the route's FastAPI time (each dependency level resolves path, query, header and cookie
    parameters again). The route declares the same bearer scheme for OpenAPI (`BEARER_SECURITY`).
    """
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    token = _required(credentials if scheme.lower() == "bearer" else "")
    cache: TokenCache = request.app.state.token_cache
    principal = await cache.principal(token)
    if principal is None:
        raise token_invalid()
    return principal


async def get_principal(request: Request, credentials: BearerDep) -> Principal:
    return await asyncio.to_thread(_principal, request, _token(credentials))


async def get_office(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    if principal.role != "office":
        raise ApiError(403, "office_only", "此操作仅限督查室", "only the supervision office may do this")
    return principal


async def get_reader(request: Request, credentials: BearerDep) -> Principal | None:
    """Anyone when reads are public (PUBLIC_READS), else any valid token; a token given is always checked."""
    if "authorization" not in request.headers and request.app.state.runtime.settings.public_reads:
        return None
    return await asyncio.to_thread(_principal, request, _token(credentials))


PrincipalDep = Annotated[Principal, Depends(get_principal)]
ReporterDep = Annotated[Principal, Depends(get_reporter)]
# What `_bearer` puts in OpenAPI, for a route that reads the header itself.
BEARER_SECURITY: dict[str, Any] = {"security": [{"HTTPBearer": []}]}
OfficeDep = Annotated[Principal, Depends(get_office)]
ReaderDep = Annotated[Principal | None, Depends(get_reader)]
