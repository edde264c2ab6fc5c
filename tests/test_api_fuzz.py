"""Schemathesis against each service's OpenAPI: no 5xx, and answers as documented.

Each service is built with `create_app` and started with its lifespan on the session's
nats-server (schemathesis starts the lifespan once per app, on its own event loop thread).
Every operation gets `FUZZ_EXAMPLES` generated requests (derandomized: the same on every run),
once without a token and once with an office token; every failure of every operation is
collected, so one run shows all of them.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.generation.modes import GenerationMode
from schemathesis.python.asgi import get_client, shutdown_lifespans
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance
from sqlmodel import Session

from services.common.clock import ManualClock
from services.common.natsserver import NatsServer
from services.ingest.app import create_app as create_ingest
from services.ingest.settings import IngestSettings
from services.notify.app import create_app as create_notify
from services.notify.settings import NotifySettings
from services.progress.app import create_app as create_progress
from services.progress.settings import ProgressSettings
from services.progress.tokens import issue_token
from services.registry.app import create_app as create_registry
from services.registry.settings import RegistrySettings
from tests.conftest import _fresh_pg_databases

pytestmark = pytest.mark.nats

FUZZ_EXAMPLES = int(os.environ.get("LUOSHI_FUZZ_EXAMPLES", "15"))
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
FACTORIES: dict[str, tuple[Callable[..., FastAPI], type]] = {
    "ingest": (create_ingest, IngestSettings),
    "registry": (create_registry, RegistrySettings),
    "progress": (create_progress, ProgressSettings),
    "notify": (create_notify, NotifySettings),
}


@dataclass
class Tally:
    operations: int = 0
    examples: int = 0
    failures: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_urls(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """SQLite files, then PostgreSQL, which refuses what SQLite lets by (NUL, over-long text)."""
    if request.param == "sqlite":
        yield {}
        return
    admin = request.getfixturevalue("pg_admin_url")
    names = [f"luoshi_fuzz_{name}_{uuid.uuid4().hex[:8]}" for name in FACTORIES]
    with _fresh_pg_databases(admin, names) as urls:
        yield dict(zip(FACTORIES, urls, strict=True))


@pytest.fixture(scope="module")
def apps(
    nats_server: NatsServer, tmp_path_factory: pytest.TempPathFactory, database_urls: dict[str, str]
) -> Iterator[dict[str, FastAPI]]:
    root = f"f{uuid.uuid4().hex[:10]}"
    data: Path = tmp_path_factory.mktemp("fuzz")
    clock = ManualClock(datetime(2026, 3, 1, 9, 0))
    built = {
        name: factory(
            settings_class(
                nats_url=nats_server.url, data_dir=data, subject_root=root, database_url=database_urls.get(name, "")
            ),
            clock,
        )
        for name, (factory, settings_class) in FACTORIES.items()
    }
    yield built
    shutdown_lifespans()


def _token(apps: dict[str, FastAPI], role: str, unit: str | None = None) -> str:
    """A token issued by progress, once every service has learnt it from `token.changed`."""
    for app in apps.values():
        schemathesis.openapi.from_asgi("/openapi.json", app)  # starts its lifespan: tables exist
    progress = apps["progress"]
    runtime = progress.state.runtime
    with progress.state.write_gate, Session(runtime.engine) as session:
        _row, secret, _unit = issue_token(
            session=session, subjects=runtime.subjects, role=role, unit=unit, now=runtime.clock.now(), label="fuzz"
        )
    runtime.relay.kick()
    _wait(
        f"the {role} token in every service",
        lambda: all(a.state.runtime.tokens.lookup(secret, runtime.clock.now()) for a in apps.values()),
    )
    return secret


# The one place that says who the fuzzer is.
@pytest.fixture(params=["anonymous", "office"])
def auth_headers(request: pytest.FixtureRequest, apps: dict[str, FastAPI]) -> dict[str, str]:
    if request.param == "anonymous":
        return {}
    return {"Authorization": f"Bearer {_token(apps, 'office')}"}


def _fuzz_operation(operation: Any, mode: GenerationMode, headers: dict[str, str], tally: Tally, **fixed: Any) -> None:
    @given(case=operation.as_strategy(mode, **fixed))
    @settings(
        max_examples=FUZZ_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        tally.examples += 1
        try:
            case.call_and_validate(headers=headers, checks=CHECKS)
        # Every failure is collected, not only the first; FailureGroup is a BaseExceptionGroup.
        except (Exception, FailureGroup) as exc:
            label = f"{operation.label}: {type(exc).__name__}: {str(exc).strip().splitlines()[0][:200]}"
            tally.failures.setdefault(label, str(exc)[:2000])

    try:
        run()
    except Unsatisfiable:
        # Nothing in the operation can be made invalid (no parameters, no body).
        if mode is not GenerationMode.NEGATIVE:
            raise


@pytest.mark.parametrize("service", list(FACTORIES))
def test_service_answers_as_documented(
    service: str, apps: dict[str, FastAPI], auth_headers: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", apps[service])
    tally = Tally()
    for result in schema.get_all_operations():
        operation = result.ok()
        tally.operations += 1
        # The live feed is read without following, so each answer ends (see `test_access`).
        fixed = {"query": {"follow": "false"}} if operation.path.endswith("/feed") else {}
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz_operation(operation, mode, auth_headers, tally, **fixed)
    with capsys.disabled():
        who = "office" if auth_headers else "anonymous"
        print(
            f"\n{service} ({who}): {tally.operations} operations, {tally.examples} examples, {len(tally.failures)} failures"
        )
    assert not tally.failures, "\n\n".join(f"{label}\n{text}" for label, text in tally.failures.items())


EXAMPLE = resources.files("services.ingest").joinpath("examples", "example-notice.txt").read_bytes()


def _get_json(app: FastAPI, path: str, token: str) -> Any:
    with get_client(app) as client:
        answer = client.get(f"http://testserver{path}", headers={"Authorization": f"Bearer {token}"})
    return answer.json() if answer.status_code == 200 else None


def _wait(what: str, probe: Callable[[], Any]) -> Any:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def known(apps: dict[str, FastAPI]) -> dict[str, str]:
    """A notice that went through ingest → registry → progress, and a host unit's token."""
    office = _token(apps, "office")
    with get_client(apps["ingest"]) as client:
        upload = client.post(
            "http://testserver/notices",
            files={"file": ("example.txt", EXAMPLE, "text/plain")},
            headers={"Authorization": f"Bearer {office}"},
        )
    assert upload.status_code == 202, upload.text
    tasks = _wait("registry tasks", lambda: (_get_json(apps["registry"], "/tasks", office) or {}).get("data"))
    task = tasks[0]
    _wait(
        "progress to know the task",
        lambda: _get_json(apps["progress"], f"/tasks/{task['task_id']}/status", office),
    )
    unit = _token(apps, "unit", task["host_units"][0]["name"])
    return {
        "task_id": task["task_id"],
        "unit_id": task["host_units"][0]["unit_id"],
        "unit_token": unit,
        "office": office,
    }


@pytest.mark.parametrize("service", ["registry", "progress"])
def test_known_objects_answer_as_documented(
    service: str, apps: dict[str, FastAPI], known: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Operations on a real task and unit, so bodies reach the domain code instead of a 404."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", apps[service])
    # The registry's writes are the office's, progress's the unit's: each reaches its domain code.
    token = known["office"] if service == "registry" else known["unit_token"]
    headers = {"If-Match": "*", "Authorization": f"Bearer {token}"}
    tally = Tally()
    for result in schema.get_all_operations():
        operation = result.ok()
        wanted = {"task_id", "unit_id"} & {p.name for p in operation.path_parameters}
        if not wanted:
            continue
        tally.operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            fixed = {"path_parameters": {name: known[name] for name in wanted}}
            _fuzz_operation(operation, mode, headers, tally, **fixed)
    with capsys.disabled():
        print(
            f"\n{service} (known): {tally.operations} operations, {tally.examples} examples, {len(tally.failures)} failures"
        )
    assert not tally.failures, "\n\n".join(f"{label}\n{text}" for label, text in tally.failures.items())
