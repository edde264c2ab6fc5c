"""GET /status?notice=: the roll-ups of one notice's tasks, counted by the rule of the stored ones."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from services.common.errors import ApiError
from services.progress.reads import rollups
from tests.progress.conftest import DOC, upsert
from tests.progress.test_latest import report


def test_roll_ups_of_one_notice_count_only_its_tasks(session: Session) -> None:
    other = "示政发〔2026〕10号"
    upsert(session, number=1, hosts=("甲局",), leaders=("王明",))
    upsert(session, number=2, hosts=("甲局", "丙局"), leaders=("王明",))
    upsert(session, number=1, hosts=("甲局",), leaders=("李华",), doc=other, notice_id="n2")
    report(session, "t-n2-1", "甲局", percent=50, period="2026-04")
    conn = session.connection()
    everything = {r.label: r for r in rollups(conn=conn, by="unit").data}
    assert everything["甲局"].total == 3
    for ref in (other, "n2"):  # its 文号 or its id
        mine = rollups(conn=conn, by="unit", notice=ref)
        assert (mine.notice, [(r.label, r.total) for r in mine.data]) == (ref, [("甲局", 1)])
        assert mine.data[0].average_completion == 50.0
    first = {r.label: r.total for r in rollups(conn=conn, by="unit", notice=DOC).data}
    assert first == {"甲局": 2, "丙局": 1}
    assert [r.label for r in rollups(conn=conn, by="leader", notice=DOC).data] == ["王明"]
    # Counted afresh, a notice's row is the stored incremental one.
    stored = {r.key: r for r in rollups(conn=conn, by="notice").data}
    assert rollups(conn=conn, by="notice", notice=other).data == [stored[other]]
    with pytest.raises(ApiError) as unknown:
        rollups(conn=conn, by="unit", notice="无此通知")
    assert (unknown.value.status, unknown.value.code) == (404, "notice_not_found")
