"""A version that would drop most of a notice's tasks waits for the office; small edits apply at once."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError
from sqlmodel import Session, col, func, select

from proto.notice import ParsedNotice
from proto.task import TaskUpserted, task_id_for
from services.common.errors import ApiError
from services.common.outbox import OutboxEntry
from services.registry import versions
from services.registry.held import DropRule
from services.registry.models import AuditEntry, HeldVersion, NoticeVersion, RegistryNotice, RegistryTask
from services.registry.settings import RegistrySettings
from services.registry.version_review import confirm_version, discard_version
from services.registry.versions import Registered, register_notice
from tests.registry.conftest import NOW, SUBJECTS, notice_event, parsed

DOC = "济兖政发〔2026〕1号"
OFFICE = "李督查"


def _events(session: Session) -> list[TaskUpserted]:
    rows = session.exec(select(OutboxEntry).order_by(col(OutboxEntry.seq))).all()
    return [TaskUpserted.model_validate(json.loads(r.payload)) for r in rows if r.subject == SUBJECTS.task_upserted]


def _register(session: Session, parse: ParsedNotice, notice_id: str) -> Registered:
    return register_notice(session=session, subjects=SUBJECTS, event=notice_event(parse, notice_id), now=NOW)


def _keeping(numbers: set[int]) -> ParsedNotice:
    parse = parsed("yanzhou-2026-work-report-tasks").model_copy(deep=True)
    parse.tasks = [t for t in parse.tasks if t.number in numbers]
    return parse


def _in_force(session: Session) -> int:
    return session.exec(
        select(func.count()).select_from(RegistryTask).where(col(RegistryTask.removed).is_(False))
    ).one()


def _held(session: Session) -> list[tuple[int, str]]:
    rows = session.exec(select(HeldVersion).order_by(col(HeldVersion.version))).all()
    return [(h.version, h.status) for h in rows]


@pytest.fixture
def registered(session: Session) -> Session:
    first = _register(session, _keeping(set(range(1, 40))), "n000000000000001")
    assert first.version == 1 and first.published == 39
    return session


def test_the_rule_lets_small_edits_through() -> None:
    rule = DropRule()
    assert not rule.holds(removed=1, in_force=39) and not rule.holds(removed=7, in_force=39)
    assert rule.holds(removed=8, in_force=39) and rule.holds(removed=38, in_force=39)
    # A small notice: one task of three struck out is an edit; two of three is not.
    assert not rule.holds(removed=1, in_force=3) and rule.holds(removed=2, in_force=3)


def test_the_rule_comes_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LUOSHI_REGISTRY_MAX_DROP_SHARE", "0.5")
    monkeypatch.setenv("LUOSHI_REGISTRY_HOLD_MIN_REMOVED", "5")
    assert DropRule.of(RegistrySettings()) == DropRule(max_share=0.5, min_removed=5)
    monkeypatch.setenv("LUOSHI_REGISTRY_MAX_DROP_SHARE", "1.5")
    with pytest.raises(ValidationError):
        RegistrySettings()


def test_a_one_task_upload_is_held_and_changes_nothing(registered: Session) -> None:
    session = registered
    attack = _register(session, _keeping({1}), "n000000000000002")
    assert attack.held and not attack and attack.version == 2
    assert attack.diff == {"added": [], "removed": list(range(2, 40)), "changed": []}
    assert _in_force(session) == 39 and len(_events(session)) == 39
    notice = session.get(RegistryNotice, DOC)
    assert notice is not None and notice.version == 1 and notice.notice_id == "n000000000000001"
    assert session.exec(select(func.count()).select_from(NoticeVersion)).one() == 1
    # A redelivery, and another upload of the same content, add no second pending version.
    redelivered = register_notice(
        session=session, subjects=SUBJECTS, event=notice_event(_keeping({1}), "n000000000000002"), now=NOW
    )
    assert not redelivered.held
    again = _register(session, _keeping({1}), "n000000000000003")
    assert not again.held and _held(session) == [(2, "pending")]


def test_confirm_applies_it_as_any_new_version(registered: Session) -> None:
    session = registered
    _register(session, _keeping({1}), "n000000000000002")
    done = confirm_version(session=session, subjects=SUBJECTS, ref=DOC, version=2, actor=OFFICE, now=NOW)
    assert done.version == 2 and done.published == 38
    removed = _events(session)[39:]
    assert {(e.number, e.removed, e.version) for e in removed} == {(n, True, 2) for n in range(2, 40)}
    assert _in_force(session) == 1 and _held(session) == [(2, "confirmed")]
    notice = session.get(RegistryNotice, DOC)
    assert notice is not None and notice.version == 2 and notice.notice_id == "n000000000000002"
    held = session.exec(select(HeldVersion)).one()
    assert held.decided_by == OFFICE and held.event is None
    audit = session.exec(select(AuditEntry).where(AuditEntry.task_id == task_id_for(DOC, 39))).one()
    assert (audit.action, audit.actor) == ("removed", OFFICE) and OFFICE in (audit.note or "")
    with pytest.raises(ApiError) as twice:
        confirm_version(session=session, subjects=SUBJECTS, ref=DOC, version=2, actor=OFFICE, now=NOW)
    assert twice.value.status == 409 and twice.value.detail == {"status": "confirmed"}


def test_discard_keeps_the_version_in_force(registered: Session) -> None:
    session = registered
    _register(session, _keeping({1}), "n000000000000002")
    discard_version(session=session, ref="n000000000000002", version=2, actor=OFFICE, now=NOW)
    assert _in_force(session) == 39 and len(_events(session)) == 39 and _held(session) == [(2, "discarded")]
    audit = session.exec(select(AuditEntry).where(AuditEntry.task_id == task_id_for(DOC, 39))).one()
    assert (audit.action, audit.actor, audit.version) == ("discard_version", OFFICE, 1)
    for version, status in ((2, 409), (1, 409), (9, 404)):
        with pytest.raises(ApiError) as refused:
            confirm_version(session=session, subjects=SUBJECTS, ref=DOC, version=version, actor=OFFICE, now=NOW)
        assert refused.value.status == status and refused.value.zh and refused.value.en
    with pytest.raises(ApiError) as unknown:
        discard_version(session=session, ref="济兖政发〔1999〕9号", version=2, actor=OFFICE, now=NOW)
    assert unknown.value.status == 404
    # Uploaded once more, the discarded content is held again, under a new number.
    assert _register(session, _keeping({1}), "n000000000000003").version == 3
    assert _held(session) == [(2, "discarded"), (3, "pending")]


def test_a_small_edit_applies_at_once(registered: Session) -> None:
    session = registered
    edit = _register(session, _keeping(set(range(1, 39))), "n000000000000002")
    assert edit.version == 2 and not edit.held and edit.diff["removed"] == [39]
    assert _in_force(session) == 38 and _held(session) == []
    assert [(e.number, e.removed) for e in _events(session)[39:]] == [(39, True)]


def test_a_newer_version_supersedes_a_pending_one(registered: Session) -> None:
    session = registered
    _register(session, _keeping({1}), "n000000000000002")
    edit = _register(session, _keeping(set(range(1, 39))), "n000000000000003")
    assert edit.version == 3 and _in_force(session) == 38
    assert _held(session) == [(2, "superseded")]
    with pytest.raises(ApiError) as late:
        confirm_version(session=session, subjects=SUBJECTS, ref=DOC, version=2, actor=OFFICE, now=NOW)
    assert late.value.status == 409 and late.value.detail == {"status": "superseded"}
    # A second large drop replaces the first as the one pending.
    _register(session, _keeping({1, 2}), "n000000000000004")
    _register(session, _keeping({1}), "n000000000000005")
    assert _held(session) == [(2, "superseded"), (4, "superseded"), (5, "pending")]
    assert [v.version for v in session.exec(select(NoticeVersion).order_by(col(NoticeVersion.version))).all()] == [1, 3]


def test_a_failed_confirm_writes_nothing(registered: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    session = registered
    _register(session, _keeping({1}), "n000000000000002")

    def broken(*_args: object, **_kwargs: object) -> int:
        raise RuntimeError("the outbox is unwritable")

    monkeypatch.setattr(versions, "publish_tasks", broken)
    with pytest.raises(RuntimeError):
        confirm_version(session=session, subjects=SUBJECTS, ref=DOC, version=2, actor=OFFICE, now=NOW)
    session.rollback()
    assert _in_force(session) == 39 and _held(session) == [(2, "pending")]
    assert session.get(RegistryNotice, DOC).version == 1  # type: ignore[union-attr]
    assert session.exec(select(func.count()).select_from(AuditEntry)).one() == 0
