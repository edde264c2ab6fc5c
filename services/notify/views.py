"""The notify API: escalations, their acknowledgement, the chase's history, silences, the rules."""

from __future__ import annotations

from datetime import UTC, date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from services.common.access import AnyRoleDep, OfficeDep
from services.common.audit import audit
from services.common.deps import SessionDep
from services.common.identity import Principal
from services.common.params import Limit, Offset
from services.notify import cases
from services.notify.delivery import delivery_history
from services.notify.delivery_schemas import AttemptPublic
from services.notify.handlers import Chase
from services.notify.history import search_history, task_history
from services.notify.models import Escalation, Silence
from services.notify.pending import commit
from services.notify.schemas import AckIn, EscalationPublic, HistoryPublic, RulesPublic, SilenceIn, SilencePublic
from services.notify.service import check_may_acknowledge, list_escalations, require_escalation
from services.notify.silences import list_silences, require_silence, validate

router = APIRouter(tags=["escalations"])

Id = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
SilenceId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Party = Annotated[str | None, Query(max_length=64, description="A unit id or a leader's post id.")]


def _chase(request: Request) -> Chase:
    return request.app.state.chase  # type: ignore[no-any-return]


ChaseDep = Annotated[Chase, Depends(_chase)]


def _own_party(reader: Principal) -> str | None:
    """What a unit or a leader's post may see: escalations addressed to it; the office sees all."""
    if reader.role == "unit":
        return reader.unit_id or "-"
    if reader.role == "supervisor" and reader.post_id:
        return reader.post_id
    return None


def _public(row: Escalation) -> EscalationPublic:
    return EscalationPublic.model_validate(row, from_attributes=True)


@router.get("/escalations", response_model=list[EscalationPublic])
def get_escalations(
    session: SessionDep,
    reader: AnyRoleDep,
    unit: str | None = Query(None, max_length=200, description="A unit id or name."),
    task: str | None = Query(None, max_length=64),
    level: str | None = Query(None, max_length=20),
    rule: str | None = Query(None, max_length=30),
    state: str | None = Query(None, max_length=10),
    open_only: bool = Query(False, alias="open"),
    limit: Limit = 50,
    offset: Offset = 0,
) -> list[EscalationPublic]:
    """Newest first. A unit sees the escalations addressed to it, a leader's post its own; the office all."""
    rows = list_escalations(
        session=session,
        party=_own_party(reader),
        task=task,
        unit=unit,
        level=level,
        rule=rule,
        state=state,
        open_only=open_only,
        limit=limit,
        offset=offset,
    )
    return [_public(r) for r in rows]


@router.get("/escalations/{escalation_id}", response_model=EscalationPublic)
def get_escalation(escalation_id: Id, session: SessionDep, reader: AnyRoleDep) -> EscalationPublic:
    row = require_escalation(session=session, escalation_id=escalation_id)
    party = _own_party(reader)
    if party is not None and f" {party} " not in row.parties:
        require_escalation(session=session, escalation_id="-")  # not addressed to the reader: as if unknown
    return _public(row)


@router.post("/escalations/{escalation_id}/ack", response_model=EscalationPublic)
def ack_escalation(
    escalation_id: Id, body: AckIn, chase: ChaseDep, session: SessionDep, principal: AnyRoleDep
) -> EscalationPublic:
    """签收 by a recipient or the office: the ladder pauses; the step comes back after the pause if the cause stays."""
    row = require_escalation(session=session, escalation_id=escalation_id)
    check_may_acknowledge(principal, row)
    ctx = chase.context()
    audit(session, principal=principal, action="escalation.ack", target=escalation_id, now=ctx.now, request=body)
    actor = principal.actor + (f"（{body.by}）" if body.by else "")
    cases.acknowledge(session, ctx, row, actor=actor, comment=body.comment)
    commit(session)
    return _public(row)


def _history(rows: list) -> list[HistoryPublic]:  # type: ignore[type-arg]
    return [HistoryPublic.model_validate(r, from_attributes=True) for r in rows]


@router.get("/tasks/{task_id}/history", response_model=list[HistoryPublic | AttemptPublic])
def get_task_history(task_id: Id, session: SessionDep, reader: AnyRoleDep) -> list[HistoryPublic | AttemptPublic]:
    """The task's whole chase in order: every step, acknowledgement, silence and closure, and
    every try to deliver a step with the receiver's answer (`kind` "delivery")."""
    rows = task_history(session, task_id)
    attempts = delivery_history(session, task_id)
    party = _own_party(reader)
    if party is not None:
        rows = [r for r in rows if f" {party} " in r.parties]
        attempts = [a for a in attempts if party in a.recipient]
    merged: list[HistoryPublic | AttemptPublic] = [*_history(rows), *attempts]
    return sorted(merged, key=lambda entry: entry.at if entry.at.tzinfo else entry.at.replace(tzinfo=UTC))


@router.get("/history", response_model=list[HistoryPublic])
def get_history(
    session: SessionDep,
    reader: AnyRoleDep,
    task: str | None = Query(None, max_length=64),
    party: Party = None,
    since: date | None = None,
    until: date | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> list[HistoryPublic]:
    """留痕 by task, unit or leader's post (`party`) and China date; a unit or post sees only its own."""
    own = _own_party(reader)
    rows = search_history(session, task=task, party=own or party, since=since, until=until, limit=limit, offset=offset)
    if own is not None and party not in (None, own):
        rows = []
    return _history(rows)


@router.post("/silences", response_model=SilencePublic, status_code=201)
def create_silence(body: SilenceIn, chase: ChaseDep, session: SessionDep, principal: OfficeDep) -> SilencePublic:
    """The office mutes a task, a unit or a rule until a date, with a reason."""
    ctx = chase.context()
    starts_on = body.starts_on or ctx.today
    validate(body.scope, body.target, starts_on, body.until)
    row = Silence(
        scope=body.scope,
        target=body.target,
        starts_on=starts_on,
        until=body.until,
        reason=body.reason,
        created_by=principal.actor,
        created_at=ctx.now,
    )
    session.add(row)
    audit(
        session,
        principal=principal,
        action="silence.create",
        target=f"{body.scope}:{body.target}",
        now=ctx.now,
        request=body,
    )
    session.commit()
    return SilencePublic.model_validate(row, from_attributes=True)


@router.get("/silences", response_model=list[SilencePublic])
def get_silences(
    session: SessionDep,
    reader: AnyRoleDep,
    active_on: date | None = Query(None, description="Only the silences in force on this China date."),
    limit: Limit = 50,
    offset: Offset = 0,
) -> list[SilencePublic]:
    rows = list_silences(session, active_on=active_on, limit=limit, offset=offset)
    return [SilencePublic.model_validate(r, from_attributes=True) for r in rows]


@router.delete("/silences/{silence_id}", status_code=204)
def delete_silence(silence_id: SilenceId, chase: ChaseDep, session: SessionDep, principal: OfficeDep) -> None:
    row = require_silence(session, silence_id)
    audit(session, principal=principal, action="silence.delete", target=str(silence_id), now=chase.context().now)
    session.delete(row)
    session.commit()


@router.get("/rules", response_model=RulesPublic)
def get_rules(chase: ChaseDep, reader: AnyRoleDep) -> RulesPublic:
    """The ladder's rules in force, where they come from, and why the file was refused if it was."""
    rules = chase.book.current()
    return RulesPublic(source=str(chase.book.path), error=chase.book.error, rules=rules.model_dump(mode="json"))
