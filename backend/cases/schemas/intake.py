"""What a new appeal arrives as: the case to accept, and the routing the conversation carries into it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from backend.cases.models import AppealType, Channel
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


def known_units(value: str | list[str] | None) -> str | list[str] | None:
    """Check unit keys (a lead unit, co-units): ValueError for an unknown one."""
    for key in [value] if isinstance(value, str) else value or []:
        Unit.parse(key)
    return value


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
    lead_unit_code: Annotated[str | None, Field(max_length=40)] = None
    co_unit_codes: Annotated[list[str], Field(max_length=5)] = []
    answer: Annotated[str | None, Field(max_length=2000)] = None
    routing: CaseRouting | None = None  # the conversation's routing; without it the backend routes

    _units = field_validator("lead_unit_code", "co_unit_codes")(known_units)

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


class SubmissionIn(BaseModel):
    """A submission by its Idempotency-Key, to find the case it filed."""

    model_config = ConfigDict(extra="forbid")
    idempotency_key: Annotated[str, Field(min_length=1, max_length=100)]
