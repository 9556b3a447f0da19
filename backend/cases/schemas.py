"""Request and response schemas of cases, separate from the tables."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from backend.cases.models import AppealType, Channel, Satisfaction
from backend.cases.states import CaseStatus, Move
from backend.reference.categories import categories
from backend.reference.departments import departments
from backend.reference.gazetteer import gazetteer
from backend.reference.units import Unit
from common.database import utcnow
from common.phone import is_mobile, parse_phone


class Attachment(BaseModel):
    """A photo or file kept elsewhere (e.g. a Telegram file), referenced by the case."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["photo", "file"] = "photo"
    ref: Annotated[str, Field(min_length=1, max_length=300)]
    name: Annotated[str | None, Field(max_length=120)] = None


Confidence = Annotated[float, Field(ge=0, le=1)]


def _known_category(code: str | None) -> str | None:
    if code is not None and code not in categories():
        raise ValueError(f"unknown category code: {code}")
    return code


def _known_department(code: str | None) -> str | None:
    if code is not None and code not in departments():
        raise ValueError(f"unknown department code: {code}")
    return code


def _known_district(code: str | None) -> str | None:
    if code is not None and code not in gazetteer().districts:
        raise ValueError(f"unknown district code: {code}")
    return code


def _known_street(code: str | None) -> str | None:
    if code is not None and code not in gazetteer().streets:
        raise ValueError(f"unknown street code: {code}")
    return code


class RoutedAlternative(BaseModel):
    """A category the router ranked below its choice, with the department that handles it."""

    model_config = ConfigDict(extra="forbid")
    category_code: Annotated[str, Field(max_length=40)]
    department_code: Annotated[str | None, Field(max_length=40)] = None
    confidence: Confidence

    _category = field_validator("category_code")(_known_category)
    _department = field_validator("department_code")(_known_department)


class CaseRouting(BaseModel):
    """What smart dispatch (智能派单) decided for an appeal, in codes: the conversation carries it into
    the case, and the backend routes a case itself only when it arrives without one."""

    model_config = ConfigDict(extra="forbid")
    category_code: Annotated[str, Field(max_length=40)]
    department_code: Annotated[str, Field(max_length=40)]
    district_code: Annotated[str | None, Field(max_length=6)] = None
    street_code: Annotated[str | None, Field(max_length=9)] = None
    confidence: Confidence
    department_confidence: Confidence
    needs_review: bool = False  # unsure of the department: dispatched to the place (属地), reviewed
    emergency: bool = False
    alternatives: Annotated[list[RoutedAlternative], Field(max_length=5)] = []

    _category = field_validator("category_code")(_known_category)
    _district = field_validator("district_code")(_known_district)
    _street = field_validator("street_code")(_known_street)

    @field_validator("department_code")
    @classmethod
    def functional(cls, code: str) -> str:
        _known_department(code)
        if not departments()[code].functional:
            raise ValueError(f"routing chooses a functional department, not {code}")
        return code

    @model_validator(mode="after")
    def consistent(self) -> CaseRouting:
        if self.street_code and self.district_code and not self.street_code.startswith(self.district_code):
            raise ValueError("routing street_code is not in its district_code")
        if self.street_code and not self.district_code:
            self.district_code = gazetteer().streets[self.street_code].district.code
        return self


class CaseCreate(BaseModel):
    """A new appeal, from a channel (assistant, phone operator, Open311)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    appeal_type: AppealType = AppealType.COMPLAINT
    category_code: Annotated[str | None, Field(max_length=40)] = None
    description: Annotated[str, Field(min_length=2, max_length=4000)]  # Open311 allows 4,000
    address: Annotated[str | None, Field(max_length=300)] = None
    district_code: Annotated[str | None, Field(max_length=6)] = None
    street_code: Annotated[str | None, Field(max_length=9)] = None
    latitude: Annotated[float | None, Field(ge=-90, le=90)] = None
    longitude: Annotated[float | None, Field(ge=-180, le=180)] = None
    occurred_at: datetime | None = None
    contact_name: Annotated[str | None, Field(max_length=50)] = None
    contact_phone: Annotated[str | None, Field(max_length=30)] = None
    anonymous: bool = False
    confidential: bool = False
    channel: Channel = Channel.OTHER
    channel_identity: Annotated[str | None, Field(max_length=160)] = None
    sms_updates: bool | None = None  # updates and the rating by SMS; by default for phone calls
    conversation_id: Annotated[str | None, Field(max_length=160)] = None
    attachments: Annotated[list[Attachment], Field(max_length=10)] = []
    attributes: Annotated[dict[str, str | int | float | bool], Field(max_length=20)] = {}
    lead_unit: Annotated[str | None, Field(max_length=40)] = None
    co_units: Annotated[list[str], Field(max_length=5)] = []
    answer: Annotated[str | None, Field(max_length=2000)] = None
    routing: CaseRouting | None = None  # the conversation's routing; without it the backend routes

    @field_validator("lead_unit", "co_units")
    @classmethod
    def known_units(cls, value: str | list[str] | None) -> str | list[str] | None:
        for key in [value] if isinstance(value, str) else value or []:
            Unit.parse(key)
        return value

    _category = field_validator("category_code")(_known_category)
    _district = field_validator("district_code")(_known_district)
    _street = field_validator("street_code")(_known_street)

    @field_validator("contact_phone")
    @classmethod
    def phone(cls, raw: str | None) -> str | None:
        if raw is None or raw == "":
            return None
        phone = parse_phone(raw)
        if phone is None:
            raise ValueError(
                "contact_phone must be a mainland mobile or a landline with its area code "
                "(13800138000, 010-62345678, 010-62345678转123)"
            )
        return phone.stored

    @field_validator("occurred_at")
    @classmethod
    def not_in_future(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("occurred_at needs a timezone")
        if value is not None and value > utcnow() + timedelta(hours=1):
            raise ValueError("occurred_at is in the future")
        return value

    @model_validator(mode="after")
    def consistent(self) -> CaseCreate:
        if not self.description.strip():
            raise ValueError("description must not be blank")
        if self.anonymous and (self.contact_name or self.contact_phone):
            raise ValueError("an anonymous case carries no contact name or phone")
        if not self.anonymous and not self.contact_phone:
            raise ValueError("contact_phone is required unless the case is anonymous")
        if self.sms_updates and not self.contact_phone:
            raise ValueError("sms_updates needs the citizen's contact_phone")
        if self.sms_updates and not is_mobile(self.contact_phone):
            raise ValueError("sms_updates needs a mobile contact_phone: a landline gets no SMS")
        if self.confidential and self.appeal_type != AppealType.REPORT:
            raise ValueError("only a report (举报) can keep the reporter confidential")
        if self.street_code and self.district_code and not self.street_code.startswith(self.district_code):
            raise ValueError("street_code is not in district_code")
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("latitude and longitude go together")
        if self.answer and self.appeal_type != AppealType.CONSULTATION:
            raise ValueError("only a consultation can be answered on the spot")
        return self


class TransitionIn(BaseModel):
    """A move in the lifecycle, with what that move needs."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    move: Move
    lead_unit: Annotated[str | None, Field(max_length=40)] = None
    co_units: Annotated[list[str], Field(max_length=5)] = []
    reason: Annotated[str | None, Field(max_length=1000)] = None
    reply: Annotated[str | None, Field(max_length=2000)] = None
    note: Annotated[str | None, Field(max_length=1000)] = None

    @field_validator("lead_unit", "co_units")
    @classmethod
    def known_units(cls, value: str | list[str] | None) -> str | list[str] | None:
        for key in [value] if isinstance(value, str) else value or []:
            Unit.parse(key)
        return value


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    text: Annotated[str, Field(min_length=1, max_length=2000)]
    public: bool = False


class SummonsIn(BaseModel):
    """吹哨: the functional departments a street summons to its case, and why."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    departments: Annotated[list[Annotated[str, Field(max_length=40)]], Field(min_length=1, max_length=8)]
    reason: Annotated[str, Field(min_length=2, max_length=1000)]


class CheckInIn(BaseModel):
    """报到: what the summoned department will do."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    text: Annotated[str, Field(min_length=2, max_length=2000)]


class SummonsOut(BaseModel):
    id: int
    number: str
    case_status: CaseStatus
    category_name: str | None
    place: str
    unit: str
    unit_name: str
    department: str
    department_name: str
    reason: str
    summoned_by: str
    summoned_at: datetime
    due_at: datetime
    checked_in_at: datetime | None
    checked_in_by: str | None
    check_in: str | None
    late: bool
    overdue: bool
    open: bool
    closed_at: datetime | None
    close_reason: str | None


class RatingIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    resolved: bool
    satisfaction: Satisfaction
    comment: Annotated[str | None, Field(max_length=1000)] = None
    channel_identity: Annotated[str | None, Field(max_length=160)] = None
    sms_phone: Annotated[str | None, Field(max_length=30)] = None  # a rating answered by SMS from it


class UpdateOut(BaseModel):
    id: int
    kind: str
    from_status: str | None
    to_status: str | None
    actor_kind: str
    actor: str | None
    unit: str | None
    unit_name: str | None
    note: str | None
    public: bool
    created_at: datetime


class RatingOut(BaseModel):
    round: int
    resolved: bool
    satisfaction: Satisfaction
    satisfaction_label: str
    comment: str | None
    rated_at: datetime


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


class SubmissionIn(BaseModel):
    """A submission by its Idempotency-Key, to find the case it filed."""

    model_config = ConfigDict(extra="forbid")
    idempotency_key: Annotated[str, Field(min_length=1, max_length=100)]


class CitizenLookupIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    number: Annotated[str, Field(min_length=6, max_length=30)]
    phone_last4: Annotated[str | None, Field(pattern=r"^\d{4}$")] = None
    channel_identity: Annotated[str | None, Field(max_length=160)] = None


class IdentityRename(BaseModel):
    model_config = ConfigDict(extra="forbid")
    old: Annotated[str, Field(min_length=3, max_length=160)]
    new: Annotated[str, Field(min_length=3, max_length=160)]


class IdentityRenamesIn(BaseModel):
    """Conversations the gateway moved to new ids: the cases filed from them follow."""

    model_config = ConfigDict(extra="forbid")
    renames: Annotated[list[IdentityRename], Field(min_length=1, max_length=200)]


class IdentityRenamesOut(BaseModel):
    cases: int


class CitizenCaseOut(BaseModel):
    """What a citizen may see about a case, once verified: no personal data of anyone."""

    number: str
    verified: bool
    status: CaseStatus | None = None
    status_text: str | None = None
    appeal_type_label: str | None = None
    category_name: str | None = None
    unit_name: str | None = None
    accepted_at: datetime | None = None
    due_at: datetime | None = None
    time_limit_label: str | None = None
    latest_reply: str | None = None
    can_rate: bool = False


class CaseEventOut(BaseModel):
    """A public timeline entry for the gateway to push to the citizen's channel."""

    id: int
    number: str
    kind: str
    status: CaseStatus
    status_text: str
    note: str | None
    unit_name: str | None
    channel: str
    channel_identity: str | None
    conversation_id: str | None
    time_limit_label: str
    due_at: datetime
    sms_to: str | None  # the phone that gets this case's updates by SMS (the gateway's service only)
    created_at: datetime
