"""Who may acknowledge an escalation: the office, or a unit or a leader's post it is addressed to."""

from __future__ import annotations

import pytest

from services.common.errors import ApiError
from services.common.identity import Principal
from services.notify.models import Escalation
from services.notify.service import check_may_acknowledge

ROW = Escalation(
    escalation_id="e1",
    level="red",
    task_id="t-1",
    unit="县工业和信息化局",
    message="…",
    recipients=[
        {"kind": "unit", "id": "ugongxin0001", "name": "县工业和信息化局"},
        {"kind": "post", "id": "pfuxianzhang", "name": "李明", "holder": "王强"},
        {"kind": "office", "id": "office", "name": "督查室", "copy": True},
    ],
)


@pytest.mark.parametrize(
    "principal",
    [
        Principal("a", "office"),
        Principal("b", "unit", unit_id="ugongxin0001"),
        Principal("c", "supervisor", post_id="pfuxianzhang"),
    ],
)
def test_the_office_and_the_recipients_may(principal: Principal) -> None:
    check_may_acknowledge(principal, ROW)


@pytest.mark.parametrize(
    "principal",
    [
        Principal("d", "unit", unit_id="uother000001"),
        Principal("e", "unit"),
        Principal("f", "supervisor", post_id="pquzhang0001"),
        Principal("g", "supervisor"),
    ],
)
def test_anyone_else_may_not(principal: Principal) -> None:
    with pytest.raises(ApiError) as refused:
        check_may_acknowledge(principal, ROW)
    assert refused.value.status == 403


def test_a_closed_escalation_has_nothing_to_acknowledge() -> None:
    closed = Escalation(**{**ROW.model_dump(), "state": "closed"})
    with pytest.raises(ApiError) as refused:
        check_may_acknowledge(Principal("a", "office"), closed)
    assert refused.value.status == 409
