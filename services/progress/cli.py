"""`luoshi token …`: issue, list and revoke API tokens against the progress database."""

from __future__ import annotations

from pathlib import Path

import typer
from fastapi import FastAPI
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import Engine
from sqlmodel import Session

from proto.subjects import Subjects
from services.common.clock import SystemClock
from services.common.db import make_engine
from services.common.errors import ApiError
from services.common.migrations import COMMON_TABLES, upgrade
from services.progress.models import TABLES
from services.progress.settings import ProgressSettings
from services.progress.tokens import ROLES, issue_token, list_tokens, local_office_token, revoke_token

app = typer.Typer(
    help="API 令牌 / API tokens: units report, the office decides, supervisors read.", no_args_is_help=True
)
err = Console(stderr=True, soft_wrap=True)

OFFICE_TOKEN_FILE = "office-token"

DATA = typer.Option(
    None, "--data", help="Folder of the SQLite files (as `luoshi up --data`); default from LUOSHI_PROGRESS_DATA_DIR."
)


def _settings(data: Path | None) -> ProgressSettings:
    # LUOSHI_PROGRESS_DATABASE_URL still wins, so the same command works against PostgreSQL.
    return ProgressSettings(data_dir=data) if data is not None else ProgressSettings()


def _engine(data: Path | None) -> Engine:
    engine = make_engine(_settings(data).resolved_database_url())
    upgrade(engine, "progress", [*COMMON_TABLES, *TABLES])
    return engine


def _subjects(data: Path | None) -> Subjects:
    # The token.changed event waits in the outbox until the progress service runs and sends it.
    return Subjects(_settings(data).subject_root)


def _fail(exc: ApiError) -> None:
    err.print(f"[red]✗ {exc.zh}[/red] / {exc.en}")
    raise typer.Exit(1)


@app.command()
def issue(
    unit: str | None = typer.Option(None, "--unit", help="The unit's name or id (a unit token)."),
    role: str = typer.Option("unit", help=f"One of {', '.join(ROLES)}."),
    post: str | None = typer.Option(None, "--post", help="The post a supervisor token is tied to (区长…)."),
    label: str = typer.Option("", help="Who holds the token."),
    days: int | None = typer.Option(None, "--days", min=1, help="Days until the token expires (default: never)."),
    data: Path | None = DATA,
) -> None:
    """Issue a token and print it (only this once) on standard output."""
    engine = _engine(data)
    try:
        with Session(engine, expire_on_commit=False) as session:
            row, secret, found = issue_token(
                session=session,
                subjects=_subjects(data),
                role=role,
                unit=unit,
                post=post,
                label=label,
                valid_days=days,
                now=SystemClock().now(),
            )
    except ApiError as exc:
        _fail(exc)
        return
    finally:
        engine.dispose()
    who = f"{found.name}（{found.unit_id}）" if found else (post or role)
    err.print(f"[green]✓[/green] 已签发令牌 {row.token_id} 给 {who}；请妥善保存，仅显示这一次 / shown only once")
    typer.echo(secret)


@app.command("list")
def list_(data: Path | None = DATA) -> None:
    """List tokens (never their secrets)."""
    engine = _engine(data)
    with Session(engine, expire_on_commit=False) as session:
        rows = list_tokens(session=session)
    engine.dispose()
    table = Table(
        "令牌 / id",
        "角色 / role",
        "单位或职务 / unit or post",
        "持有人 / label",
        "签发 / created",
        "到期 / expires",
        "吊销 / revoked",
    )
    for r in rows:
        table.add_row(
            r.token_id,
            r.role,
            r.unit_id or r.post_id or "",
            r.label,
            f"{r.created_at:%Y-%m-%d %H:%M}",
            f"{r.expires_at:%Y-%m-%d}" if r.expires_at else "",
            f"{r.revoked_at:%Y-%m-%d %H:%M}" if r.revoked_at else "",
        )
    Console().print(table)


@app.command()
def revoke(
    token_id: str = typer.Argument(help="The token id (the part after lsp_)."), data: Path | None = DATA
) -> None:
    """Revoke a token: its holder gets 401 from then on."""
    engine = _engine(data)
    try:
        with Session(engine, expire_on_commit=False) as session:
            revoke_token(session=session, subjects=_subjects(data), token_id=token_id, now=SystemClock().now())
    except ApiError as exc:
        _fail(exc)
    finally:
        engine.dispose()
    err.print(f"[green]✓[/green] 已吊销 / revoked {token_id}")


def office_token_for_up(progress: FastAPI, data: Path) -> tuple[str, bool]:
    """The office token of `luoshi up` (the same at every start on one data folder), and whether it is new."""
    runtime = progress.state.runtime
    with progress.state.write_gate, Session(runtime.engine) as session:
        found = local_office_token(
            session=session, subjects=runtime.subjects, path=data / OFFICE_TOKEN_FILE, now=runtime.clock.now()
        )
    runtime.relay.kick()
    return found
