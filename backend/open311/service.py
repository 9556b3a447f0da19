"""Turning cases into Open311 service requests (and back), with personal data kept out."""

from __future__ import annotations

import math
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.cases.models import Case, Channel
from backend.cases.numbers import BEIJING
from backend.cases.schemas.intake import CaseCreate
from backend.errors import BadInput, Forbidden, NotFound
from backend.open311.formats import Format
from backend.open311.models import Open311Key
from backend.reference.categories import DATA as REFERENCE_DATA
from backend.reference.categories import Attribute, Category, categories
from backend.reference.gazetteer import gazetteer
from backend.reference.units import Unit
from backend.staff.principal import Principal
from backend.staff.service import audit, token_digest
from common.masking import coarse_place, mask_text

WITHHELD = "（举报内容不公开）"
MAX_PLACE_CHARS = 30
MAX_DESCRIPTION = 4000  # the spec's limit of a description
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CATEGORIES_FILE = REFERENCE_DATA / "categories.yml"  # services and their definitions come from it
KEY_SERVICE = "api_key 由12345热线系统管理员签发（控制台或 POST /api/v1/open311/keys）"
OCCURRED_AT = Attribute(code="occurred_at", description="问题发生的时间", datatype="datetime", required=False)
DATATYPE_HELP = {"datetime": "W3C 日期时间，如 2026-12-01T08:00:00+08:00", "number": "数字"}


KEY_NAME_CHARS = 100


def issue_key(*, session: Session, name: str, principal: Principal) -> tuple[Open311Key, str]:
    """Create an API key for an Open311 client: the key is returned once and stored hashed."""
    name = name.strip()
    if not 1 <= len(name) <= KEY_NAME_CHARS:
        raise BadInput(f"name: 1 to {KEY_NAME_CHARS} characters")
    key = secrets.token_urlsafe(24)
    record = Open311Key(name=name, key_hash=token_digest(key))
    session.add(record)
    session.flush()
    audit(session=session, principal=principal, action="open311.key", target=name, detail={"id": record.id})
    return record, key


def list_keys(*, session: Session) -> list[Open311Key]:
    return list(session.scalars(select(Open311Key).order_by(Open311Key.id)))


def find_keys(*, session: Session, name: str) -> list[Open311Key]:
    """The active keys of this name (names are not unique: a client may hold a new and an old key)."""
    return list(session.scalars(select(Open311Key).where(Open311Key.name == name, Open311Key.active)))


def revoke_key(*, session: Session, key_id: int, principal: Principal) -> Open311Key:
    """Stop a key working at once; the row stays (with the audit log it tells who held it)."""
    record = session.get(Open311Key, key_id)
    if record is None:
        raise NotFound(f"no Open311 key {key_id}")
    if record.active:
        record.active = False
        audit(
            session=session,
            principal=principal,
            action="open311.key_revoke",
            target=record.name[:64],
            detail={"id": record.id},
        )
    return record


def fingerprint(record: Open311Key) -> str:
    return record.key_hash[:8]


def check_key(*, session: Session, key: str | None) -> Open311Key:
    found = session.scalar(select(Open311Key).where(Open311Key.key_hash == token_digest(key or "")))
    if found is None or not found.active:
        raise Forbidden("a valid api_key is required to submit service requests")
    return found


def service_out(category: Category) -> dict[str, Any]:
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": f"{category.group_name}：{category.name}（{category.time_limit.label}）",
        "metadata": bool(attributes_of(category)),
        "type": "realtime",
        "keywords": ",".join(category.keywords),
        "group": category.group_name,
    }


def attributes_of(category: Category) -> tuple[Attribute, ...]:
    """The questions beyond the spec's own fields (description, location, contact): when the problem
    happened, then the category's own (the questions the assistant asks)."""
    return (OCCURRED_AT, *category.attributes)


def definition_out(category: Category) -> dict[str, Any]:
    return {
        "service_code": category.code,
        "attributes": [
            {
                "variable": True,
                "code": attribute.code,
                "datatype": attribute.datatype,
                "required": attribute.required,
                "datatype_description": DATATYPE_HELP.get(attribute.datatype),
                "order": order,
                "description": attribute.description,
                "values": [],
            }
            for order, attribute in enumerate(attributes_of(category), start=1)
        ],
    }


def discovery_out(*, endpoint_url: str, contact: str, production: bool) -> dict[str, Any]:
    """The Service Discovery document: one GeoReport v2 endpoint, in both formats."""
    changeset = datetime.fromtimestamp(CATEGORIES_FILE.stat().st_mtime, BEIJING).strftime("%Y-%m-%d %H:%M")
    return {
        "changeset": changeset,
        "contact": contact,
        "key_service": KEY_SERVICE,
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": endpoint_url,
                "changeset": changeset,
                "type": "production" if production else "test",
                "formats": [Format.XML.media_type.split(";")[0], Format.JSON.media_type.split(";")[0]],
            }
        ],
    }


def request_out(case: Case) -> dict[str, Any]:
    """A case as a public service request: what a city publishes, nothing that leads to the citizen.

    Service, status, dates, the agency and its public reply; the place as street or township and the
    road or landmark (never the building, unit or room); coordinates to about a kilometre; the
    description with phones, ID numbers, house numbers and names masked (withheld for 举报 reports).
    """
    category = categories().get(case.category_code or "")
    notes = next((u.note for u in reversed(case.updates) if u.public and u.note), None)
    is_open = case.status.is_open()
    return {
        "service_request_id": case.number,
        "status": "open" if is_open else "closed",
        "status_notes": public_text(notes, case) if notes else case.status.citizen_text,
        "service_name": category.name if category else None,
        "service_code": case.category_code,
        "description": WITHHELD if case.confidential else public_text(case.description, case),
        "agency_responsible": Unit.parse(case.lead_unit_code).name if case.lead_unit_code else None,
        "service_notice": None,
        "requested_datetime": w3c(case.accepted_at),
        # the spec: "for requests with status=closed, this will be the date the request was closed"
        "updated_datetime": w3c(case.updated_at if is_open else case.resolved_at or case.updated_at),
        "expected_datetime": w3c(case.due_at),
        "address": public_place(case),
        "address_id": case.street_code,
        "zipcode": None,
        "lat": round(case.latitude, 2) if case.latitude is not None else None,
        "long": round(case.longitude, 2) if case.longitude is not None else None,
        "media_url": None,
    }


def public_text(text: str, case: Case) -> str:
    """Text that leaves the hotline: personal data masked, the case's own contact name included."""
    return mask_text(text, names=[case.contact_name])


def public_place(case: Case) -> str | None:
    """District and street or township, then the road or landmark the citizen named (not for 举报)."""
    places = gazetteer()
    district = places.districts.get(case.district_code or "")
    street = places.streets.get(case.street_code or "")
    area = [p for p in (district, street) if p is not None]
    detail = "" if case.confidential else coarse_place(case.address or "", names=[case.contact_name])
    for known in area:  # the citizen often starts with the district or street we already show
        detail = detail.removeprefix(known.name)
    detail = detail.strip(" ，,、")[:MAX_PLACE_CHARS]
    return "".join([*(p.name for p in area), detail]) or None


def w3c(moment: datetime | None) -> str | None:
    return moment.astimezone(BEIJING).isoformat(timespec="seconds") if moment else None


def w3c_moment(raw: str, name: str) -> datetime:
    """A W3C date-time (2026-12-01T08:00:00+08:00, ...Z); a date alone is that day in Beijing."""
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise BadInput(f"{name} must be a W3C date-time such as 2026-12-01T08:00:00+08:00") from None
    if moment.tzinfo is None:
        if "T" in raw or ":" in raw:
            raise BadInput(f"{name} needs its time zone (Z or +08:00)")
        moment = moment.replace(tzinfo=BEIJING)
    return moment


def case_from_form(form: dict[str, str], category: Category) -> CaseCreate:
    """Build a new case from the spec's form fields; a bad or missing argument is a BadInput (400).

    A request needs a location (lat and long, address_string or address_id, a street or township
    code); the description is optional in the spec, so the service's name stands in for a missing one.
    """
    description = form.get("description") or category.name
    if len(description) > MAX_DESCRIPTION:
        raise BadInput(f"description is limited to {MAX_DESCRIPTION:,} characters")
    name = " ".join(p for p in (form.get("last_name", ""), form.get("first_name", "")) if p).strip()
    phone = form.get("phone") or None
    attributes = _attributes(form, category)
    occurred = attributes.pop(OCCURRED_AT.code, None)
    return CaseCreate.model_validate(
        {
            "category_code": category.code,
            "description": description,
            **_location(form),
            "occurred_at": occurred,
            "contact_name": (name or None) if phone else None,
            "contact_phone": phone,
            "anonymous": phone is None,
            "channel": Channel.OPEN311,
            "attachments": [{"kind": "photo", "ref": form["media_url"]}] if form.get("media_url") else [],
            "attributes": attributes,
        }
    )


def _location(form: dict[str, str]) -> dict[str, Any]:
    lat, long = form.get("lat"), form.get("long")
    address, street = form.get("address_string"), form.get("address_id")
    if bool(lat) != bool(long):
        raise BadInput("lat and long must be sent together")
    if not (lat or address or street):
        raise BadInput("a location is required: lat and long, address_string or address_id")
    if street and street not in gazetteer().streets:
        raise BadInput(f"no address_id {street}: it is the code of a street or township")
    latitude, longitude = (_number(lat, "lat"), _number(long, "long")) if lat and long else (None, None)
    return {"address": address, "street_code": street, "latitude": latitude, "longitude": longitude}


def _attributes(form: dict[str, str], category: Category) -> dict[str, Any]:
    """attribute[code]=value pairs, each checked against the service definition's datatype."""
    given: dict[str, Any] = {
        key[len("attribute[") : -1]: value
        for key, value in form.items()
        if key.startswith("attribute[") and key.endswith("]") and value
    }
    for attribute in attributes_of(category):
        raw = given.get(attribute.code)
        if raw is None:
            if attribute.required:
                raise BadInput(f"attribute[{attribute.code}] is required: {attribute.description}")
        elif attribute.datatype == "number":
            given[attribute.code] = _number(raw, f"attribute[{attribute.code}]")
        elif attribute.datatype == "datetime":
            given[attribute.code] = w3c_moment(raw, f"attribute[{attribute.code}]").isoformat()
    return given


def _number(raw: str, name: str) -> float:
    try:
        number = float(raw)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise BadInput(f"{name} must be a number")
    return number
