"""`luoshi up`: the one-command local run, as a newcomer uses it."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import nats
import pytest

from services.cli import DEFAULT_NATS_PORT, DEFAULT_PORT
from services.common.natsauth import USERS
from services.common.natsserver import free_port, nats_server_binary, running, wait_for_port
from services.gateway import SERVICES

LUOSHI = str(Path(sys.executable).parent / "luoshi")


def _start(tmp_path: Path, port: int, nats_port: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [LUOSHI, "up", "--port", str(port), "--nats-port", str(nats_port), "--data", str(tmp_path / "var")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=tmp_path,
    )


def _office(tmp_path: Path) -> dict[str, str]:
    token_file = tmp_path / "var" / "office-token"
    token = token_file.read_text(encoding="utf-8").strip() if token_file.exists() else ""
    return {"Authorization": f"Bearer {token}"}


def _wait_for_tasks(proc: subprocess.Popen[str], port: int, expected: int, tmp_path: Path) -> dict:  # type: ignore[type-arg]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"luoshi up exited early:\n{proc.stdout.read() if proc.stdout else ''}")
        try:
            body = httpx.get(f"http://127.0.0.1:{port}/api/registry/tasks", timeout=2, headers=_office(tmp_path)).json()
            if body["count"] == expected:
                return body  # type: ignore[no-any-return]
        except (httpx.HTTPError, ValueError, KeyError):
            pass
        time.sleep(0.25)
    pytest.fail("the example notice's tasks never appeared")


def _stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    return out


@pytest.mark.nats
def test_up_serves_the_example_notice_and_restarts_on_the_same_data(tmp_path: Path) -> None:
    port, nats_port = free_port(), free_port()
    proc = _start(tmp_path, port, nats_port)
    try:
        body = _wait_for_tasks(proc, port, 5, tmp_path)
        task_id = body["data"][0]["task_id"]
        unit = body["data"][0]["host_units"][0]["name"]

        def status() -> httpx.Response:
            return httpx.get(
                f"http://127.0.0.1:{port}/api/progress/tasks/{task_id}/status", timeout=2, headers=_office(tmp_path)
            )

        deadline = time.monotonic() + 20
        while status().status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        office = (tmp_path / "var" / "office-token").read_text(encoding="utf-8").strip()
        issued = httpx.post(
            f"http://127.0.0.1:{port}/api/progress/tokens",
            json={"unit": unit},
            headers={"Authorization": f"Bearer {office}"},
            timeout=5,
        )
        assert issued.status_code == 201, issued.text
        posted = httpx.post(
            f"http://127.0.0.1:{port}/api/progress/tasks/{task_id}/progress",
            json={"percent": 100, "narrative": "已完成"},
            headers={"Authorization": f"Bearer {issued.json()['token']}"},
            timeout=5,
        )
        assert posted.status_code == 201, posted.text
        assert status().json()["percent"] == 100
        assert httpx.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200
    finally:
        out = _stop(proc)
    assert "已启动" in out and "Ctrl-C" in out
    assert office in out.replace("\n", "")
    assert (tmp_path / "var" / "registry.db").exists()
    assert (tmp_path / "var" / "nats" / "jetstream").is_dir()
    passwords = _nats_passwords(tmp_path / "var" / "nats-auth")

    again = _start(tmp_path, port, nats_port)
    try:
        _wait_for_tasks(again, port, 5, tmp_path)
        with pytest.raises(nats.errors.Error, match="Authorization Violation"):
            asyncio.run(nats.connect(f"nats://127.0.0.1:{nats_port}", allow_reconnect=False, max_reconnect_attempts=0))
        assert _nats_passwords(tmp_path / "var" / "nats-auth") == passwords, "passwords are kept across starts"
        assert (
            httpx.get(
                f"http://127.0.0.1:{port}/api/progress/tasks/{task_id}/status", timeout=2, headers=_office(tmp_path)
            ).json()["percent"]
            == 100
        )
    finally:
        out = _stop(again)
    assert office not in out.replace("\n", ""), "the office token is shown only when it is made"
    assert "office-token" in out.replace("\n", "")
    assert (tmp_path / "var" / "office-token").read_text(encoding="utf-8").strip() == office


def _nats_passwords(folder: Path) -> dict[str, str]:
    """The generated NATS passwords, checking that only their owner can read them."""
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    files = sorted(folder.glob("*.password"))
    assert [f.stem for f in files] == sorted(USERS)
    for path in [*files, folder / "nats-server.conf"]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    return {f.stem: f.read_text() for f in files}


def test_up_reports_a_taken_port_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [LUOSHI, "up", "--port", str(port), "--data", str(tmp_path / "var")],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    output = (result.stdout + result.stderr).strip()
    assert "已被占用" in output and "already in use" in output
    assert "Traceback" not in output
    assert len(output.splitlines()) == 1


def _start_in_group(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    """`luoshi up` as a terminal runs it: the leader of its own process group."""
    return subprocess.Popen(
        [LUOSHI, "up", "--data", str(tmp_path / "var"), "--no-example", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=tmp_path,
        start_new_session=True,
    )


def _wait_ready(proc: subprocess.Popen[str], port: int, timeout: float = 60) -> None:
    """Every service answers /readyz 200: NATS connected, database reachable."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"luoshi up exited early:\n{proc.stdout.read() if proc.stdout else ''}")
        try:
            codes = {httpx.get(f"http://127.0.0.1:{port}/api/{s}/readyz", timeout=2).status_code for s in SERVICES}
            if codes == {200}:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail("the services never became ready")


def _nats_pid(tmp_path: Path) -> int:
    return int((tmp_path / "var" / "nats.pid").read_text())


def _gone(pid: int, timeout: float = 15) -> bool:
    deadline = time.monotonic() + timeout
    while running(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


@pytest.mark.nats
def test_ctrl_c_in_a_terminal_stops_everything_without_a_traceback(tmp_path: Path) -> None:
    port = free_port()
    proc = _start_in_group(tmp_path, "--port", str(port), "--nats-port", str(free_port()))
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout or ()), daemon=True)
    reader.start()
    try:
        _wait_ready(proc, port)
        nats_pid = _nats_pid(tmp_path)
        before = len(lines)
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # the whole foreground group, as Ctrl-C does
        proc.wait(timeout=60)
        reader.join(timeout=10)
    after = "".join(lines[before:])  # FastStream may log a fetch timeout while running; not ours
    assert proc.returncode == 0, after
    assert "Traceback" not in after and "ERROR" not in after, after
    assert "已停止" in after
    assert _gone(nats_pid), "nats-server outlived luoshi up"
    assert not (tmp_path / "var" / "nats.pid").exists()


@pytest.mark.nats
def test_a_nats_server_that_dies_is_started_again(tmp_path: Path) -> None:
    port = free_port()
    proc = _start_in_group(tmp_path, "--port", str(port), "--nats-port", str(free_port()))
    try:
        _wait_ready(proc, port)
        first = _nats_pid(tmp_path)
        os.kill(first, signal.SIGKILL)
        assert _gone(first)
        _wait_ready(proc, port)
        assert _nats_pid(tmp_path) != first
    finally:
        out = _stop(proc)
    assert "restarting" in out


@pytest.mark.nats
def test_kill_9_of_luoshi_up_ends_its_nats_server_and_the_next_start_works(tmp_path: Path) -> None:
    port, nats_port = free_port(), free_port()
    proc = _start_in_group(tmp_path, "--port", str(port), "--nats-port", str(nats_port))
    try:
        _wait_ready(proc, port)
        nats_pid = _nats_pid(tmp_path)
    finally:
        proc.kill()
        proc.communicate(timeout=30)
    assert _gone(nats_pid), "nats-server outlived a kill -9 of luoshi up"
    again = _start_in_group(tmp_path, "--port", str(port), "--nats-port", str(nats_port))
    try:
        _wait_ready(again, port)
    finally:
        _stop(again)


@pytest.mark.nats
def test_a_nats_server_left_by_an_earlier_start_is_ended_first(tmp_path: Path) -> None:
    """Where no parent-death signal exists (macOS) a kill -9 leaves the server; the pid file finds it."""
    nats_port = free_port()
    store = tmp_path / "var" / "nats"
    store.mkdir(parents=True)
    # Started through a shell that exits at once, so the orphan is nobody's child, as after a kill -9.
    cmd = f"{nats_server_binary()} -a 127.0.0.1 -p {nats_port} -js -sd {store} >/dev/null 2>&1 & echo $!"
    orphan = int(subprocess.run(["sh", "-c", cmd], capture_output=True, text=True, check=True).stdout)
    wait_for_port(nats_port)
    (tmp_path / "var" / "nats.pid").write_text(f"{orphan}\n")
    port = free_port()
    proc = _start_in_group(tmp_path, "--port", str(port), "--nats-port", str(nats_port))
    try:
        _wait_ready(proc, port)
        assert not running(orphan)
    finally:
        out = _stop(proc)
    assert f"进程 {orphan}" in out.replace("\n", "")


@pytest.mark.nats
def test_taken_default_ports_are_replaced_by_free_ones_and_said(tmp_path: Path) -> None:
    with _hold(DEFAULT_PORT), _hold(DEFAULT_NATS_PORT):
        proc = _start_in_group(tmp_path)
        try:
            deadline = time.monotonic() + 60
            lines: list[str] = []
            while not any("Ctrl-C" in line for line in lines) and time.monotonic() < deadline:
                assert proc.stdout is not None
                lines.append(proc.stdout.readline())
            said = re.findall(r"is taken, using (\d+)", "".join(lines).replace("\n", ""))
            assert len(said) == 2, lines
            _wait_ready(proc, int(said[0]))
        finally:
            out = "".join(lines) + _stop(proc)
    assert f"port {DEFAULT_PORT} is taken" in out.replace("\n", "")


@contextmanager
def _hold(port: int) -> Iterator[None]:
    """Keep the port taken: listen on it, or leave it to whoever already does."""
    sock = socket.socket()
    try:
        sock.bind(("127.0.0.1", port))
        sock.listen()
    except OSError:
        pass
    try:
        yield
    finally:
        sock.close()
