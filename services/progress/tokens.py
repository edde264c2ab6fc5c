"""Per-unit API tokens: issued by the office, stored as sha256 only, revocable.

A token reads `lsp_<token_id>_<secret>`; the id lets the office name a token to revoke it
without ever seeing the secret again.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlmodel import Session, or_, select

from services.common.errors import ApiError
from services.progress.models import ProgressToken, ProgressUnit

PREFIX = "lsp_"
ROLES = ("unit", "office", "supervisor")


@dataclass(frozen=True)
class Principal:
    token_id: str
    role: str
    unit_id: str | None


def token_invalid() -> ApiError:
    return ApiError(401, "token_invalid", "令牌无效或已被吊销", "the token is unknown or revoked")


def hash_token(token: str) -> str:
    # The secret has 256 bits of entropy, so a plain digest is as strong as a slow password hash.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def resolve_unit(*, session: Session, unit: str) -> ProgressUnit:
    """A unit by id, name or canonical name; the unit must be known from a task."""
    found = session.get(ProgressUnit, unit)
    if found is not None:
        return found
    matches = session.exec(
        select(ProgressUnit).where(or_(ProgressUnit.name == unit, ProgressUnit.canonical == unit))
    ).all()
    if not matches:
        raise ApiError(
            404,
            "unit_unknown",
            f"未知单位 {unit}：单位须出现在已登记任务的主办或协办单位中",
            f"unknown unit {unit}: it must be a host or co-unit of a registered task",
        )
    if len(matches) > 1:
        ids = ", ".join(m.unit_id for m in matches)
        raise ApiError(
            409, "unit_ambiguous", f"单位名称 {unit} 对应多个单位，请用编号：{ids}", f"{unit} is ambiguous: {ids}"
        )
    return matches[0]


def issue_token(
    *, session: Session, role: str, now: datetime, unit: str | None = None, label: str = ""
) -> tuple[ProgressToken, str, ProgressUnit | None]:
    """Create a token and commit; the secret is returned once and never stored."""
    if role not in ROLES:
        raise ApiError(422, "role_unknown", f"未知角色 {role}", f"unknown role {role}")
    found: ProgressUnit | None = None
    if role == "unit":
        if not unit:
            raise ApiError(422, "unit_required", "单位令牌须指定单位", "a unit token needs a unit")
        found = resolve_unit(session=session, unit=unit)
    token_id = secrets.token_hex(6)
    secret = f"{PREFIX}{token_id}_{secrets.token_urlsafe(32)}"
    row = ProgressToken(
        token_id=token_id,
        token_hash=hash_token(secret),
        role=role,
        unit_id=found.unit_id if found else None,
        label=label or (found.name if found else role),
        created_at=now,
    )
    session.add(row)
    session.commit()
    return row, secret, found


def revoke_token(*, session: Session, token_id: str, now: datetime) -> ProgressToken:
    row = session.get(ProgressToken, token_id)
    if row is None:
        raise ApiError(404, "token_not_found", f"未找到令牌 {token_id}", f"token {token_id} not found")
    if row.revoked_at is None:
        row.revoked_at = now
        session.add(row)
        session.commit()
    return row


def list_tokens(*, session: Session) -> list[ProgressToken]:
    return list(session.exec(select(ProgressToken).order_by(ProgressToken.created_at)).all())  # type: ignore[arg-type]


def authenticate(*, session: Session, token: str) -> Principal | None:
    """The holder of an active token, or None for an unknown or revoked one."""
    if not token.startswith(PREFIX):
        return None
    row = session.exec(select(ProgressToken).where(ProgressToken.token_hash == hash_token(token))).first()
    if row is None or row.revoked_at is not None:
        return None
    return Principal(token_id=row.token_id, role=row.role, unit_id=row.unit_id)


def local_office_token(*, session: Session, path: Path, now: datetime) -> str:
    """The local runner's office token: kept in a 0600 file beside the data, re-issued if revoked.

    The database still holds only its hash; the file is what lets `luoshi up` show the same
    token at every start of one data folder.
    """
    if path.exists():
        # A file written by an older version, or copied, may be readable by every local user.
        os.chmod(path, 0o600)
        token = path.read_text(encoding="utf-8").strip()
        principal = authenticate(session=session, token=token)
        if principal is not None and principal.role == "office":
            return token
    _row, token, _unit = issue_token(session=session, role="office", now=now, label="luoshi up")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        os.fchmod(handle.fileno(), 0o600)  # O_CREAT's mode does not apply to a file that exists
        handle.write(token + "\n")
    return token
