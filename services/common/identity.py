"""Who is calling: API tokens and the principal they stand for, the same in every service.

Progress issues and revokes tokens (it knows the units from the tasks) and publishes each
change as `token.changed`; every service, progress included, keeps the `auth_token` table from
those events and checks a caller against its own copy, so no request crosses to another service
to be authenticated, and a revocation reaches every service within a message's time.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel, select

from proto.token import TokenChanged
from services.common.errors import ApiError
from services.common.timestamps import UtcDateTime

Role = Literal["office", "supervisor", "unit"]
ROLES: tuple[Role, ...] = ("office", "supervisor", "unit")
TOKEN_PREFIX = "lsp_"


class AuthToken(SQLModel, table=True):
    """An API token as this service knows it; only its sha256 is kept, so a leaked database leaks no token."""

    __tablename__ = "auth_token"

    token_id: str = Field(primary_key=True, max_length=16)
    token_hash: str = Field(unique=True, max_length=64)
    role: str = Field(max_length=20)
    unit_id: str | None = Field(default=None, index=True, max_length=64)
    post_id: str | None = Field(default=None, max_length=64)
    label: str = Field(default="", max_length=200)
    created_at: datetime = Field(sa_type=UtcDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: what routes authorise on and what the audit trail names."""

    token_id: str
    role: str
    unit_id: str | None = None
    post_id: str | None = None
    label: str = ""

    @property
    def actor(self) -> str:
        """How the audit trail names the caller: role, token id and whom the token stands for."""
        bound = self.unit_id or self.post_id
        return f"{self.role}:{self.token_id}" + (f":{bound}" if bound else "")


def hash_token(token: str) -> str:
    # The secret has 256 bits of entropy, so a plain digest is as strong as a slow password hash.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_invalid() -> ApiError:
    return ApiError(401, "token_invalid", "令牌无效、已过期或已被吊销", "the token is unknown, expired or revoked")


def token_missing() -> ApiError:
    return ApiError(
        401, "token_missing", "缺少令牌：请在 Authorization 头中提供 Bearer 令牌", "missing Authorization: Bearer token"
    )


def aware(moment: datetime | None) -> datetime | None:
    """SQLite hands datetimes back without their zone; every stored one is UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def principal_of(row: AuthToken) -> Principal:
    return Principal(token_id=row.token_id, role=row.role, unit_id=row.unit_id, post_id=row.post_id, label=row.label)


def usable(row: AuthToken | None, now: datetime) -> bool:
    if row is None or row.revoked_at is not None:
        return False
    expires = aware(row.expires_at)
    return expires is None or now < expires


def authenticate(*, session: Session, token: str, now: datetime) -> Principal | None:
    """The holder of an active token, or None for an unknown, expired or revoked one."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = session.exec(select(AuthToken).where(AuthToken.token_hash == hash_token(token))).first()
    return principal_of(row) if row is not None and usable(row, now) else None


def token_event(row: AuthToken, *, source: str) -> TokenChanged:
    # A deterministic id per state, so re-staging the same state is dropped by the stream.
    state = "revoked" if row.revoked_at is not None else "issued"
    return TokenChanged(
        event_id=f"token-{row.token_id}-{state}",
        source=source,
        token_id=row.token_id,
        token_hash=row.token_hash,
        role=row.role,
        unit_id=row.unit_id,
        post_id=row.post_id,
        label=row.label,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
    )


def apply_token_event(*, session: Session, event: TokenChanged) -> bool:
    """Keep this service's copy of a token; True when a token was revoked.

    Idempotent and order-proof: a revocation is never undone by an older `issued` message.
    """
    row = session.get(AuthToken, event.token_id)
    if row is None:
        row = AuthToken(
            token_id=event.token_id,
            token_hash=event.token_hash,
            role=event.role,
            unit_id=event.unit_id,
            post_id=event.post_id,
            label=event.label,
            created_at=event.created_at,
            expires_at=event.expires_at,
        )
    revoked = row.revoked_at is None and event.revoked_at is not None
    if revoked:
        row.revoked_at = event.revoked_at
    session.add(row)
    session.commit()
    return revoked


@dataclass(frozen=True)
class _Cached:
    principal: Principal
    expires_at: datetime | None


class TokenCache:
    """Active tokens by their hash, so checking a caller costs no database round trip.

    A revocation that arrives as an event is forgotten at once (`forget`); what the cache holds
    is bounded, and cleared whole when full, since tokens are few.
    """

    def __init__(self, engine: Engine, limit: int = 10_000) -> None:
        self._engine = engine
        self._limit = limit
        self._by_hash: dict[str, _Cached] = {}

    def lookup(self, token: str, now: datetime) -> Principal | None:
        """The principal of `token`, from the cache or the database (a blocking read)."""
        digest = hash_token(token)
        found = self._by_hash.get(digest)
        if found is None:
            found = self._load(token)
            if found is None:
                return None
            if len(self._by_hash) >= self._limit:
                self._by_hash.clear()
            self._by_hash[digest] = found
        if found.expires_at is not None and now >= found.expires_at:
            return None
        return found.principal

    def _load(self, token: str) -> _Cached | None:
        if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            return None
        with Session(self._engine) as session:
            row = session.exec(select(AuthToken).where(AuthToken.token_hash == hash_token(token))).first()
        if row is None or row.revoked_at is not None:
            return None
        return _Cached(principal_of(row), aware(row.expires_at))

    def forget(self, token_id: str) -> None:
        for digest, cached in list(self._by_hash.items()):
            if cached.principal.token_id == token_id:
                del self._by_hash[digest]
