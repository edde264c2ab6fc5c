"""The `luoshi` command: run everything locally, serve one service, parse a notice."""

from __future__ import annotations

import asyncio
import importlib
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from proto.subjects import DEFAULT_ROOT, Subjects
from services import migrate_cli, natscli
from services.common import heap
from services.common.clock import SystemClock
from services.common.natscreds import NatsCredentials, local_server_auth
from services.common.natsserver import NatsServer, end_orphan, free_port, port_is_free, supervise
from services.dlqcli import app as dlq_app
from services.ingest.example import EXAMPLE_FILE, example_notice
from services.progress import cli as progress_cli
from services.registry.cli import app as directory_app

if TYPE_CHECKING:
    import httpx

    from proto.notice import ParsedNotice

app = typer.Typer(help="落实 Luoshi：把任务分解通知变成可跟踪的工作。", no_args_is_help=True, add_completion=False)
app.add_typer(progress_cli.app, name="token")
app.add_typer(directory_app, name="directory")
app.add_typer(natscli.app, name="nats")
app.add_typer(dlq_app, name="dlq")
app.command("migrate")(migrate_cli.migrate)
console = Console()
err = Console(stderr=True, soft_wrap=True)

DEFAULT_PORT = 8000
DEFAULT_NATS_PORT = 4222
NATS_AUTH_DIR = "nats-auth"


def _fail(zh: str, en: str) -> None:
    err.print(f"[red]✗ {zh}[/red] / {en}")
    raise typer.Exit(1)


@app.command()
def up(
    port: int | None = typer.Option(
        None, help=f"HTTP port of the one origin (/api/…); default {DEFAULT_PORT}, or a free one if it is taken."
    ),
    nats_port: int | None = typer.Option(
        None, help=f"Port of the embedded nats-server; default {DEFAULT_NATS_PORT}, or a free one if it is taken."
    ),
    data: Path = typer.Option(Path("var"), help="Folder for the NATS store and the SQLite files."),
    nats_url: str | None = typer.Option(None, help="Use this running NATS server instead of starting one."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    example: bool = typer.Option(True, help="Load the bundled example notice at start."),
) -> None:
    """Run the whole system locally: nats-server, the four services and the example notice."""
    port = _pick_port(port, DEFAULT_PORT, host, "--port")
    nats: NatsServer | None = None
    credentials: dict[str, NatsCredentials] | None = None  # with --nats-url, each service's environment
    try:
        if nats_url is None:
            nats, credentials = _start_nats(data, nats_port)
            nats_url = nats.url
        asyncio.run(
            _serve_all(
                host=host, port=port, nats_url=nats_url, data=data, example=example, credentials=credentials, nats=nats
            )
        )
    except KeyboardInterrupt:
        pass
    finally:
        if nats is not None:
            nats.stop()  # only now: the services have drained their NATS connections
        console.print("已停止 / stopped")


def _pick_port(asked: int | None, default: int, host: str, option: str) -> int:
    """The port asked for (refused if taken), else the default, else any free one, said aloud."""
    if asked is not None:
        if not port_is_free(asked, host):
            _fail(
                f"端口 {asked} 已被占用，请用 {option} 换一个端口",
                f"port {asked} is already in use; pick another with {option}",
            )
        return asked
    if port_is_free(default, host):
        return default
    chosen = free_port(host)
    console.print(
        f"[yellow]![/yellow] 端口 {default} 已被占用，改用 {chosen} / port {default} is taken, using {chosen} ({option} to choose)"
    )
    return chosen


def _start_nats(data: Path, nats_port: int | None) -> tuple[NatsServer, dict[str, NatsCredentials]]:
    data.mkdir(parents=True, exist_ok=True)
    store = data / "nats"
    nats = NatsServer(0, store, log_file=data / "nats-server.log", owned=True)
    orphan = end_orphan(nats.pid_file)
    if orphan is not None:
        console.print(
            f"[yellow]![/yellow] 已结束上次遗留的 nats-server（进程 {orphan}）/ ended the nats-server left running by an earlier start"
        )
    nats.port = _pick_port(nats_port, DEFAULT_NATS_PORT, nats.host, "--nats-port")
    nats.config, credentials = local_server_auth(data / NATS_AUTH_DIR, Subjects(DEFAULT_ROOT))
    with console.status("正在启动 nats-server… / starting nats-server…"):
        nats.start()
    console.print(f"[green]✓[/green] nats-server（JetStream）: {nats.url}，数据目录 {store}")
    console.print(f"[green]✓[/green] NATS 用户与密码 / users and passwords: {data / NATS_AUTH_DIR}")
    return nats, credentials


def _nats_died(code: int | None) -> None:
    err.print(f"[yellow]! nats-server 已退出（{code}），正在重启 / nats-server exited ({code}); restarting[/yellow]")


async def _serve_all(
    *,
    host: str,
    port: int,
    nats_url: str,
    data: Path,
    example: bool,
    credentials: dict[str, NatsCredentials] | None,
    nats: NatsServer | None,
) -> None:
    keeper = asyncio.create_task(supervise(nats, _nats_died)) if nats is not None else None
    try:
        await _serve(host=host, port=port, nats_url=nats_url, data=data, example=example, credentials=credentials)
    finally:
        if keeper is not None:
            keeper.cancel()


async def _serve(
    *, host: str, port: int, nats_url: str, data: Path, example: bool, credentials: dict[str, NatsCredentials] | None
) -> None:
    import httpx
    import uvicorn

    from services.common import logs
    from services.gateway import create_gateway

    logs.configure()
    gateway = create_gateway(nats_url=nats_url, data_dir=data, nats_credentials=credentials)
    heap.settle()
    # Luoshi's log format (logs.py) and level; no line per request, as before (the level hid them).
    server = uvicorn.Server(
        uvicorn.Config(gateway, host=host, port=port, log_config=None, log_level=None, access_log=False)
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            await serving
            return
        await asyncio.sleep(0.05)
    base = f"http://{host}:{port}"
    office, office_is_new = progress_cli.office_token_for_up(gateway.state.apps["progress"], data)
    if example:
        payload = example_notice(SystemClock().today())
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            await _until_token_known(client, office)
            answer = await client.post(
                "/api/ingest/notices",
                files={"file": (EXAMPLE_FILE, payload, "text/plain")},
                headers={"Authorization": f"Bearer {office}"},
            )
        if answer.status_code == 202:
            body = answer.json()
            console.print(f"[green]✓[/green] 示例通知 {body['doc_no']}：{body['task_count']} 项任务")
        else:
            err.print(f"[yellow]! 示例通知未能载入 / example notice not loaded: {answer.text}[/yellow]")
    table = Table(title="落实 Luoshi 已启动 / running", show_header=True)
    table.add_column("内容 / what")
    table.add_column("地址 / URL")
    table.add_row("控制台 / console", f"{base}/")
    table.add_row("任务 / tasks", f"{base}/api/registry/tasks")
    table.add_row("上传通知 / upload", f"POST {base}/api/ingest/notices")
    table.add_row("进度填报 / report", f"POST {base}/api/progress/tasks/{{task_id}}/progress")
    table.add_row("督办 / escalations", f"{base}/api/notify/escalations")
    table.add_row("NATS", nats_url)
    console.print(table)
    token_file = data / progress_cli.OFFICE_TOKEN_FILE
    if office_is_new:
        console.print(f"督查室令牌 / office token（已存入 / saved in {token_file}）：{office}", soft_wrap=True)
    else:
        console.print(f"督查室令牌见 / office token in {token_file}", soft_wrap=True)
    console.print("按 Ctrl-C 停止 / press Ctrl-C to stop")
    await serving


async def _until_token_known(client: httpx.AsyncClient, token: str, timeout: float = 10.0) -> None:
    """Wait until ingest has the office token: it learns tokens from progress's `token.changed`."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        answer = await client.get("/api/ingest/notices?limit=1", headers={"Authorization": f"Bearer {token}"})
        if answer.status_code != 401:
            return
        await asyncio.sleep(0.1)


@app.command()
def serve(
    service: str = typer.Argument(help="ingest, registry, progress or notify"),
    host: str = typer.Option("0.0.0.0", help="Address to listen on."),
    port: int = typer.Option(8000, help="HTTP port."),
    access_log: bool = typer.Option(
        False, "--access-log/--no-access-log", help="Log every request (the compose proxy already logs them)."
    ),
    root_path: str = typer.Option(
        "", envvar="LUOSHI_ROOT_PATH", help="The prefix a proxy strips before forwarding, e.g. /api/registry."
    ),
    forwarded_allow_ips: str = typer.Option(
        "127.0.0.1",
        envvar="LUOSHI_FORWARDED_ALLOW_IPS",
        help="Proxies whose X-Forwarded-For/-Proto are trusted: addresses or networks, comma separated, or *.",
    ),
) -> None:
    """Serve one service (what each container runs); settings come from its LUOSHI_<SERVICE>_ variables."""
    import uvicorn

    from services.common import logs
    from services.gateway import SERVICES

    if service not in SERVICES:
        _fail(f"未知服务 {service}，可选：{', '.join(SERVICES)}", f"unknown service {service}")
    logs.configure()
    module = importlib.import_module(f"services.{service}.app")
    served = module.create_app()
    heap.settle()
    # A line per request costs about a tenth of a report's CPU; in deployment nginx writes the access log.
    uvicorn.run(
        served,
        host=host,
        port=port,
        log_config=None,  # Luoshi's format for uvicorn's lines too (logs.py); the level is LUOSHI_LOG_LEVEL
        log_level=None,
        access_log=access_log,
        root_path=root_path,
        proxy_headers=True,
        forwarded_allow_ips=forwarded_allow_ips,
    )


@app.command()
def parse(
    file: Path = typer.Argument(
        help="A notice: .txt, .md, .docx, .doc, .wps, .xlsx, .xls or .pdf (scans by OCR)", exists=True, dir_okay=False
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the parse as one JSON object."),
) -> None:
    """Parse a notice and print its tasks."""
    from services.ingest.parsing.api import parse_document
    from services.ingest.parsing.errors import NoticeParseError

    try:
        parsed = parse_document(file.read_bytes(), file.name)
    except NoticeParseError as exc:
        _fail(exc.message, exc.code)
        return
    if as_json:
        sys.stdout.write(json.dumps(parsed.model_dump(mode="json"), ensure_ascii=False, indent=2) + "\n")
        return
    doc = parsed.doc
    console.print(f"[bold]{doc.title or file.name}[/bold]  {doc.doc_no or ''}  {doc.issued_date or ''}")
    table = Table(show_lines=False)
    for column in ("序号", "章", "任务内容", "牵头领导", "主办单位", "协办单位", "时限", "目标", "可信度"):
        table.add_column(column)
    table.add_column("提示 / warnings", overflow="fold")  # wrapped, never cut: the office acts on them
    for task in parsed.tasks:
        table.add_row(
            str(task.number),
            task.chapter or "",
            task.text[:40] + ("…" if len(task.text) > 40 else ""),
            "、".join(task.leaders),
            "、".join(task.host_units),
            "、".join(task.co_units) + ("等" if task.has_etc else ""),
            task.deadline.phrase if task.deadline else "",
            str(len(task.quantities)) + (f"（{len(task.milestones)}阶段）" if task.milestones else ""),
            f"{task.confidence:.2f}",
            "\n".join(f"{w.message} ({w.code})" for w in task.warnings),
        )
    console.print(table)
    for warning in parsed.warnings:
        console.print(f"[yellow]! {warning.message}[/yellow] ({warning.code})")
    for line in parse_summary(parsed):
        console.print(line)


def parse_summary(parsed: ParsedNotice) -> list[str]:
    """The per-notice lines under `luoshi parse`: tasks per rule, confidence, columns read, review."""
    from collections import Counter

    from services.ingest.parsing.confidence import LOW, RULE_NAMES

    tasks = parsed.tasks
    rules = Counter(t.rule for t in tasks)
    lines = [f"共 {len(tasks)} 项任务，{len(parsed.chapters)} 个章节 / {len(tasks)} tasks"]
    lines.append("按规则 / by rule：" + "，".join(f"{RULE_NAMES.get(r, r)} {n} 项" for r, n in rules.most_common()))
    if tasks:
        mean = sum(t.confidence for t in tasks) / len(tasks)
        low = sum(1 for t in tasks if t.confidence < LOW)
        lines.append(f"平均可信度 {mean:.2f}，低于 {LOW} 的 {low} 项 / mean confidence {mean:.2f}, {low} low")
    tables = [w for w in parsed.warnings if w.code == "table_columns"]
    lines.append(f"表格 {len(tables)} 个（列识别见上） / {len(tables)} tables, columns as listed above")
    if parsed.review:
        lines.append("[red]需人工核对 / needs review：" + "；".join(parsed.review) + "[/red]")
    return lines


@app.command()
def asyncapi(
    check: bool = typer.Option(False, help="Fail if the committed document is stale instead of writing it."),
) -> None:
    """Generate proto/asyncapi.yaml from the four services' brokers."""
    from services.asyncapi import ASYNCAPI_PATH, render_asyncapi

    text = render_asyncapi()
    if check:
        if not ASYNCAPI_PATH.exists() or ASYNCAPI_PATH.read_text(encoding="utf-8") != text:
            _fail("proto/asyncapi.yaml 已过期，请运行 luoshi asyncapi", "proto/asyncapi.yaml is stale")
        console.print("asyncapi.yaml 为最新 / up to date")
        return
    ASYNCAPI_PATH.write_text(text, encoding="utf-8")
    console.print(f"已写入 / written: {ASYNCAPI_PATH}")


def main() -> None:
    app()
