"""A case as staff read it: its fields, its units, its timeline, ratings and summonses."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from backend.cases.models import AppealType
from backend.cases.schemas.ratings import RatingOut
from backend.cases.schemas.summonses import SummonsOut
from backend.cases.states import CaseStatus


class UpdateOut(BaseModel):
    id: int
    kind: str
    from_status: str | None
    to_status: str | None
    actor_kind: str
    actor: str | None
    unit_code: str | None
    unit_name: str | None
    note: str | None
    public: bool
    created_at: datetime


class UnitOut(BaseModel):
    key: str
    code: str
    name: str
    role: str


class CaseOut(BaseModel):
    """A case as staff see it (contact details masked for confidential reports to units)."""

    number: str
    status: CaseStatus
    status_label: str
    appeal_type: AppealType
    appeal_type_label: str
    category_code: str | None
    category_name: str | None
    description: str
    address: str | None
    district_code: str | None
    district: str | None
    street_code: str | None
    street: str | None
    latitude: float | None
    longitude: float | None
    occurred_at: datetime | None
    contact_name: str | None
    contact_phone: str | None
    anonymous: bool
    confidential: bool
    channel: str
    sms_updates: bool
    conversation_id: str | None
    attachments: list[dict[str, Any]]
    attributes: dict[str, Any]
    time_limit: str
    time_limit_label: str
    accepted_at: datetime
    due_at: datetime
    overdue: bool
    dispatched_at: datetime | None
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    rated_at: datetime | None
    closed_at: datetime | None
    supervised_at: datetime | None
    lead_unit: UnitOut | None
    co_units: list[UnitOut]
    reply: str | None
    reopen_count: int
    return_count: int
    routing_confidence: float | None
    department_code: str | None  # the functional department smart dispatch chose
    department_confidence: float | None
    needs_review: bool  # routing was unsure: an operator picks the unit
    routing_alternatives: list[AlternativeOut]
    review_choices: list[UnitOut]  # the units to pick from while the case needs review


class AlternativeOut(BaseModel):
    category_code: str
    category_name: str
    department_code: str | None
    department_name: str | None
    confidence: float


class CaseDetailOut(CaseOut):
    timeline: list[UpdateOut]
    ratings: list[RatingOut]
    related: list[str]
    summonses: list[SummonsOut]  # 吹哨报到 on this case, open and closed


class CaseCreated(BaseModel):
    case: CaseDetailOut
    created: bool
