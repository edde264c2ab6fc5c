"""`luoshi dlq`: the office's operator reads dead letters and replays them once the cause is fixed."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import nats
import typer
from nats.js.errors import NotFoundError
from pydantic_settings import SettingsConfigDict
from rich.console import Console
from rich.table import Table

from proto.subjects import Subjects
from services.common.deadletters import DeadLetters, Letter
from services.common.natsauth import OPERATOR, inbox_prefix
from services.common.natscreds import NatsCredentials
from services.common.settings import ServiceSettings

app = typer.Typer(help="死信 / dead letters: list, show and replay.", no_args_is_help=True)
console = Console()
T = TypeVar("T")

DATA = typer.Option(Path("var"), help="`luoshi up`'s folder: the operator's password is read from it if not set.")
NATS_URL = typer.Option(None, help="NATS server; default LUOSHI_OPERATOR_NATS_URL or nats://127.0.0.1:4222.")
ROOT = typer.Option(None, help="Subject root; default LUOSHI_OPERATOR_SUBJECT_ROOT or luoshi.")


class OperatorSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="LUOSHI_OPERATOR_", extra="ignore")

    service_name: str = OPERATOR


def _credentials(settings: OperatorSettings, data: Path) -> NatsCredentials | None:
    """From the environment, else the password `luoshi up` made; None for a server without users."""
    found = settings.nats_credentials()
    local = data / "nats-auth" / f"{OPERATOR}.password"
    if found is None and local.is_file():
        found = NatsCredentials(OPERATOR, local.read_text(encoding="utf-8").strip())
    return found


@asynccontextmanager
async def _dead_letters(data: Path, nats_url: str | None, root: str | None) -> AsyncIterator[DeadLetters]:
    settings = OperatorSettings()
    creds = _credentials(settings, data)
    auth: dict[str, Any] = {}
    if creds is not None:
        auth = {"user": creds.user, "password": creds.password, "inbox_prefix": inbox_prefix(creds.user)}
    conn = await nats.connect(nats_url or settings.nats_url, allow_reconnect=False, **auth)
    try:
        yield DeadLetters(conn.jetstream(), Subjects(root or settings.subject_root))
    finally:
        await conn.close()


def _run(data: Path, nats_url: str | None, root: str | None, work: Callable[[DeadLetters], Awaitable[T]]) -> T:
    async def main() -> T:
        async with _dead_letters(data, nats_url, root) as letters:
            return await work(letters)

    return asyncio.run(main())


@app.command("list")
def list_(
    service: str | None = typer.Option(None, help="Only this service's dead letters (ingest, registry, …)."),
    limit: int = typer.Option(100, help="At most this many, oldest first."),
    data: Path = DATA,
    nats_url: str | None = NATS_URL,
    root: str | None = ROOT,
) -> None:
    """List dead letters: sequence, when, consumer, subject and error."""
    letters = _run(data, nats_url, root, lambda dl: dl.list(service, limit))
    table = Table("seq", "when (UTC)", "consumer", "subject", "error")
    for item in letters:
        when = item.at.strftime("%Y-%m-%d %H:%M:%S") if item.at else ""
        if item.letter is None:
            table.add_row(str(item.seq), when, "", item.dlq_subject, "(not a dead letter)")
        else:
            table.add_row(str(item.seq), when, item.letter.consumer, item.letter.subject, item.letter.error[:100])
    console.print(table)
    console.print(f"{len(letters)} 条死信 / dead letters")


@app.command()
def show(
    seq: int = typer.Argument(..., help="The dead letter's sequence (from `luoshi dlq list`)."),
    data: Path = DATA,
    nats_url: str | None = NATS_URL,
    root: str | None = ROOT,
) -> None:
    """Print one dead letter in full, its payload as JSON."""
    item = _get(data, nats_url, root, seq)
    if item.letter is None:
        typer.echo(item.raw.decode("utf-8", "replace"))
        return
    shown = item.letter.model_dump(mode="json")
    with contextlib.suppress(ValueError):  # a payload that is not even JSON is shown as it came
        shown["payload"] = json.loads(item.letter.payload)
    shown["seq"] = item.seq
    typer.echo(json.dumps(shown, ensure_ascii=False, indent=2))


@app.command()
def replay(
    seqs: list[int] = typer.Argument(None, help="Sequences to replay (from `luoshi dlq list`)."),
    all_: bool = typer.Option(False, "--all", help="Replay every dead letter (up to --limit)."),
    service: str | None = typer.Option(None, help="With --all: only this service's."),
    limit: int = typer.Option(1000, help="With --all: at most this many."),
    keep: bool = typer.Option(False, help="Keep the dead letters after replaying them."),
    force: bool = typer.Option(False, help="Replay invalid payloads too (they come straight back)."),
    data: Path = DATA,
    nats_url: str | None = NATS_URL,
    root: str | None = ROOT,
) -> None:
    """Publish each dead event again to its own subject, then delete its dead letter."""
    if bool(seqs) == all_:
        raise typer.BadParameter("give sequences or --all / 给出序号或 --all")

    async def work(dl: DeadLetters) -> int:
        letters = await dl.list(service, limit) if all_ else [await dl.get(seq) for seq in seqs]
        replayed = 0
        for item in letters:
            if item.letter is None or (item.poison and not force):
                why = "not a dead letter" if item.letter is None else "invalid payload: fix it upstream, or --force"
                console.print(f"[yellow]- {item.seq} skipped[/yellow] / {why}")
                continue
            stored = await dl.replay(item, keep=keep)
            note = "" if stored else " (already replayed within the duplicate window)"
            console.print(f"[green]✓ {item.seq}[/green] → {item.letter.subject}{note}")
            replayed += 1
        return replayed

    try:
        count = _run(data, nats_url, root, work)
    except NotFoundError as exc:
        raise typer.BadParameter(f"no such dead letter / 无此死信: {exc}") from exc
    console.print(f"{count} 条已重放 / replayed")


def _get(data: Path, nats_url: str | None, root: str | None, seq: int) -> Letter:
    try:
        return _run(data, nats_url, root, lambda dl: dl.get(seq))
    except NotFoundError as exc:
        raise typer.BadParameter(f"no dead letter {seq} / 无此死信") from exc
