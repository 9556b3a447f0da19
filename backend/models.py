"""Import every table so that `Base.metadata` knows the whole schema (for Alembic and tests)."""

from backend.cases.models import (
    Case,
    CaseAlert,
    CaseAssignment,
    CaseCounter,
    CaseLink,
    CaseUpdate,
    Rating,
    Summons,
)
from backend.clock import LEASES
from backend.open311.models import Open311Key
from backend.staff.models import AuditEntry, LoginThrottle, Staff, StaffSession
from backend.stats.models import HotspotCluster, HotspotFinding, HotspotScan, MonthlyTopic

__all__ = [
    "LEASES",
    "AuditEntry",
    "Case",
    "CaseAlert",
    "CaseAssignment",
    "CaseCounter",
    "CaseLink",
    "CaseUpdate",
    "HotspotCluster",
    "HotspotFinding",
    "HotspotScan",
    "LoginThrottle",
    "MonthlyTopic",
    "Open311Key",
    "Rating",
    "Staff",
    "StaffSession",
    "Summons",
]
