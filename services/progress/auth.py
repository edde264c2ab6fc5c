"""Who is calling: bearer tokens resolved to a principal, and the roles each route needs."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request
from sqlmodel import Session

from services.common.errors import ApiError
from services.progress.tokens import Principal, authenticate


def _token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _principal(request: Request, authorization: str | None) -> Principal:
    token = _token(authorization)
    if token is None:
        raise ApiError(
            401,
            "token_missing",
            "缺少令牌：请在 Authorization 头中提供 Bearer 令牌",
            "missing Authorization: Bearer token",
        )
    # A session of its own, closed at once, so no read transaction lingers into the write.
    with Session(request.app.state.runtime.engine) as session:
        principal = authenticate(session=session, token=token)
    if principal is None:
        raise ApiError(401, "token_invalid", "令牌无效或已被吊销", "the token is unknown or revoked")
    return principal


def get_principal(request: Request, authorization: str | None = Header(default=None)) -> Principal:
    return _principal(request, authorization)


def get_office(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    if principal.role != "office":
        raise ApiError(403, "office_only", "此操作仅限督查室", "only the supervision office may do this")
    return principal


def get_reader(request: Request, authorization: str | None = Header(default=None)) -> Principal | None:
    """Anyone when reads are public (PUBLIC_READS), else any valid token; a token given is always checked."""
    if authorization is None and request.app.state.runtime.settings.public_reads:
        return None
    return _principal(request, authorization)


PrincipalDep = Annotated[Principal, Depends(get_principal)]
OfficeDep = Annotated[Principal, Depends(get_office)]
ReaderDep = Annotated[Principal | None, Depends(get_reader)]
