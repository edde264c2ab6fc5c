"""Corrections: validation before any write, optimistic concurrency, audit entries."""

from __future__ import annotations

import json

import pytest
from sqlmodel import Session, col, func, select

from proto.task import TaskUpserted, task_id_for
from services.common.errors import ApiError
from services.common.outbox import OutboxEntry
from services.registry.corrections import audit_of, correct_task, etag_of
from services.registry.models import AuditEntry, RegistryTask
from services.registry.schemas import TaskPatch
from tests.registry.conftest import NOW, SUBJECTS

DOC = "济兖政发〔2025〕1号"


def _task(session: Session, number: int = 8) -> RegistryTask:
    task = session.get(RegistryTask, task_id_for(DOC, number))
    assert task is not None
    return task


def _patch(session: Session, task: RegistryTask, if_match: str | None = "etag", **fields):  # type: ignore[no-untyped-def]
    return correct_task(
        session=session,
        subjects=SUBJECTS,
        task_id=task.task_id,
        patch=TaskPatch(**fields),
        if_match=etag_of(task) if if_match == "etag" else if_match,
        actor="李督查",
        now=NOW,
    )


def _outbox(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(OutboxEntry)).one())


def test_a_correction_is_audited_and_republished(shared_session: Session) -> None:
    task = _task(shared_session)
    before_units = list(task.host_units)
    corrected = _patch(shared_session, task, host_units=["区科技局", "区工业和信息化局"], text="实施高企倍增计划。")
    assert corrected.version == 2 and corrected.host_units == ["区科技局", "区工业和信息化局"]
    [entry] = audit_of(shared_session, task.task_id)
    assert entry.actor == "李督查" and entry.action == "correct" and entry.version == 2
    assert entry.changes["host_units"] == {"before": before_units, "after": ["区科技局", "区工业和信息化局"]}
    last = shared_session.exec(select(OutboxEntry).order_by(col(OutboxEntry.seq).desc())).first()
    event = TaskUpserted.model_validate(json.loads(last.payload))  # type: ignore[union-attr]
    assert event.task_id == task.task_id and event.version == 2
    assert [u.canonical for u in event.host_units] == ["区科学技术局", "区工业和信息化局"]
    assert not any(u.provisional for u in event.host_units)


def test_an_unknown_unit_or_leader_is_named_and_nothing_is_written(shared_session: Session) -> None:
    task = _task(shared_session)
    outbox = _outbox(shared_session)
    with pytest.raises(ApiError) as caught:
        _patch(shared_session, task, host_units=["区科技局", "区火星局"], leaders=["不存在的人"], text="改了")
    assert caught.value.status == 422
    assert "区火星局" in caught.value.zh and "不存在的人" in caught.value.zh and "区火星局" in caught.value.en
    assert caught.value.detail == {"unknown_units": ["区火星局"], "unknown_leaders": ["不存在的人"]}
    shared_session.rollback()
    fresh = _task(shared_session)
    assert fresh.version == 1 and fresh.text == task.text
    assert _outbox(shared_session) == outbox
    assert shared_session.exec(select(func.count()).select_from(AuditEntry)).one() == 0


def test_etag_mismatch_and_missing_if_match(shared_session: Session) -> None:
    task = _task(shared_session)
    stale = etag_of(task)
    _patch(shared_session, task, deadline_phrase="6月底前")
    with pytest.raises(ApiError) as caught:
        _patch(shared_session, task, if_match=stale, deadline_phrase="年底前")
    assert caught.value.status == 412 and caught.value.code == "etag_mismatch"
    with pytest.raises(ApiError) as missing:
        _patch(shared_session, task, if_match=None, deadline_phrase="年底前")
    assert missing.value.status == 428
    assert _task(shared_session).deadline_phrase == "6月底前"


def test_unknown_task_is_404(shared_session: Session) -> None:
    with pytest.raises(ApiError) as caught:
        correct_task(
            session=shared_session,
            subjects=SUBJECTS,
            task_id="t-missing-1",
            patch=TaskPatch(text="x"),
            if_match="*",
            actor="office",
            now=NOW,
        )
    assert caught.value.status == 404


def test_setting_a_field_back_is_no_longer_a_correction(shared_session: Session) -> None:
    task = _task(shared_session)
    original = task.deadline_phrase
    _patch(shared_session, task, deadline_phrase="6月底前")
    _patch(shared_session, task, deadline_phrase=original)
    assert _task(shared_session).corrections == {}
    assert [e.changes["deadline_phrase"]["after"] for e in audit_of(shared_session, task.task_id)] == [
        "6月底前",
        original,
    ]
