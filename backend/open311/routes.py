"""Open311 GeoReport v2 under /open311/v2, JSON with the spec's `.json` suffixes and error format."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import ValidationError
from sqlalchemy import select

from backend.cases import service as cases
from backend.cases.models import Case
from backend.cases.states import OPEN, Role
from backend.deps import DB, require
from backend.errors import BadInput, NotFound
from backend.limits import limit_public
from backend.open311 import service
from backend.reference.categories import categories
from backend.staff.principal import Principal
from backend.staff.service import audit
from common.database import utcnow

router = APIRouter(prefix="/open311/v2", tags=["Open311 GeoReport v2"])
DEFAULT_WINDOW = timedelta(days=90)
MAX_RESULTS = 1000
MAX_FORM_FIELDS = 40


def limit_reads(request: Request) -> None:
    """Public reads need no key (the spec's way), so they count against their client's rate."""
    limit_public(request, request.app.state.open311_limiter)


PublicRead = Depends(limit_reads)


@router.get("/services.json", dependencies=[PublicRead])
def services() -> list[dict[str, Any]]:
    return [service.service_out(c) for c in categories().values()]


@router.get("/services/{service_code}.json", dependencies=[PublicRead])
def service_definition(service_code: str) -> dict[str, Any]:
    category = categories().get(service_code)
    if category is None:
        raise NotFound(f"no service {service_code}")
    return service.definition_out(category)


@router.post("/requests.json")
async def post_request(request: Request, session: DB) -> list[dict[str, Any]]:
    """Submit a service request (form-encoded, as the spec says); needs an api_key."""
    form = await request.form()
    if len(form) > MAX_FORM_FIELDS:
        raise BadInput("too many fields")
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    if not fields.get("service_code"):
        raise BadInput("service_code is required")
    if fields["service_code"] not in categories():
        raise NotFound(f"no service {fields['service_code']}")
    client = service.check_key(session=session, key=fields.get("api_key"))
    try:
        case_in = service.case_from_form(fields)
    except (ValidationError, ValueError) as error:
        raise BadInput(_first_error(error)) from None
    principal = Principal(Role.SERVICE, f"open311:{client.name}"[:64])
    case, _ = cases.create_case(
        session=session, case_in=case_in, principal=principal, router=request.app.state.router
    )
    return [{"service_request_id": case.number, "service_notice": case.limit.label, "account_id": None}]


@router.get("/requests.json", dependencies=[PublicRead])
def get_requests(
    session: DB,
    service_request_id: Annotated[str | None, Query(max_length=2000)] = None,
    service_code: Annotated[str | None, Query(max_length=400)] = None,
    start_date: datetime | None = None,
    end_date: datetime | None = None,
    status: Annotated[str | None, Query(max_length=20)] = None,
) -> list[dict[str, Any]]:
    """Service requests by id, or by service, date range and status (90 days and 1000 at most)."""
    query = select(Case)
    if service_request_id:
        ids = [i.strip() for i in service_request_id.split(",") if i.strip()][:MAX_RESULTS]
        query = query.where(Case.number.in_(ids))
    else:
        end = end_date or utcnow()
        start = start_date or end - DEFAULT_WINDOW
        if start > end:
            raise BadInput("start_date is after end_date")
        query = query.where(Case.accepted_at >= start, Case.accepted_at <= end)
        if service_code:
            query = query.where(Case.category_code.in_([c.strip() for c in service_code.split(",")]))
        if status:
            wanted = {s.strip() for s in status.split(",")}
            if not wanted <= {"open", "closed"}:
                raise BadInput("status is open or closed")
            if wanted == {"open"}:
                query = query.where(Case.status.in_(OPEN))
            elif wanted == {"closed"}:
                query = query.where(Case.status.not_in(OPEN))
    found = session.scalars(query.order_by(Case.accepted_at.desc()).limit(MAX_RESULTS))
    return [service.request_out(case) for case in found]


@router.get("/requests/{service_request_id}.json", dependencies=[PublicRead])
def get_request(service_request_id: str, session: DB) -> list[dict[str, Any]]:
    case = session.scalar(select(Case).where(Case.number == service_request_id))
    if case is None:
        raise NotFound(f"no service request {service_request_id}")
    return [service.request_out(case)]


def _first_error(error: Exception) -> str:
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        return f"{where}: {first['msg']}" if where else str(first["msg"])
    return str(error)


keys = APIRouter(prefix="/api/v1/open311", tags=["Open311 GeoReport v2"])


@keys.post("/keys", status_code=201)
def create_key(
    session: DB,
    caller: Annotated[Principal, Depends(require())],
    name: Annotated[str, Query(min_length=1, max_length=100)],
) -> dict[str, str]:
    """Issue an api_key for an Open311 client (admins); it is shown only this once."""
    key = service.issue_key(session=session, name=name)
    audit(session=session, principal=caller, action="open311.key", target=name)
    return {"name": name, "api_key": key}
