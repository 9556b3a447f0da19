"""Turning cases into Open311 service requests (and back), with personal data kept out."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.cases.dispatch import Unit
from backend.cases.models import Case, Channel
from backend.cases.numbers import BEIJING
from backend.cases.schemas import CaseCreate
from backend.errors import Unauthorized
from backend.open311.models import Open311Key
from backend.reference.categories import Category, categories
from backend.reference.gazetteer import gazetteer
from backend.staff.service import token_digest
from common.masking import coarse_place, mask_text

WITHHELD = "（举报内容不公开）"
MAX_PLACE_CHARS = 30


def issue_key(*, session: Session, name: str) -> str:
    """Create an API key for an Open311 client; the key is shown once and stored hashed."""
    key = secrets.token_urlsafe(24)
    session.add(Open311Key(name=name, key_hash=token_digest(key)))
    return key


def check_key(*, session: Session, key: str | None) -> Open311Key:
    found = session.scalar(select(Open311Key).where(Open311Key.key_hash == token_digest(key or "")))
    if found is None or not found.active:
        raise Unauthorized("a valid api_key is required to submit service requests")
    return found


def service_out(category: Category) -> dict[str, Any]:
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": f"{category.group_name}：{category.name}（{category.time_limit.label}）",
        "metadata": True,
        "type": "realtime",
        "keywords": ",".join(category.keywords),
        "group": category.group_name,
    }


def definition_out(category: Category) -> dict[str, Any]:
    """The questions the assistant asks, as Open311 attributes (description and place come first)."""
    questions = [
        {"code": "description", "description": "请描述您反映的问题", "datatype": "text", "required": True},
        {"code": "address_string", "description": "问题发生的地点", "datatype": "string", "required": False},
        {"code": "occurred_at", "description": "问题发生的时间", "datatype": "datetime", "required": False},
        *(vars(a) for a in category.attributes),
    ]
    return {
        "service_code": category.code,
        "attributes": [
            {
                "variable": True,
                "code": q["code"],
                "datatype": q["datatype"],
                "required": q["required"],
                "datatype_description": None,
                "order": order,
                "description": q["description"],
                "values": [],
            }
            for order, q in enumerate(questions, start=1)
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
    return {
        "service_request_id": case.number,
        "status": "open" if case.state.is_open() else "closed",
        "status_notes": public_text(notes, case) if notes else case.state.citizen_text,
        "service_name": category.name if category else None,
        "service_code": case.category_code,
        "description": WITHHELD if case.confidential else public_text(case.description, case),
        "agency_responsible": Unit.parse(case.lead_unit).name if case.lead_unit else None,
        "service_notice": None,
        "requested_datetime": w3c(case.accepted_at),
        "updated_datetime": w3c(case.updated_at),
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


def case_from_form(form: dict[str, str]) -> CaseCreate:
    """Build a new case from the spec's form fields (service_code, description, phone, ...)."""
    name = " ".join(p for p in (form.get("last_name", ""), form.get("first_name", "")) if p).strip()
    phone = form.get("phone") or None
    attributes = {
        key[len("attribute[") : -1]: value
        for key, value in form.items()
        if key.startswith("attribute[") and key.endswith("]")
    }
    return CaseCreate.model_validate(
        {
            "category_code": form.get("service_code"),
            "description": form.get("description") or "",
            "address": form.get("address_string") or None,
            "latitude": float(form["lat"]) if form.get("lat") else None,
            "longitude": float(form["long"]) if form.get("long") else None,
            "contact_name": (name or None) if phone else None,
            "contact_phone": phone,
            "anonymous": phone is None,
            "channel": Channel.OPEN311,
            "attachments": [{"kind": "photo", "ref": form["media_url"]}] if form.get("media_url") else [],
            "attributes": attributes,
        }
    )
