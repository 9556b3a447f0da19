"""Who may act in the backend: the roles of staff and of the callers that are not people."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    OPERATOR = "operator"  # hotline operators (接线员)
    UNIT_STAFF = "unit_staff"  # staff of a handling unit (承办单位)
    SUPERVISOR = "supervisor"  # 督办
    ADMIN = "admin"
    SERVICE = "service"  # the assistant and the gateway, acting for citizens
    SYSTEM = "system"  # the backend itself (automatic dispatch, reopen)
