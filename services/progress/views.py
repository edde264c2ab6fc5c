"""Progress HTTP routes: thin shells over the domain modules."""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response, status
from pydantic import Field
from sqlmodel import Session

from services.common.access import (
    BEARER_SECURITY,
    OFFICE_OR_SUPERVISOR,
    ROLES,
    Access,
    AnyRoleDep,
    HeaderAccess,
    OfficeDep,
    UnitDep,
)
from services.common.audit import audit
from services.common.deps import RuntimeDep, SessionDep
from services.common.identity import Principal
from services.common.params import Limit, Offset
from services.progress import closeout, extensions, ledger, reads, receipts, reports, tokens
from services.progress.bulletins import Layout
from services.progress.gate import WriteGate
from services.progress.models import Closeout, Extension, Receipt
from services.progress.schemas import (
    CloseoutIn,
    DecisionIn,
    ExtensionIn,
    ReportAccepted,
    ReportIn,
    RollupsPublic,
    TaskStatus,
    TokenIn,
    TokenIssued,
    TokenPublic,
)
from services.progress.status import Rules
from services.progress.writer import ReportWriter

router = APIRouter(tags=["progress"])


async def _gate(request: Request) -> WriteGate:
    return request.app.state.write_gate  # type: ignore[no-any-return]


async def _rules(request: Request) -> Rules:
    return request.app.state.rules  # type: ignore[no-any-return]


GateDep = Annotated[WriteGate, Depends(_gate)]
RulesDep = Annotated[Rules, Depends(_rules)]
# Units report; the office and supervisors read. Only the roll-ups may be opened to anyone
# (PUBLIC_READS): task status carries the units' narratives.
REPORTER = HeaderAccess("unit")
ROLLUP_READER = Access(*ROLES, public_setting="public_reads")
ReporterDep = Annotated[Principal, Depends(REPORTER)]
OverseerDep = Annotated[Principal, Depends(OFFICE_OR_SUPERVISOR)]


NoticeRef = Annotated[str, Field(min_length=1, max_length=200)]
IDEMPOTENCY_KEY_MAX = 200
_IDEMPOTENCY_KEY_DOC = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "maxLength": IDEMPOTENCY_KEY_MAX},
    "description": "A retry with the same key gets the first answer (`Idempotent-Replay: true`).",
}


# First in the router: FastAPI tries routes in order, and this one takes nearly all the traffic.
@router.post(
    "/tasks/{task_id}/progress",
    status_code=status.HTTP_201_CREATED,
    response_model=ReportAccepted,
    openapi_extra={"parameters": [_IDEMPOTENCY_KEY_DOC], **BEARER_SECURITY},
)
async def post_progress(task_id: str, report: ReportIn, principal: ReporterDep, request: Request) -> Response:
    # The busiest route: its header is read here and its answer written as is, each costing less
    # than FastAPI's parameter and response-model machinery (documented through `openapi_extra`).
    idempotency_key = reports.idempotency_key(request.headers.get("idempotency-key"), IDEMPOTENCY_KEY_MAX)
    writer: ReportWriter = request.app.state.report_writer
    now = request.app.state.runtime.clock.now()
    # Answered only once the report's batch is committed (group commit, see `writer.py`).
    answer, created = await writer.submit(reports.Submission(principal, task_id, report, idempotency_key, now))
    return Response(
        answer.model_dump_json(),
        status_code=status.HTTP_201_CREATED,
        media_type="application/json",
        headers=None if created else {"Idempotent-Replay": "true"},
    )


@router.post("/tokens", status_code=status.HTTP_201_CREATED, response_model=TokenIssued, tags=["tokens"])
def post_token(
    body: TokenIn, office: OfficeDep, runtime: RuntimeDep, session: SessionDep, gate: GateDep
) -> TokenIssued:
    now = runtime.clock.now()
    with gate:
        audit(
            session,
            principal=office,
            action="token.issue",
            target=body.unit or body.post or body.role,
            now=now,
            request=body,
        )
        row, secret, unit = tokens.issue_token(
            session=session,
            subjects=runtime.subjects,
            role=body.role,
            unit=body.unit,
            post=body.post,
            label=body.label,
            valid_days=body.valid_days,
            now=now,
        )
    runtime.relay.kick()
    return TokenIssued(
        token_id=row.token_id,
        token=secret,
        role=row.role,
        unit_id=row.unit_id,
        unit_name=unit.name if unit else None,
        post_id=row.post_id,
        expires_at=row.expires_at,
    )


@router.get("/tokens", response_model=list[TokenPublic], tags=["tokens"])
def get_tokens(_office: OfficeDep, session: SessionDep) -> list[TokenPublic]:
    return [TokenPublic.model_validate(t, from_attributes=True) for t in tokens.list_tokens(session=session)]


@router.delete("/tokens/{token_id}", response_model=TokenPublic, tags=["tokens"])
def delete_token(
    token_id: str, office: OfficeDep, runtime: RuntimeDep, session: SessionDep, gate: GateDep
) -> TokenPublic:
    now = runtime.clock.now()
    with gate:
        audit(session, principal=office, action="token.revoke", target=token_id, now=now)
        row = tokens.revoke_token(session=session, subjects=runtime.subjects, token_id=token_id, now=now)
    runtime.tokens.forget(token_id)
    runtime.relay.kick()
    return TokenPublic.model_validate(row, from_attributes=True)


@router.get("/tasks/{task_id}/status", response_model=TaskStatus)
async def get_task_status(
    task_id: str,
    reader: AnyRoleDep,
    runtime: RuntimeDep,
    rules: RulesDep,
    limit: Annotated[Limit, Query(description="Reports of the history to return, newest first.")] = 50,
    offset: Offset = 0,
) -> TaskStatus:
    def read() -> TaskStatus:
        with runtime.engine.connect() as conn:
            clock = runtime.clock
            return reads.task_status(
                conn=conn,
                task_id=task_id,
                today=clock.today(),
                zone=clock.zone,
                limit=limit,
                offset=offset,
                viewer=reader,
                rules=rules,
            )

    return await runtime.run_db(read)


@router.get("/status", response_model=RollupsPublic)
async def get_rollups(
    _reader: Annotated[Principal | None, Depends(ROLLUP_READER)],
    runtime: RuntimeDep,
    request: Request,
    by: str = Query("notice", max_length=10, description="unit, leader, chapter or notice"),
    notice: Annotated[
        list[NoticeRef] | None, Query(max_length=50, description="Only these notices' tasks: 文号 or id, repeatable.")
    ] = None,
    period: str | None = Query(
        None,
        max_length=40,
        description="Figures as of this period's end, as a bulletin counts them (by unit or leader): 2026-11, "
        "2026-11-上旬, 2026-Q4, 2026-11-01~2026-11-15.",
    ),
    sort: Literal["key", "score"] = Query(
        "key", description="key: by unit id, leader…; score: by the ranking score, best first (by=unit)."
    ),
) -> RollupsPublic:
    notices = list(notice or [])
    if period is None and sort == "key":

        def read() -> RollupsPublic:
            with runtime.engine.connect() as conn:
                return reads.rollups(conn=conn, by=by, notice=notices)

        return await runtime.run_db(read)

    def read_as_of() -> RollupsPublic:
        with Session(runtime.engine) as session:
            return reads.period_rollups(
                session=session,
                by=by,
                notices=notices,
                period=period,
                sort=sort,
                today=runtime.clock.today(),
                rules=request.app.state.rules,
                options=Layout.from_settings(runtime.settings).options,
            )

    # Off the event loop whatever the database: it re-judges every task of the notices (~0.7 s at 2,000).
    return await asyncio.to_thread(read_as_of)


@router.post("/tasks/{task_id}/receipt", response_model=Receipt, tags=["receipts"])
def post_receipt(
    task_id: str, principal: UnitDep, runtime: RuntimeDep, session: SessionDep, gate: GateDep, rules: RulesDep
) -> Receipt:
    with gate:
        audit(session, principal=principal, action="task.receipt", target=task_id, now=runtime.clock.now())
        row = receipts.acknowledge(
            session=session,
            subjects=runtime.subjects,
            principal=principal,
            task_id=task_id,
            now=runtime.clock.now(),
            rules=rules,
        )
    runtime.relay.kick()
    return row


@router.get("/receipts", response_model=list[Receipt], tags=["receipts"])
def get_pending_receipts(
    reader: AnyRoleDep, session: SessionDep, limit: Limit = 100, offset: Offset = 0
) -> list[Receipt]:
    unit_id = reader.unit_id if reader.role == "unit" else None
    return receipts.pending_receipts(session=session, unit_id=unit_id, limit=limit, offset=offset)


@router.post(
    "/tasks/{task_id}/extensions", status_code=status.HTTP_201_CREATED, response_model=Extension, tags=["extensions"]
)
def post_extension(
    task_id: str,
    body: ExtensionIn,
    principal: UnitDep,
    runtime: RuntimeDep,
    session: SessionDep,
    gate: GateDep,
    rules: RulesDep,
) -> Extension:
    with gate:
        audit(
            session,
            principal=principal,
            action="extension.request",
            target=task_id,
            now=runtime.clock.now(),
            request=body,
        )
        return extensions.request_extension(
            session=session,
            principal=principal,
            task_id=task_id,
            due_date=body.due_date,
            reason=body.reason,
            now=runtime.clock.now(),
            rules=rules,
        )


@router.post("/extensions/{extension_id}/decision", response_model=Extension, tags=["extensions"])
def post_extension_decision(
    extension_id: str,
    body: DecisionIn,
    office: OfficeDep,
    runtime: RuntimeDep,
    session: SessionDep,
    gate: GateDep,
    rules: RulesDep,
) -> Extension:
    with gate:
        audit(
            session,
            principal=office,
            action="extension.decide",
            target=extension_id,
            now=runtime.clock.now(),
            request=body,
        )
        row = extensions.decide_extension(
            session=session,
            subjects=runtime.subjects,
            principal=office,
            extension_id=extension_id,
            approve=body.approve,
            comment=body.comment,
            now=runtime.clock.now(),
            rules=rules,
        )
    runtime.relay.kick()
    return row


@router.get("/extensions", response_model=list[Extension], tags=["extensions"])
def get_pending_extensions(_reader: OverseerDep, session: SessionDep) -> list[Extension]:
    return extensions.pending_extensions(session=session)


@router.post(
    "/tasks/{task_id}/closeout", status_code=status.HTTP_201_CREATED, response_model=Closeout, tags=["closeout"]
)
def post_closeout(
    task_id: str, body: CloseoutIn, principal: UnitDep, runtime: RuntimeDep, session: SessionDep, gate: GateDep
) -> Closeout:
    with gate:
        audit(
            session,
            principal=principal,
            action="closeout.request",
            target=task_id,
            now=runtime.clock.now(),
            request=body,
        )
        return closeout.request_closeout(
            session=session, principal=principal, task_id=task_id, summary=body.summary, now=runtime.clock.now()
        )


@router.post("/closeouts/{closeout_id}/decision", response_model=Closeout, tags=["closeout"])
def post_closeout_decision(
    closeout_id: str,
    body: DecisionIn,
    office: OfficeDep,
    runtime: RuntimeDep,
    session: SessionDep,
    gate: GateDep,
    rules: RulesDep,
) -> Closeout:
    with gate:
        audit(
            session,
            principal=office,
            action="closeout.decide",
            target=closeout_id,
            now=runtime.clock.now(),
            request=body,
        )
        row = closeout.decide_closeout(
            session=session,
            subjects=runtime.subjects,
            principal=office,
            closeout_id=closeout_id,
            approve=body.approve,
            comment=body.comment,
            now=runtime.clock.now(),
            rules=rules,
        )
    runtime.relay.kick()
    return row


@router.get("/closeouts", response_model=list[Closeout], tags=["closeout"])
def get_pending_closeouts(_reader: OverseerDep, session: SessionDep) -> list[Closeout]:
    return closeout.pending_closeouts(session=session)


_NOTICE = Query(..., min_length=1, max_length=200, description="The notice's 文号 or notice id.")


@router.get("/ledger.xlsx", tags=["ledger"], response_class=Response)
def get_ledger_xlsx(_reader: OverseerDep, runtime: RuntimeDep, session: SessionDep, notice: str = _NOTICE) -> Response:
    doc_no, rows = ledger.ledger_rows(session=session, notice=notice)
    return Response(
        ledger.to_xlsx(doc_no, rows, runtime.clock.today()),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": _attachment(doc_no, "xlsx")},
    )


@router.get("/ledger.csv", tags=["ledger"], response_class=Response)
def get_ledger_csv(_reader: OverseerDep, session: SessionDep, notice: str = _NOTICE) -> Response:
    doc_no, rows = ledger.ledger_rows(session=session, notice=notice)
    return Response(
        ledger.to_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": _attachment(doc_no, "csv")},
    )


def _attachment(doc_no: str, ext: str) -> str:
    from urllib.parse import quote

    # RFC 6266: an ASCII fallback name, and the Chinese one percent-encoded.
    return f"attachment; filename=ledger.{ext}; filename*=UTF-8''{quote(f'{doc_no}台账.{ext}')}"
