"""`luoshi directory …`: import and export the unit and leader directory of the registry's database."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from sqlmodel import Session

from proto.subjects import Subjects
from services.common.clock import SystemClock
from services.common.db import make_engine
from services.common.errors import ApiError
from services.common.migrations import COMMON_TABLES, upgrade
from services.registry.directory_io import export_directory, import_directory, render_directory
from services.registry.settings import RegistrySettings

app = typer.Typer(help="单位与领导目录：导入、导出 / the unit and leader directory.", no_args_is_help=True)
console = Console()
err = Console(stderr=True, soft_wrap=True)


def _settings(data: Path | None, database_url: str | None) -> RegistrySettings:
    overrides: dict[str, object] = {}
    if data is not None:
        overrides["data_dir"] = data
    if database_url:
        overrides["database_url"] = database_url
    return RegistrySettings(**overrides)  # type: ignore[arg-type]


def _engine(settings: RegistrySettings):  # type: ignore[no-untyped-def]
    from services.registry.app import TABLES

    engine = make_engine(settings.resolved_database_url())
    upgrade(engine, "registry", [*COMMON_TABLES, *TABLES])
    return engine


def _format(path: Path | None, fmt: str | None) -> str:
    if fmt:
        return fmt
    return "csv" if path is not None and path.suffix.lower() == ".csv" else "yaml"


@app.command("import")
def import_(
    file: Path = typer.Argument(help="A directory file, .yaml/.yml or .csv", exists=True, dir_okay=False),
    data: Path | None = typer.Option(None, help="Folder of the SQLite files (as for `luoshi up`); default var."),
    database_url: str | None = typer.Option(None, help="The registry's database URL instead of --data."),
    fmt: str | None = typer.Option(None, "--format", help="yaml or csv; default from the file name."),
    user: str = typer.Option("office", help="Who imports, for the record."),
) -> None:
    """Import units, groups and posts; tasks whose units or leaders now resolve differently are republished."""
    settings = _settings(data, database_url)
    engine = _engine(settings)
    try:
        with Session(engine, expire_on_commit=False) as session:
            report = import_directory(
                session,
                Subjects(settings.subject_root),
                file.read_text(encoding="utf-8-sig"),
                _format(file, fmt),
                now=SystemClock().now(),
                zone=settings.zone,
                actor=user,
            )
    except ApiError as exc:
        err.print(f"[red]✗ {exc.zh}[/red] / {exc.en}")
        if exc.detail:
            err.print(exc.detail)
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    console.print(
        f"[green]✓[/green] 已导入 {report.units} 个单位、{report.groups} 个群组、{report.posts} 个职务；"
        f"{report.republished} 项任务将重新发布 / imported; {report.republished} tasks republished"
    )


@app.command("export")
def export(
    data: Path | None = typer.Option(None, help="Folder of the SQLite files; default var."),
    database_url: str | None = typer.Option(None, help="The registry's database URL instead of --data."),
    fmt: str | None = typer.Option(None, "--format", help="yaml or csv; default from --out, else yaml."),
    out: Path | None = typer.Option(None, help="Write to this file instead of standard output."),
) -> None:
    """Export the confirmed directory (provisional units are left out)."""
    engine = _engine(_settings(data, database_url))
    try:
        with Session(engine) as session:
            text = render_directory(export_directory(session), _format(out, fmt))
    finally:
        engine.dispose()
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        console.print(f"已写入 / written: {out}")
