"""Import every table so that `Base.metadata` knows the whole schema (for Alembic and tests)."""

from backend.cases.models import (
    Case,
    CaseAlert,
    CaseAssignment,
    CaseCounter,
    CaseLink,
    CaseUpdate,
    Rating,
)
from backend.clock import LEASES
from backend.open311.models import Open311Key
from backend.staff.models import AuditEntry, LoginThrottle, Staff, StaffSession
from backend.stats.models import HotspotFinding, HotspotScan

__all__ = [
    "LEASES",
    "AuditEntry",
    "Case",
    "CaseAlert",
    "CaseAssignment",
    "CaseCounter",
    "CaseLink",
    "CaseUpdate",
    "HotspotFinding",
    "HotspotScan",
    "LoginThrottle",
    "Open311Key",
    "Rating",
    "Staff",
    "StaffSession",
]
