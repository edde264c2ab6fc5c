from __future__ import annotations

import ast
from pathlib import Path

import pytest

from proto import (
    BulletinPublished,
    ClockTicked,
    EscalationRaised,
    NoticeParsed,
    ProgressReported,
    StatusChanged,
    TaskUpserted,
)
from proto.streams import stream_defs, stream_for
from proto.subjects import Subjects, unit_token
from services.asyncapi import ASYNCAPI_PATH, render_asyncapi

REPO = Path(__file__).resolve().parents[2]
DOMAIN_SERVICES = ("ingest", "registry", "progress", "notify")


def test_committed_asyncapi_document_is_current() -> None:
    assert ASYNCAPI_PATH.read_text(encoding="utf-8") == render_asyncapi(), (
        "run `luoshi asyncapi` and commit proto/asyncapi.yaml"
    )


@pytest.mark.parametrize(
    "event",
    [NoticeParsed, TaskUpserted, ProgressReported, StatusChanged, EscalationRaised, ClockTicked, BulletinPublished],
)
def test_every_event_carries_the_envelope(event: type) -> None:
    fields = event.model_fields  # type: ignore[attr-defined]
    assert {"event_id", "occurred_at", "source", "correlation_id", "schema_version"} <= set(fields)
    for name, field in fields.items():
        assert field.description, f"{event.__name__}.{name} has no description"


def test_every_subject_belongs_to_exactly_one_stream() -> None:
    subjects = Subjects("luoshi")
    for subject in (
        subjects.notice_parsed,
        subjects.task_upserted,
        subjects.progress_reported,
        subjects.status_changed,
        subjects.escalation_raised("red", "区科学技术局"),
        subjects.clock_tick,
        subjects.bulletin_published,
        subjects.dead_letter("registry"),
    ):
        owners = [
            s.name for s in stream_defs(subjects) if any(subject.startswith(p.removesuffix(">")) for p in s.subjects)
        ]
        assert len(owners) == 1, (subject, owners)
        assert stream_for(subjects, subject).name == owners[0]


def test_unit_tokens_are_subject_safe() -> None:
    token = unit_token("各县（市、区）政府")
    assert token.isalnum()
    assert token == unit_token("各县（市、区）政府")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


@pytest.mark.parametrize("service", DOMAIN_SERVICES)
def test_services_import_proto_and_common_but_never_each_other(service: str) -> None:
    others = [s for s in DOMAIN_SERVICES if s != service]
    for path in (REPO / "services" / service).rglob("*.py"):
        for module in _imports(path):
            assert not any(module.startswith(f"services.{o}") for o in others), f"{path} imports {module}"


def test_proto_never_imports_services() -> None:
    for path in (REPO / "proto").rglob("*.py"):
        assert not any(m.startswith("services") for m in _imports(path)), path
