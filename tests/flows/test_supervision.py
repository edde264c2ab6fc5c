"""What the office controls first: which notices are supervised, and from when.

The five shared notices uploaded on 2026-11-30 raise nothing: the 2026 one is supervised from
that day (its tasks' state then is a baseline), the older ones are kept for reference. The
2026 notice's first escalations come once its first whole period (December) ends unreported.
"""

from __future__ import annotations

from datetime import datetime
from importlib import resources

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from services.common.inbox import seen
from services.notify.service import tick_if_new_day
from services.progress.models import ProgressTask
from services.progress.status import TICK_CONSUMER
from tests.flows.conftest import System
from tests.helpers import bearer, eventually, issue_token_direct, token_known
from tests.shared import NOTICE_NAMES, shared_notice

# 10:00 in Beijing on the upload day.
UPLOAD_DAY = datetime(2026, 11, 30, 2, 0)
CURRENT = "济兖政发〔2026〕1号"
TOTAL = 426


def _progress_count(system: System, *where: object) -> int:
    runtime = system.app.state.apps["progress"].state.runtime
    with Session(runtime.engine) as session:
        return int(session.exec(select(func.count()).select_from(ProgressTask).where(*where)).one())


async def _tick(system: System, when: datetime) -> None:
    """Move the clock and have notify publish that day's tick, as its loop would within a minute."""
    system.clock.set(when)
    runtime = system.app.state.apps["notify"].state.runtime
    with Session(runtime.engine) as session:
        assert tick_if_new_day(session=session, subjects=runtime.subjects, today=runtime.clock.today())
    runtime.relay.kick()


async def _escalations(system: System) -> list[dict[str, object]]:
    answer = await system.client.get("/api/notify/escalations", params={"limit": 1000})
    assert answer.status_code == 200, answer.text
    return list(answer.json())


@pytest.fixture(scope="module")
async def uploaded(system: System) -> dict[str, str]:
    """文号 → upload id of the five shared notices, uploaded on 2026-11-30 and known to progress."""
    system.clock.set(UPLOAD_DAY)
    notices = {}
    for name in NOTICE_NAMES:
        path = shared_notice(name)
        answer = await system.client.post(
            "/api/ingest/notices", files={"file": (path.name, path.read_bytes(), "text/plain")}
        )
        assert answer.status_code == 202, answer.text
        notices[answer.json()["doc_no"]] = answer.json()["notice_id"]

    async def all_judged() -> bool:
        return _progress_count(system, ProgressTask.flag != "") == TOTAL

    await eventually(all_judged, timeout=60, what="progress to judge the five notices' tasks")
    return notices


async def test_the_upload_raises_nothing(system: System, uploaded: dict[str, str]) -> None:
    for doc_no in uploaded:
        notice = (await system.client.get(f"/api/registry/notices/{doc_no}")).json()
        expected = "supervised" if doc_no == CURRENT else "reference"
        assert (notice["supervision"], notice["supervision_start"]) == (expected, "2026-11-30"), doc_no
    assert _progress_count(system, ProgressTask.flag != "blue") == 0
    reference = _progress_count(system, ProgressTask.doc_no != CURRENT)
    assert _progress_count(system, ProgressTask.rule == "reference") == reference
    # The 2026 notice is far behind by the calendar in November: that is its baseline.
    assert _progress_count(system, ProgressTask.rule == "baseline") > 0
    assert await _escalations(system) == []
    old = next(d for d in uploaded if d != CURRENT)
    [(task_id,), *_] = _task_ids(system, old)
    status = (await system.client.get(f"/api/progress/tasks/{task_id}/status")).json()
    assert (status["flag"], status["rule"], status["supervision"]) == ("blue", "reference", "reference")
    assert status["expected_percent"] > 0  # still shown


async def test_the_first_escalation_comes_after_the_first_period_ends_unreported(
    system: System, uploaded: dict[str, str]
) -> None:
    # The last days of December: its report is due, so 临近提醒 go out — but no 催办 for a report yet.
    await _tick(system, datetime(2026, 12, 28, 2, 0))
    reminded = await eventually(lambda: _rules_raised(system, "advance_report"), timeout=60, what="December's 临近提醒")
    assert {r["doc_no"] for r in reminded} == {CURRENT}  # one per unit, listing its tasks
    assert [r for r in await _escalations(system) if r["rule"] == "report_missing"] == []
    # December is the first whole period; its report is due by 5 January (REPORT_GRACE_DAYS).
    await _tick(system, datetime(2027, 1, 5, 2, 0))
    await eventually(lambda: _ticked(system, "tick-2027-01-05"), timeout=60, what="progress to apply the tick")
    # Every task of 2026 is overdue now, but its units have until the end of the 5th to report.
    assert _progress_count(system, ProgressTask.flag != "blue") == 0
    assert _progress_count(system, ProgressTask.rule == "baseline") == len(_task_ids(system, CURRENT))
    await _tick(system, datetime(2027, 1, 5, 17, 0))  # 6 January, 01:00 in Beijing

    async def raised() -> list[dict[str, object]] | None:
        rows = await _escalations(system)
        return rows or None

    rows = await eventually(raised, timeout=60, what="escalations once December went unreported")
    missing = await eventually(
        lambda: _rules_raised(system, "report_missing"), timeout=60, what="催办 for December's reports"
    )
    # The first 催办 on 5 January, the second a working day later (the next tick, 6 January).
    assert {r["level"] for r in missing} == {"reminder"} and {r["step"] for r in missing} <= {1, 2}
    await eventually(lambda: _ticked(system, "tick-2027-01-06"), timeout=60, what="progress to apply the tick")
    assert _progress_count(system, ProgressTask.rule == "baseline") == 0
    status = (await system.client.get(f"/api/progress/tasks/{rows[0]['task_id']}/status")).json()
    assert status["flag"] in ("yellow", "red")
    current = {t for (t,) in _task_ids(system, CURRENT)}
    assert {r["task_id"] for r in rows} - {""} <= current  # "": a unit's 临近提醒 of several tasks
    # Reference notices are never judged, however overdue.
    assert _progress_count(system, ProgressTask.doc_no != CURRENT, ProgressTask.flag != "blue") == 0


async def _rules_raised(system: System, rule: str) -> list[dict[str, object]] | None:
    return [r for r in await _escalations(system) if r["rule"] == rule] or None


async def _ticked(system: System, tick_id: str) -> bool:
    runtime = system.app.state.apps["progress"].state.runtime
    with Session(runtime.engine) as session:
        return seen(session, TICK_CONSUMER, tick_id)


def _task_ids(system: System, doc_no: str) -> list[tuple[str]]:
    runtime = system.app.state.apps["progress"].state.runtime
    with Session(runtime.engine) as session:
        return [(t,) for t in session.exec(select(ProgressTask.task_id).where(ProgressTask.doc_no == doc_no))]


async def test_only_the_office_sets_supervision_and_it_is_audited(system: System, uploaded: dict[str, str]) -> None:
    old = next(d for d in uploaded if d != CURRENT)
    url = f"/api/registry/notices/{old}/supervision"
    body = {"state": "supervised", "start": "2027-01-06"}
    supervisor = issue_token_direct(system.app, role="supervisor", post="区长")
    await token_known(system.app, supervisor)
    refused = await system.client.put(url, json=body, headers=bearer(supervisor))
    assert refused.status_code == 403, refused.text
    # A start more than a year from the notice's year is a typo: 2027 is too far for any old notice.
    answer = await system.client.put(url, json=body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["code"] == "bad_start"

    changed = await system.client.put(f"/api/registry/notices/{CURRENT}/supervision", json={"state": "reference"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["supervision"] == "reference"
    audit = (await system.client.get("/api/registry/audit", params={"action": "notice.supervision"})).json()
    mine = [a for a in audit["data"] if a["target"] == CURRENT]
    assert mine and mine[0]["request"]["state"] == "reference"
    assert mine[0]["before"]["state"] == "supervised"

    async def all_reference() -> bool:
        return _progress_count(system, ProgressTask.flag != "blue") == 0

    await eventually(all_reference, timeout=60, what="the 2026 notice's tasks to leave the board")


@pytest.mark.parametrize(
    ("ref", "body", "status"),
    [
        (CURRENT, {"state": "paused"}, 422),
        (CURRENT, {"state": "supervised", "start": "2030-01-01"}, 422),
        (CURRENT, {"state": "supervised", "start": "2024-12-31"}, 422),
        (CURRENT, {"state": "supervised", "start": "2026-13-01"}, 422),
        (CURRENT, {"state": "supervised", "extra": 1}, 422),
        ("济兖政发〔2099〕9号", {"state": "supervised"}, 404),
    ],
)
async def test_bad_input_writes_nothing(
    system: System, uploaded: dict[str, str], ref: str, body: dict[str, object], status: int
) -> None:
    before = (await system.client.get(f"/api/registry/notices/{CURRENT}")).json()
    audit = (await system.client.get("/api/registry/audit", params={"action": "notice.supervision"})).json()
    answer = await system.client.post(f"/api/registry/notices/{ref}/supervision", json=body)
    assert answer.status_code == status, answer.text
    assert (await system.client.get(f"/api/registry/notices/{CURRENT}")).json() == before
    after = (await system.client.get("/api/registry/audit", params={"action": "notice.supervision"})).json()
    assert after["count"] == audit["count"]


async def test_the_upload_form_chooses_the_state_and_start(system: System, uploaded: dict[str, str]) -> None:
    example = resources.files("services.ingest").joinpath("examples", "example-notice.txt").read_bytes()
    files = {"file": ("example.txt", example, "text/plain")}
    listed = len((await system.client.get("/api/ingest/notices")).json())
    bad = await system.client.post(
        "/api/ingest/notices", files=files, data={"supervision": "supervised", "supervision_start": "2029-01-01"}
    )
    assert bad.status_code == 422, bad.text
    assert bad.json()["error"]["code"] == "bad_start"
    unknown = await system.client.post("/api/ingest/notices", files=files, data={"supervision": "paused"})
    assert unknown.status_code == 422, unknown.text
    assert len((await system.client.get("/api/ingest/notices")).json()) == listed

    chosen = {"supervision": "reference", "supervision_start": "2026-12-01"}
    answer = await system.client.post("/api/ingest/notices", files=files, data=chosen)
    assert answer.status_code == 202, answer.text
    doc_no = answer.json()["doc_no"]

    async def registered() -> dict[str, object] | None:
        notice = await system.client.get(f"/api/registry/notices/{doc_no}")
        return notice.json() if notice.status_code == 200 else None

    notice = await eventually(registered, what="the registry to hold the example")
    assert (notice["supervision"], notice["supervision_start"]) == ("reference", "2026-12-01")
