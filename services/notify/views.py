from __future__ import annotations

from fastapi import APIRouter, Query

from services.common.deps import RuntimeDep, SessionDep
from services.common.params import Limit, Offset
from services.notify.models import AckIn, EscalationPublic
from services.notify.service import acknowledge, list_escalations

router = APIRouter(tags=["escalations"])


@router.get("/escalations", response_model=list[EscalationPublic])
def get_escalations(
    session: SessionDep,
    unit: str | None = Query(None, max_length=200),
    level: str | None = Query(None, max_length=20),
    open_only: bool = Query(False, alias="open"),
    limit: Limit = 50,
    offset: Offset = 0,
) -> list[EscalationPublic]:
    rows = list_escalations(session=session, unit=unit, level=level, open_only=open_only, limit=limit, offset=offset)
    return [EscalationPublic.model_validate(r, from_attributes=True) for r in rows]


@router.post("/escalations/{escalation_id}/ack", response_model=EscalationPublic)
def ack_escalation(escalation_id: str, body: AckIn, runtime: RuntimeDep, session: SessionDep) -> EscalationPublic:
    row = acknowledge(session=session, escalation_id=escalation_id, by=body.by, now=runtime.clock.now())
    return EscalationPublic.model_validate(row, from_attributes=True)
