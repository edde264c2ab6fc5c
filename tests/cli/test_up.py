"""`luoshi up`: the one-command local run, as a newcomer uses it."""

from __future__ import annotations

import asyncio
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import nats
import pytest

from services.common.natsauth import USERS
from services.common.natsserver import free_port

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
