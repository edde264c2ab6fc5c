"""Re-ingest: the same notice changes nothing; a changed version yields its diff and history."""

from __future__ import annotations

import json

from sqlmodel import Session, col, func, select

from proto.task import TaskUpserted, task_id_for
from services.common.outbox import OutboxEntry
from services.registry.corrections import correct_task, etag_of
from services.registry.models import AuditEntry, NoticeVersion, RegistryTask
from services.registry.schemas import TaskPatch
from services.registry.versions import register_notice
from tests.registry.conftest import NOW, SUBJECTS, notice_event, parsed

DOC = "济兖政发〔2026〕1号"


def _events(session: Session) -> list[TaskUpserted]:
    rows = session.exec(select(OutboxEntry).order_by(col(OutboxEntry.seq))).all()
    return [TaskUpserted.model_validate(json.loads(r.payload)) for r in rows if r.subject == SUBJECTS.task_upserted]


def _register(session: Session, parse, notice_id: str = "n000000000000001"):  # type: ignore[no-untyped-def]
    return register_notice(session=session, subjects=SUBJECTS, event=notice_event(parse, notice_id), now=NOW)


def test_same_notice_again_changes_nothing(session: Session) -> None:
    parse = parsed("yanzhou-2026-work-report-tasks")
    first = _register(session, parse)
    assert first.version == 1 and first.published == 39
    before = {t.task_id: t.version for t in session.exec(select(RegistryTask)).all()}
    # Another upload of the same content (new event id, new upload id): no version, no event.
    again = _register(session, parse, notice_id="n000000000000002")
    assert not again and again.version == 1
    assert {t.task_id: t.version for t in session.exec(select(RegistryTask)).all()} == before
    assert len(_events(session)) == 39
    assert session.exec(select(func.count()).select_from(NoticeVersion)).one() == 1
    ids = {task_id_for(DOC, n) for n in range(1, 40)}
    assert set(before) == ids


def test_a_changed_version_yields_its_diff_and_history(session: Session) -> None:
    parse = parsed("yanzhou-2026-work-report-tasks")
    _register(session, parse)
    v2 = parse.model_copy(deep=True)
    v2.tasks = [t for t in v2.tasks if t.number != 39]
    v2.tasks[1].text = v2.tasks[1].text + "（修订）"
    extra = v2.tasks[0].model_copy(deep=True)
    extra.number, extra.text = 40, "新增的任务：建设示范项目3个。"
    v2.tasks.append(extra)
    result = _register(session, v2, notice_id="n000000000000002")
    assert result.version == 2
    assert result.diff == {"added": [40], "removed": [39], "changed": [{"number": 2, "fields": ["text"]}]}
    events = _events(session)[39:]
    assert {(e.number, e.removed, e.version) for e in events} == {(2, False, 2), (40, False, 1), (39, True, 2)}
    removed = session.get(RegistryTask, task_id_for(DOC, 39))
    assert removed is not None and removed.removed
    history = session.exec(select(NoticeVersion).order_by(col(NoticeVersion.version))).all()
    assert [(v.version, v.notice_id, v.task_count) for v in history] == [
        (1, "n000000000000001", 39),
        (2, "n000000000000002", 39),
    ]
    audit = session.exec(select(AuditEntry).where(AuditEntry.task_id == task_id_for(DOC, 2))).all()
    assert audit[0].action == "reingest" and audit[0].changes["text"]["after"].endswith("（修订）")
    # The first content again is a third version: the task comes back, the extra one goes.
    back = _register(session, parse, notice_id="n000000000000001")
    assert back.version == 3 and back.diff["added"] == [] and back.diff["removed"] == [40]
    assert not session.get(RegistryTask, task_id_for(DOC, 39)).removed  # type: ignore[union-attr]


def test_corrections_survive_reingest_and_carry_to_unchanged_tasks(session: Session) -> None:
    parse = parsed("yanzhou-2026-work-report-tasks")
    _register(session, parse)
    t3, t4 = (session.get(RegistryTask, task_id_for(DOC, n)) for n in (3, 4))
    assert t3 is not None and t4 is not None
    everyone = {n for t in session.exec(select(RegistryTask)).all() for n in t.leaders}
    for task in (t3, t4):
        other = sorted(everyone - set(task.leaders))[0]
        correct_task(
            session=session,
            subjects=SUBJECTS,
            task_id=task.task_id,
            patch=TaskPatch(deadline_phrase="6月底前", due_date="2026-06-30", leaders=[other]),  # type: ignore[arg-type]
            if_match=etag_of(task),
            actor="张科员",
            now=NOW,
        )
    _register(session, parse, notice_id="n000000000000009")
    assert session.get(RegistryTask, t3.task_id).deadline_phrase == "6月底前"  # type: ignore[union-attr]

    v2 = parse.model_copy(deep=True)
    by_number = {t.number: t for t in v2.tasks}
    by_number[4].text += "（修订）"
    by_number[4].deadline = None
    _register(session, v2, notice_id="n000000000000002")
    kept, partly = session.get(RegistryTask, t3.task_id), session.get(RegistryTask, t4.task_id)
    assert kept is not None and partly is not None
    # Task 3 did not change: every correction carried. Task 4 changed its text and deadline:
    # the new deadline stands, the leader correction (a field the version left alone) stays.
    assert kept.deadline_phrase == "6月底前" and str(kept.due_date) == "2026-06-30"
    assert partly.deadline_phrase is None and partly.text.endswith("（修订）")
    assert partly.corrections == {"leaders": partly.leaders}
    note = session.exec(
        select(AuditEntry).where(AuditEntry.task_id == t4.task_id, AuditEntry.action == "reingest")
    ).one()
    assert note.note and "deadline_phrase" in note.note
