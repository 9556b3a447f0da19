"""Staff request and response schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from backend.staff.roles import Role


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=200)]


class StaffOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: Role
    unit_code: str | None
    unit_name: str | None
    active: bool


class LoginOut(BaseModel):
    token: str
    expires_at: datetime
    staff: StaffOut


class SessionsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token_hashes: Annotated[list[Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]], Field(max_length=1000)]


class SessionsActive(BaseModel):
    token_hashes: list[str]


class StaffCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    username: Annotated[str, Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]
    display_name: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=10, max_length=200)]
    role: Role
    unit_code: Annotated[str | None, Field(max_length=40)] = None


class StaffPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    active: bool | None = None
    password: Annotated[str | None, Field(min_length=10, max_length=200)] = None
    display_name: Annotated[str | None, Field(min_length=1, max_length=64)] = None


class PasswordReset(BaseModel):
    staff: StaffOut
    password: str  # generated, shown to the admin this once


class AuditOut(BaseModel):
    id: int
    actor: str
    role: str
    action: str
    target: str | None
    detail: dict[str, Any]
    at: datetime
