"""Issuing and revoking API tokens: progress is the issuer, since it knows the units from the tasks.

A token reads `lsp_<token_id>_<secret>`; the id lets the office name a token to revoke it
without ever seeing the secret again. Each issue and revocation is written to `auth_token` and
staged as `token.changed` in one transaction, so every service's copy follows (see
`services.common.identity`).
"""

from __future__ import annotations

import os
import secrets
from datetime import datetime, timedelta
from pathlib import Path

from sqlmodel import Session, col, func, or_, select

from proto.subjects import Subjects
from services.common.errors import ApiError
from services.common.identity import (
    ROLES,
    TOKEN_PREFIX,
    AuthToken,
    Principal,
    authenticate,
    hash_token,
    token_event,
    token_invalid,
)
from services.common.outbox import stage
from services.progress.models import ProgressUnit

PREFIX = TOKEN_PREFIX
__all__ = ["PREFIX", "ROLES", "Principal", "hash_token", "issue_token", "revoke_token", "token_invalid"]


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
    *,
    session: Session,
    subjects: Subjects,
    role: str,
    now: datetime,
    unit: str | None = None,
    post: str | None = None,
    label: str = "",
    valid_days: int | None = None,
) -> tuple[AuthToken, str, ProgressUnit | None]:
    """Create a token and commit it with its `token.changed`; the secret is returned once and never stored."""
    if role not in ROLES:
        raise ApiError(422, "role_unknown", f"未知角色 {role}", f"unknown role {role}")
    found = _bound_unit(session=session, role=role, unit=unit)
    if role == "supervisor" and not post:
        raise ApiError(422, "post_required", "督导领导令牌须指定职务（如 区长）", "a supervisor token needs a post")
    token_id = secrets.token_hex(6)
    secret = f"{PREFIX}{token_id}_{secrets.token_urlsafe(32)}"
    row = AuthToken(
        token_id=token_id,
        token_hash=hash_token(secret),
        role=role,
        unit_id=found.unit_id if found else None,
        post_id=post if role == "supervisor" else None,
        label=label or (found.name if found else post or role),
        created_at=now,
        expires_at=now + timedelta(days=valid_days) if valid_days else None,
    )
    session.add(row)
    stage(session, subjects.token_changed(token_id), token_event(row, source="progress"))
    session.commit()
    return row, secret, found


def _bound_unit(*, session: Session, role: str, unit: str | None) -> ProgressUnit | None:
    if role != "unit":
        return None
    if not unit:
        raise ApiError(422, "unit_required", "单位令牌须指定单位", "a unit token needs a unit")
    return resolve_unit(session=session, unit=unit)


def revoke_token(*, session: Session, subjects: Subjects, token_id: str, now: datetime) -> AuthToken:
    """Revoke a token and publish it; the last active office token stays, or nobody could issue tokens."""
    row = session.get(AuthToken, token_id)
    if row is None:
        raise ApiError(404, "token_not_found", f"未找到令牌 {token_id}", f"token {token_id} not found")
    if row.revoked_at is not None:
        return row
    if row.role == "office" and _active_office_tokens(session=session) <= 1:
        raise ApiError(
            409,
            "last_office_token",
            "不能吊销最后一个督查室令牌：请先签发新的督查室令牌",
            "the last office token cannot be revoked; issue another office token first",
        )
    row.revoked_at = now
    session.add(row)
    stage(session, subjects.token_changed(token_id), token_event(row, source="progress"))
    session.commit()
    return row


def _active_office_tokens(*, session: Session) -> int:
    stmt = select(func.count()).where(AuthToken.role == "office", col(AuthToken.revoked_at).is_(None))
    return int(session.exec(stmt).one())


def list_tokens(*, session: Session) -> list[AuthToken]:
    return list(session.exec(select(AuthToken).order_by(col(AuthToken.created_at))).all())


def local_office_token(*, session: Session, subjects: Subjects, path: Path, now: datetime) -> tuple[str, bool]:
    """The local runner's office token and whether it was made now: kept in a 0600 file beside the data.

    The database still holds only its hash; the file is what lets `luoshi up` use the same token
    at every start of one data folder without printing it again.
    """
    if path.exists():
        # A file written by an older version, or copied, may be readable by every local user.
        os.chmod(path, 0o600)
        token = path.read_text(encoding="utf-8").strip()
        principal = authenticate(session=session, token=token, now=now)
        if principal is not None and principal.role == "office":
            return token, False
    _row, token, _unit = issue_token(session=session, subjects=subjects, role="office", now=now, label="luoshi up")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        os.fchmod(handle.fileno(), 0o600)  # O_CREAT's mode does not apply to a file that exists
        handle.write(token + "\n")
    return token, True
