"""Ratings (回访): a citizen's answer as it arrives and as staff read it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from backend.cases.models import Satisfaction


class RatingIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    resolved: bool
    satisfaction: Satisfaction
    comment: Annotated[str | None, Field(max_length=1000)] = None
    channel_identity: Annotated[str | None, Field(max_length=160)] = None
    sms_phone: Annotated[str | None, Field(max_length=30)] = None  # a rating answered by SMS from it


class RatingOut(BaseModel):
    round: int
    resolved: bool
    satisfaction: Satisfaction
    satisfaction_label: str
    comment: str | None
    rated_at: datetime
