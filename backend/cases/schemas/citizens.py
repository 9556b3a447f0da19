"""What citizens and their conversations get: a case looked up by its number, the events pushed to
them, and cases following a conversation to its new id."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from backend.cases.states import CaseStatus


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
