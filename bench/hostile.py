"""Hostile input against the running system: memory of the serving process, other clients' latency.

`luoshi up` (all four services in one process, the shape that was hurt) runs on a nats-server of
its own, on loopback. A reader polls a task's status at a steady pace, first alone (the baseline)
and then while an attacker process sends hostile requests back to back over two connections:
zip-bomb and XML-bomb docx files, an xlsx bomb, a PDF whose stream inflates to 512 MB, a 300 MB chunked directory import, a 64 MB
chunked upload and a YAML billion laughs. The attacker is a separate process writing raw sockets,
so its CPU is not the reader's; it stops sending a body as soon as the answer arrives, as a real
client would. Targets: the serving process under 300 MB resident at its peak, the status p99
under attack under 50 ms, every hostile request answered 4xx. Nothing fails; verdicts are printed.
"""

from __future__ import annotations

import asyncio
import itertools
import multiprocessing
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvloop
from rich.console import Console
from rich.table import Table

from bench.loadgen import Pool
from services.common.natsserver import NatsServer, free_port, wait_for_port
from tests.helpers import eventually

BIN = Path(sys.executable).parent
MB = 1024 * 1024
RSS_TARGET_MB = 300.0
P99_TARGET_MS = 50.0
READ_EVERY_S = 0.005  # the reader's pace: 200 status reads a second
ATTACKERS = 2


@dataclass
class Hostile:
    name: str
    path: str
    content_type: str
    chunks: Callable[[], Iterator[bytes]]
    length: int | None  # None: chunked


def _multipart(filename: str, data: bytes) -> tuple[str, bytes]:
    boundary = "luoshi-bench-boundary"
    head = f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n\r\n'
    return f"multipart/form-data; boundary={boundary}", head.encode() + data + f"\r\n--{boundary}--\r\n".encode()


def _upload(name: str, data: bytes) -> Hostile:
    content_type, body = _multipart(name, data)
    return Hostile(name, "/api/ingest/notices", content_type, lambda: iter([body]), len(body))


def _streamed(name: str, path: str, content_type: str, head: bytes, total: int) -> Hostile:
    def chunks() -> Iterator[bytes]:
        yield head
        block = b"a" * (256 * 1024)
        for _ in range(total // len(block)):
            yield block

    return Hostile(name, path, content_type, chunks, None)


def _yaml_laughs() -> bytes:
    levels = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    levels += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    return ("\n".join(levels) + "\nunits:\n  - name: *a9\n").encode()


def hostile_requests() -> list[Hostile]:
    from tests.ingest import hostile

    boundary_head = (
        b'--luoshi-bench-boundary\r\nContent-Disposition: form-data; name="file"; filename="big.txt"\r\n\r\n'
    )
    laughs = _yaml_laughs()
    return [
        _upload("styles.xml zip bomb (128 MB) .docx", hostile.styles_bomb()),
        _upload("64 MB of empty paragraphs .docx", hostile.empty_paragraphs()),
        _upload("size-lying zip header .docx", hostile.lying_header()),
        _upload("billion laughs .docx", hostile.billion_laughs()),
        _upload("10,000-deep XML .docx", hostile.deep_nesting()),
        _upload("xlsx bomb (128 MB)", hostile.xlsx_bomb()),
        _upload("PDF stream bomb (512 MB)", hostile.pdf_bomb()),
        _streamed(
            "300 MB chunked directory import", "/api/registry/directory/import", "text/yaml", b"units:\n", 300 * MB
        ),
        _streamed(
            "64 MB chunked upload",
            "/api/ingest/notices",
            "multipart/form-data; boundary=luoshi-bench-boundary",
            boundary_head,
            64 * MB,
        ),
        Hostile(
            "YAML billion laughs directory",
            "/api/registry/directory/import",
            "text/yaml",
            lambda: iter([laughs]),
            len(laughs),
        ),
    ]


def send(port: int, item: Hostile, token: str, timeout: float = 60.0) -> int:
    """POST on a raw socket, writing only while the server reads; the status, or 0 without an answer."""
    head = [f"POST {item.path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Type: {item.content_type}"]
    head.append(f"Authorization: Bearer {token}")
    head.append(f"Content-Length: {item.length}" if item.length is not None else "Transfer-Encoding: chunked")
    pending = bytearray(("\r\n".join(head) + "\r\n\r\n").encode())
    chunks = item.chunks()
    chunked = item.length is None
    answer = bytearray()
    deadline = time.monotonic() + timeout
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.setblocking(False)
        writing = True
        while time.monotonic() < deadline:
            if writing and not pending:
                piece = next(chunks, None)
                if piece is None:
                    pending += b"0\r\n\r\n" if chunked else b""
                    writing = bool(pending)
                else:
                    pending += (f"{len(piece):x}\r\n".encode() + piece + b"\r\n") if chunked else piece
            readable, writable, _ = select.select([sock], [sock] if writing and pending else [], [], 1.0)
            if readable:
                try:
                    data = sock.recv(65536)
                except ConnectionError:
                    break
                answer += data
                if not data or b"\r\n\r\n" in answer:
                    break
            if writable:
                try:
                    del pending[: sock.send(pending)]
                except (BrokenPipeError, ConnectionResetError):
                    writing = False
    status = answer.split(b" ", 2)[1] if answer.startswith(b"HTTP/1.1 ") else b"0"
    return int(status)


def attack(port: int, token: str, seconds: float, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    """The attacker process: build the files, say ready, then send them round-robin until time is up.

    It holds the office's token, the worst case (a leaked token): without one every request is
    refused with 401 before its body is read.
    """
    items = hostile_requests()
    out.put("ready")
    results: list[tuple[str, int, float]] = []
    lock = threading.Lock()
    started = time.monotonic()
    cycle = itertools.cycle(items)

    def worker() -> None:
        while time.monotonic() - started < seconds:
            with lock:
                item = next(cycle)
            t = time.perf_counter()
            status = send(port, item, token)
            with lock:
                results.append((item.name, status, time.perf_counter() - t))

    threads = [threading.Thread(target=worker) for _ in range(ATTACKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out.put(results)


class Gateway:
    """`luoshi up` as its own process: the one process that serves all four services."""

    def __init__(self, data: Path, nats_url: str) -> None:
        self.port = free_port()
        self.data = data
        args = [str(BIN / "luoshi"), "up", "--port", str(self.port), "--nats-url", nats_url, "--data", str(data)]
        self.proc = subprocess.Popen(args, stdout=(data / "up.log").open("wb"), stderr=subprocess.STDOUT)
        wait_for_port(self.port, timeout=60)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def office_token(self) -> str:
        """The office token `luoshi up` made in its data folder."""
        path = self.data / "office-token"
        deadline = time.monotonic() + 60
        while not path.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        return path.read_text(encoding="utf-8").strip()

    def rss_mb(self) -> tuple[float, float]:
        """(now, peak) resident MB."""
        fields = dict(
            line.split(":", 1) for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines() if ":" in line
        )
        return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()


async def _a_task(url: str, token: str) -> str:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, timeout=10, headers=headers) as client:

        async def known() -> str | None:
            tasks = (await client.get("/api/registry/tasks", params={"limit": 1})).json()["data"]
            if not tasks:
                return None
            task_id: str = tasks[0]["task_id"]
            status = await client.get(f"/api/progress/tasks/{task_id}/status")
            return task_id if status.status_code == 200 else None

        return await eventually(known, timeout=60, what="the example's first task in progress")


async def _read_status(url: str, token: str, task_id: str, seconds: float) -> list[float]:
    """Status reads at a steady pace for `seconds`; each one's latency in seconds."""
    pool = Pool(url)
    headers = {"Authorization": f"Bearer {token}"}
    path = f"/api/progress/tasks/{task_id}/status"
    times: list[float] = []
    try:
        end = time.perf_counter() + seconds
        next_at = time.perf_counter()
        while next_at < end:
            t = time.perf_counter()
            code, _ = await pool.request("GET", path, headers=headers)
            times.append(time.perf_counter() - t)
            assert code == 200, code
            next_at += READ_EVERY_S
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
    finally:
        pool.close()
    return times


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000


async def _run(quick: bool) -> dict[str, object]:
    seconds = 6.0 if quick else 20.0
    ctx = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory(prefix="luoshi-bench-hostile-") as name:
        tmp = Path(name)
        nats = NatsServer(free_port(), tmp / "nats", log_file=tmp / "nats.log")
        nats.start()
        gateway: Gateway | None = None
        try:
            (tmp / "data").mkdir()
            gateway = Gateway(tmp / "data", nats.url)
            token = gateway.office_token()
            task_id = await _a_task(gateway.url, token)
            baseline = await _read_status(gateway.url, token, task_id, seconds)
            rss_before = gateway.rss_mb()
            out = ctx.Queue()
            attacker = ctx.Process(target=attack, args=(gateway.port, token, seconds, out))
            attacker.start()
            assert await asyncio.to_thread(out.get, True, 120) == "ready"
            under_attack = await _read_status(gateway.url, token, task_id, seconds)
            results = await asyncio.to_thread(out.get, True, 180)
            attacker.join(30)
            rss_after = gateway.rss_mb()
            alive = gateway.proc.poll() is None
        finally:
            if gateway is not None:
                gateway.stop()
            nats.stop()
    return {
        "seconds": seconds,
        "baseline": baseline,
        "attack": under_attack,
        "results": results,
        "rss_before": rss_before,
        "rss_after": rss_after,
        "alive": alive,
    }


def main(quick: bool = False) -> None:
    console = Console(width=max(Console().width, 150))
    console.print(f"[bold]hostile[/bold]{' (quick)' if quick else ''}: nats-server, luoshi up, a reader, an attacker…")
    r = uvloop.run(_run(quick))
    baseline, attack_times = r["baseline"], r["attack"]
    results = r["results"]
    assert isinstance(baseline, list) and isinstance(attack_times, list) and isinstance(results, list)
    (_, peak_before), (rss_now, peak) = r["rss_before"], r["rss_after"]  # type: ignore[misc]

    def ok(good: bool) -> str:
        return "[green]met[/green]" if good else "[red]not met[/red]"

    table = Table(title=f"hostile input: luoshi up under attack, {r['seconds']:.0f} s each side, same run")
    for column in ("measure", "value", "target", "verdict"):
        table.add_column(column)
    base_p99, attack_p99 = _p99(baseline), _p99(attack_times)
    table.add_row("status read p99, no attack (baseline)", f"{base_p99:.1f} ms ({len(baseline)} reads)", "", "")
    table.add_row(
        "status read p99 under attack",
        f"{attack_p99:.1f} ms ({len(attack_times)} reads, max {max(attack_times) * 1000:.0f} ms)",
        f"< {P99_TARGET_MS:.0f} ms",
        ok(attack_p99 < P99_TARGET_MS),
    )
    table.add_row("serving process peak RSS before attack", f"{peak_before:.0f} MB", "", "")
    table.add_row(
        "serving process peak RSS after attack",
        f"{peak:.0f} MB (now {rss_now:.0f} MB)",
        f"< {RSS_TARGET_MB:.0f} MB",
        ok(peak < RSS_TARGET_MB),
    )
    table.add_row("serving process still up", "yes" if r["alive"] else "no", "yes", ok(bool(r["alive"])))
    by_kind: dict[str, list[tuple[int, float]]] = {}
    for kind, status, took in results:
        by_kind.setdefault(kind, []).append((status, took))
    for kind, answers in by_kind.items():
        statuses = sorted({s for s, _ in answers})
        all_4xx = all(400 <= s < 500 for s, _ in answers)
        slowest = max(t for _, t in answers)
        table.add_row(
            f"  {kind}",
            f"{len(answers)}× → {', '.join(map(str, statuses))} (slowest {slowest * 1000:.0f} ms)",
            "4xx",
            ok(all_4xx),
        )
    console.print(table)
    console.print(f"machine: {os.cpu_count()} cores; attacker: {ATTACKERS} connections back to back")


if __name__ == "__main__":
    main("--quick" in sys.argv)
