"""Summonses (吹哨报到): a street summoning departments, their check-in, and a summons as read."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from backend.cases.states import CaseStatus


class SummonsIn(BaseModel):
    """吹哨: the functional departments a street summons to its case, and why."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    department_codes: Annotated[list[Annotated[str, Field(max_length=40)]], Field(min_length=1, max_length=8)]
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
    unit_code: str
    unit_name: str
    department_code: str
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
