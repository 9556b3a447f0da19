"""Case routes under /api/v1: thin, one service call each."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response

from backend.cases import alerts, intake, queries, ratings, summons, timeline, transitions
from backend.cases.schemas.citizens import (
    CaseEventOut,
    CitizenCaseOut,
    CitizenLookupIn,
    IdentityRenamesIn,
    IdentityRenamesOut,
)
from backend.cases.schemas.detail import CaseCreated, CaseDetailOut, CaseOut, UpdateOut
from backend.cases.schemas.intake import CaseCreate, SubmissionIn
from backend.cases.schemas.moves import NoteIn, TransitionIn
from backend.cases.schemas.ratings import RatingIn
from backend.cases.schemas.summonses import CheckInIn, SummonsIn, SummonsOut
from backend.cases.states import CaseStatus
from backend.db import LARGEST_ID
from backend.deps import DB
from backend.errors import BadInput
from backend.staff.callers import Caller, require
from backend.staff.principal import Principal
from backend.staff.roles import Role

router = APIRouter(prefix="/api/v1", tags=["cases"])
Intake = Annotated[Principal, Depends(require(Role.OPERATOR, Role.SERVICE))]
StaffCaller = Annotated[Principal, Depends(require(Role.OPERATOR, Role.UNIT_STAFF, Role.SUPERVISOR))]
Supervisor = Annotated[Principal, Depends(require(Role.SUPERVISOR))]
Watcher = Annotated[Principal, Depends(require(Role.UNIT_STAFF, Role.SUPERVISOR))]
ServiceCaller = Annotated[Principal, Depends(require(Role.SERVICE))]
UnitStaff = Annotated[Principal, Depends(require(Role.UNIT_STAFF))]
SUMMONS_STATES = ("open", "unanswered", "overdue", "all")
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=100)]


@router.post("/cases", response_model=CaseCreated, status_code=201)
def create_case(
    request: Request,
    response: Response,
    case_in: CaseCreate,
    session: DB,
    caller: Intake,
    idempotency_key: IdempotencyKey = None,
) -> CaseCreated:
    """Accept an appeal (受理); a retry with the same Idempotency-Key returns the same case (200)."""
    case, created = intake.create_case(
        session=session,
        case_in=case_in,
        principal=caller,
        idempotency_key=idempotency_key,
        router=request.app.state.router,
    )
    if not created:
        response.status_code = 200
    return CaseCreated(case=queries.case_detail(session, case, caller), created=created)


@router.get("/cases", response_model=list[CaseOut])
def list_cases(
    session: DB,
    caller: StaffCaller,
    q: Annotated[str | None, Query(max_length=100, description="case number, phone, or place text")] = None,
    status: CaseStatus | None = None,
    unit_code: Annotated[str | None, Query(max_length=40)] = None,
    district_code: Annotated[str | None, Query(max_length=6)] = None,
    category_code: Annotated[str | None, Query(max_length=40)] = None,
    overdue: bool | None = None,
    needs_review: Annotated[bool | None, Query(description="routing was unsure: the review queue")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> list[CaseOut]:
    cases = queries.search_cases(
        session=session,
        principal=caller,
        q=q,
        status=status,
        unit_code=unit_code,
        district_code=district_code,
        category_code=category_code,
        overdue=overdue,
        needs_review=needs_review,
        limit=limit,
        offset=offset,
    )
    return [queries.case_out(case, caller) for case in cases]


@router.get("/supervision/overdue", response_model=list[CaseOut], tags=["supervision"])
def overdue_cases(
    session: DB, caller: StaffCaller, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> list[CaseOut]:
    """Open cases past their time limit (超期), most overdue first: the supervision list (督办)."""
    cases = queries.search_cases(session=session, principal=caller, overdue=True, limit=limit)
    return [queries.case_out(case, caller) for case in cases]


@router.get("/supervision/alerts", tags=["supervision"])
def supervision_alerts(
    session: DB, caller: Watcher, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> list[dict[str, Any]]:
    """Current overdue alerts (临期, 超期) of open cases, newest first: a unit's own, or all."""
    return alerts.current_alerts(session=session, principal=caller, limit=limit)


@router.get("/supervision/alerts/feed", tags=["supervision"])
def supervision_alert_feed(
    session: DB,
    _: ServiceCaller,
    after: Annotated[int, Query(ge=0, le=LARGEST_ID)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict[str, Any]]:
    """Alerts after an id, for the gateway to tell the consoles of their unit and the supervisors."""
    return alerts.alerts_after(session=session, after=after, limit=limit)


@router.get("/cases/{number}", response_model=CaseDetailOut)
def get_case(number: str, session: DB, caller: StaffCaller) -> CaseDetailOut:
    case = queries.get_case(session=session, number=number, principal=caller)
    return queries.case_detail(session, case, caller)


@router.post("/cases/{number}/transitions", response_model=CaseDetailOut)
def move_case(number: str, move: TransitionIn, session: DB, caller: Caller) -> CaseDetailOut:
    """Move a case in its lifecycle: dispatch, acknowledge, return, start, resolve, close."""
    case = queries.get_case(session=session, number=number, principal=caller)
    transitions.transition(
        session=session,
        case=case,
        move=move.move,
        principal=caller,
        lead_unit_code=move.lead_unit_code,
        co_unit_codes=move.co_unit_codes,
        reason=move.reason,
        reply=move.reply,
        note=move.note,
    )
    return queries.case_detail(session, case, caller)


@router.post("/cases/{number}/notes", response_model=UpdateOut, status_code=201)
def add_note(number: str, note: NoteIn, session: DB, caller: StaffCaller) -> UpdateOut:
    """A progress note, or (public) a reply that is pushed to the citizen."""
    case = queries.get_case(session=session, number=number, principal=caller)
    update = timeline.add_note(
        session=session, case=case, text=note.text, public=note.public, principal=caller
    )
    detail = queries.case_detail(session, case, caller)
    return next(u for u in detail.timeline if u.id == update.id)


@router.post("/cases/{number}/supervise", response_model=CaseDetailOut, tags=["supervision"])
def supervise_case(number: str, note: NoteIn, session: DB, caller: Supervisor) -> CaseDetailOut:
    case = queries.get_case(session=session, number=number, principal=caller)
    timeline.supervise(session=session, case=case, note=note.text, principal=caller)
    return queries.case_detail(session, case, caller)


@router.post("/cases/{number}/summonses", response_model=CaseDetailOut, status_code=201, tags=["summonses"])
def summon_departments(
    request: Request, number: str, body: SummonsIn, session: DB, caller: UnitStaff
) -> CaseDetailOut:
    """吹哨: the street or township leading the case summons functional departments, each to check in
    (报到) within SUMMONS_HOURS; while the summons is open they read the case."""
    case = queries.get_case(session=session, number=number, principal=caller)
    summons.summon(
        session=session,
        case=case,
        department_codes=body.department_codes,
        reason=body.reason,
        principal=caller,
        limit=timedelta(hours=request.app.state.settings.summons_hours),
    )
    return queries.case_detail(session, case, caller)


@router.post(
    "/cases/{number}/summonses/{summons_id}/check-in", response_model=CaseDetailOut, tags=["summonses"]
)
def check_in(
    number: str,
    summons_id: Annotated[int, Path(ge=1, le=LARGEST_ID)],
    body: CheckInIn,
    session: DB,
    caller: UnitStaff,
) -> CaseDetailOut:
    """报到: the summoned department acknowledges and says what it will do."""
    case = queries.get_case(session=session, number=number, principal=caller)
    summons.check_in(session=session, case=case, summons_id=summons_id, text=body.text, principal=caller)
    return queries.case_detail(session, case, caller)


@router.get("/summonses", response_model=list[SummonsOut], tags=["summonses"])
def list_summonses(
    session: DB,
    caller: StaffCaller,
    state: Annotated[str, Query(max_length=12, description="open, unanswered, overdue or all")] = "open",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict[str, Any]]:
    """Summonses due first: a unit's (summoned to it, or issued by it), or all for the hotline."""
    if state not in SUMMONS_STATES:
        raise BadInput(f"state is one of {', '.join(SUMMONS_STATES)}")
    return summons.list_summonses(session=session, principal=caller, state=state, limit=limit)


@router.get("/supervision/summonses", response_model=list[SummonsOut], tags=["supervision"])
def unanswered_summonses(
    session: DB, caller: Supervisor, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> list[dict[str, Any]]:
    """Open summonses no department has checked in to, those due (or overdue) first: 督办."""
    return summons.list_summonses(session=session, principal=caller, state="unanswered", limit=limit)


@router.post("/cases/{number}/rating", response_model=CaseDetailOut)
def rate_case(number: str, rating: RatingIn, session: DB, caller: Intake) -> CaseDetailOut:
    """The citizen's rating (回访), through the assistant or an operator's return call."""
    case = queries.get_case(session=session, number=number, principal=caller)
    ratings.rate_case(session=session, case=case, rating_in=rating, principal=caller)
    return queries.case_detail(session, case, caller)


@router.post("/citizen/submission", response_model=CaseCreated, tags=["citizens"])
def submitted_case(submission: SubmissionIn, session: DB, caller: ServiceCaller) -> CaseCreated:
    """The case a submission filed, by its Idempotency-Key: the assistant's answer to a 409 when the
    citizen changed the report after a submission that timed out but was saved."""
    case = queries.submitted_case(session=session, idempotency_key=submission.idempotency_key)
    return CaseCreated(case=queries.case_detail(session, case, caller), created=False)


@router.post("/citizen/lookup", response_model=CitizenCaseOut, tags=["citizens"])
def citizen_lookup(lookup: CitizenLookupIn, session: DB, _: ServiceCaller) -> CitizenCaseOut:
    """A citizen's status check: details only with the phone's last 4 digits or the same channel identity."""
    return queries.citizen_view(
        session=session,
        number=lookup.number,
        phone_last4=lookup.phone_last4,
        channel_identity=lookup.channel_identity,
    )


@router.get("/citizen/cases", response_model=list[CitizenCaseOut], tags=["citizens"])
def citizen_cases(
    session: DB, _: ServiceCaller, channel_identity: Annotated[str, Query(min_length=3, max_length=160)]
) -> list[CitizenCaseOut]:
    """ "我的工单": the cases filed from this channel identity."""
    return queries.cases_of_identity(session=session, channel_identity=channel_identity)


@router.post("/citizen/renames", response_model=IdentityRenamesOut, tags=["citizens"])
def rename_identities(renames: IdentityRenamesIn, session: DB, caller: ServiceCaller) -> IdentityRenamesOut:
    """Conversations the gateway moved to new ids (an upgrade): their cases follow."""
    moved = intake.rename_channel_identities(session=session, renames=renames.renames, principal=caller)
    return IdentityRenamesOut(cases=moved)


@router.get("/events", response_model=list[CaseEventOut], tags=["citizens"])
def case_events(
    session: DB,
    _: ServiceCaller,
    after: Annotated[int, Query(ge=0, le=LARGEST_ID)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[CaseEventOut]:
    """Public timeline entries after an id, for the gateway to push to citizens (at least once)."""
    return queries.events_after(session=session, after=after, limit=limit)
