from __future__ import annotations

from fastapi import APIRouter, Query

from services.common.access import AnyRoleDep, access_denied
from services.common.audit import audit
from services.common.deps import RuntimeDep, SessionDep
from services.common.params import Limit, Offset
from services.notify.models import AckIn, EscalationPublic
from services.notify.service import acknowledge, list_escalations, require_escalation

router = APIRouter(tags=["escalations"])


@router.get("/escalations", response_model=list[EscalationPublic])
def get_escalations(
    session: SessionDep,
    reader: AnyRoleDep,
    unit: str | None = Query(None, max_length=200),
    level: str | None = Query(None, max_length=20),
    open_only: bool = Query(False, alias="open"),
    limit: Limit = 50,
    offset: Offset = 0,
) -> list[EscalationPublic]:
    """A unit sees the escalations addressed to it; the office and supervisors see all."""
    unit_id = reader.unit_id if reader.role == "unit" else None
    rows = list_escalations(
        session=session, unit=unit, unit_id=unit_id, level=level, open_only=open_only, limit=limit, offset=offset
    )
    return [EscalationPublic.model_validate(r, from_attributes=True) for r in rows]


@router.post("/escalations/{escalation_id}/ack", response_model=EscalationPublic)
def ack_escalation(
    escalation_id: str, body: AckIn, runtime: RuntimeDep, session: SessionDep, principal: AnyRoleDep
) -> EscalationPublic:
    """The office, or the unit the escalation is addressed to, acknowledges it."""
    row = require_escalation(session=session, escalation_id=escalation_id)
    if principal.role != "office" and not (principal.role == "unit" and principal.unit_id == row.unit_id):
        raise access_denied(
            "只有督查室或督办对象单位可以签收此督办", "only the office or the addressed unit may acknowledge"
        )
    now = runtime.clock.now()
    audit(session, principal=principal, action="escalation.ack", target=escalation_id, now=now, request=body)
    by = principal.actor + (f"（{body.by}）" if body.by else "")
    row = acknowledge(session=session, escalation_id=escalation_id, by=by, now=now)
    return EscalationPublic.model_validate(row, from_attributes=True)
