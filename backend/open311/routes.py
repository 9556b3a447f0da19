"""Open311 GeoReport v2 under /open311/v2: every method in XML and JSON (`.xml`, `.json`), with the
spec's service discovery, jurisdiction_id, error list and status codes (400, 403, 404)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import ValidationError
from sqlalchemy import select
from starlette.datastructures import FormData

from backend.cases import intake
from backend.cases.models import Case
from backend.cases.states import OPEN
from backend.db import LARGEST_ID
from backend.deps import DB
from backend.errors import BadInput, NotFound
from backend.limits import limit_public
from backend.open311 import service
from backend.open311.formats import Format, render
from backend.open311.models import Open311Key
from backend.open311.schemas import KeyIssued, KeyOut
from backend.reference.categories import Category, categories
from backend.staff.callers import require
from backend.staff.principal import Principal
from backend.staff.roles import Role
from common.database import utcnow

router = APIRouter(prefix="/open311/v2", tags=["Open311 GeoReport v2"])
discovery = APIRouter(prefix="/open311", tags=["Open311 GeoReport v2"])
WINDOW = timedelta(days=90)  # the spec's default range, and the longest one may ask for
MAX_RESULTS = 1000
MAX_FORM_FIELDS = 40
BOTH_FORMATS: dict[int | str, dict[str, Any]] = {200: {"content": {"text/xml": {}, "application/json": {}}}}
Optional = Annotated[str | None, Query(max_length=40)]


def limit_reads(request: Request) -> None:
    """Public reads need no key (the spec's way), so they count against their client's rate."""
    limit_public(request, request.app.state.open311_limiter)


def check_jurisdiction(request: Request, jurisdiction_id: str | None) -> None:
    """We serve one jurisdiction: jurisdiction_id may be left out; another one is not found (404)."""
    ours = request.app.state.settings.backend_open311_jurisdiction
    if jurisdiction_id and jurisdiction_id != ours:
        raise NotFound(f"no jurisdiction_id {jurisdiction_id}: this endpoint serves {ours}")


def jurisdiction(
    request: Request, jurisdiction_id: Annotated[str | None, Query(max_length=200)] = None
) -> None:
    check_jurisdiction(request, jurisdiction_id)


Public = [Depends(limit_reads), Depends(jurisdiction)]


@discovery.get("/discovery.{format}", dependencies=[Depends(limit_reads)], responses=BOTH_FORMATS)
@router.get("/discovery.{format}", dependencies=[Depends(limit_reads)], responses=BOTH_FORMATS)
def service_discovery(request: Request, format: Format) -> Response:
    """Service Discovery: where the GeoReport v2 endpoint is, its formats, and how to get a key."""
    settings = request.app.state.settings
    document = service.discovery_out(
        endpoint_url=str(request.base_url).rstrip("/") + router.prefix,
        contact=settings.backend_open311_contact,
        production=settings.jiesu_env == "production",
    )
    return render(document, root="discovery", fmt=format)


@router.get("/services.{format}", dependencies=Public, responses=BOTH_FORMATS)
def services(format: Format) -> Response:
    """GET Service List: the categories (事项分类) as service types."""
    found = [service.service_out(c) for c in categories().values()]
    return render(found, root="services", fmt=format)


@router.get("/services/{service_code}.{format}", dependencies=Public, responses=BOTH_FORMATS)
def service_definition(service_code: str, format: Format) -> Response:
    """GET Service Definition: the attributes a request of this service may carry."""
    return render(service.definition_out(_service(service_code)), root="service_definition", fmt=format)


@router.post("/requests.{format}", responses=BOTH_FORMATS)
async def post_request(request: Request, session: DB, format: Format) -> Response:
    """POST Service Request (form-encoded, as the spec says); needs an api_key."""
    fields = form_fields(await request.form())
    check_jurisdiction(request, fields.get("jurisdiction_id"))
    if not fields.get("service_code"):
        raise BadInput("service_code is required")
    category = _service(fields["service_code"])
    client = service.check_key(session=session, key=fields.get("api_key"))
    try:
        case_in = service.case_from_form(fields, category)
    except ValidationError as error:
        raise BadInput(_first_error(error)) from None
    principal = Principal(Role.SERVICE, f"open311:{client.name}"[:64])
    case, _ = intake.create_case(
        session=session, case_in=case_in, principal=principal, router=request.app.state.router
    )
    created = {"service_request_id": case.number, "service_notice": case.time_limit.label, "account_id": None}
    return render([created], root="service_requests", fmt=format)


@router.get("/requests.{format}", dependencies=Public, responses=BOTH_FORMATS)
def get_requests(
    session: DB,
    format: Format,
    service_request_id: Annotated[str | None, Query(max_length=2000)] = None,
    service_code: Annotated[str | None, Query(max_length=400)] = None,
    start_date: Optional = None,
    end_date: Optional = None,
    status: Optional = None,
) -> Response:
    """GET Service Requests: by id (which overrides every other argument), or by service, status and
    requested_datetime range (90 days at most, the most recent 90 by default; 1000 requests at most)."""
    query = select(Case)
    if service_request_id:
        ids = [i.strip() for i in service_request_id.split(",") if i.strip()][:MAX_RESULTS]
        query = query.where(Case.number.in_(ids))
    else:
        start, end = window(start_date, end_date)
        query = query.where(Case.accepted_at >= start, Case.accepted_at <= end)
        if service_code:
            query = query.where(Case.category_code.in_([c.strip() for c in service_code.split(",")]))
        query = query.where(*_status_filter(status))
    found = session.scalars(query.order_by(Case.accepted_at.desc()).limit(MAX_RESULTS))
    return render([service.request_out(case) for case in found], root="service_requests", fmt=format)


@router.get("/requests/{service_request_id}.{format}", dependencies=Public, responses=BOTH_FORMATS)
def get_request(service_request_id: str, session: DB, format: Format) -> Response:
    """GET Service Request: one request, as a list of one."""
    case = session.scalar(select(Case).where(Case.number == service_request_id))
    if case is None:
        raise NotFound(f"no service request {service_request_id}")
    return render([service.request_out(case)], root="service_requests", fmt=format)


def window(start_date: str | None, end_date: str | None) -> tuple[datetime, datetime]:
    """The requested_datetime range: both ends given, 90 days at most; one end, the 90 days on its
    side; neither, the most recent 90 days."""
    start = service.w3c_moment(start_date, "start_date") if start_date else None
    end = service.w3c_moment(end_date, "end_date") if end_date else None
    if start and end:
        if start > end:
            raise BadInput("start_date is after end_date")
        if end - start > WINDOW:
            raise BadInput("start_date and end_date may not span more than 90 days")
        return start, end
    if start:
        return start, start + WINDOW
    end = end or utcnow()
    return end - WINDOW, end


def _status_filter(status: str | None) -> list[Any]:
    wanted = {s.strip() for s in (status or "").split(",") if s.strip()}
    if not wanted <= {"open", "closed"}:
        raise BadInput("status is open or closed (comma-separated)")
    if wanted == {"open"}:
        return [Case.status.in_(OPEN)]
    if wanted == {"closed"}:
        return [Case.status.not_in(OPEN)]
    return []


def form_fields(form: FormData) -> dict[str, str]:
    """The form's text fields; a multivaluelist's attribute[code][] values are joined by commas."""
    if len(form) > MAX_FORM_FIELDS:
        raise BadInput("too many fields")
    fields: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if isinstance(value, str):
            fields.setdefault(key.removesuffix("[]"), []).append(value)
    return {key: ",".join(values) for key, values in fields.items()}


def _service(service_code: str) -> Category:
    category = categories().get(service_code)
    if category is None:
        raise NotFound(f"no service_code {service_code}")
    return category


def _first_error(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ()))
    return f"{where}: {first['msg']}" if where else str(first["msg"])


keys = APIRouter(prefix="/api/v1/open311", tags=["Open311 GeoReport v2"])
AdminCaller = Annotated[Principal, Depends(require())]


def key_out(record: Open311Key) -> KeyOut:
    return KeyOut(
        id=record.id,
        name=record.name,
        fingerprint=service.fingerprint(record),
        active=record.active,
        created_at=record.created_at,
    )


@keys.get("/keys", response_model=list[KeyOut])
def list_keys(session: DB, _: AdminCaller) -> list[KeyOut]:
    """The keys issued so far (admins), each by name and fingerprint, never the key."""
    return [key_out(k) for k in service.list_keys(session=session)]


@keys.post("/keys", status_code=201, response_model=KeyIssued)
def create_key(
    session: DB,
    caller: AdminCaller,
    response: Response,
    name: Annotated[str, Query(min_length=1, max_length=service.KEY_NAME_CHARS)],
) -> KeyIssued:
    """Issue an api_key for an Open311 client (admins); it is shown only this once."""
    record, key = service.issue_key(session=session, name=name, principal=caller)
    response.headers["Cache-Control"] = "no-store"
    return KeyIssued(**key_out(record).model_dump(), api_key=key)


@keys.post("/keys/{key_id}/revoke", response_model=KeyOut)
def revoke_key(key_id: Annotated[int, Path(ge=1, le=LARGEST_ID)], session: DB, caller: AdminCaller) -> KeyOut:
    """Stop a key working (admins); requests with it get 403 from now on."""
    return key_out(service.revoke_key(session=session, key_id=key_id, principal=caller))
