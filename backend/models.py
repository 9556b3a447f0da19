"""Import every table so that `Base.metadata` knows the whole schema (for Alembic and tests)."""

from backend.cases.models import Case, CaseAssignment, CaseCounter, CaseLink, CaseUpdate, Rating
from backend.open311.models import Open311Key
from backend.staff.models import AuditEntry, LoginThrottle, Staff, StaffSession

__all__ = [
    "AuditEntry",
    "Case",
    "CaseAssignment",
    "CaseCounter",
    "CaseLink",
    "CaseUpdate",
    "LoginThrottle",
    "Open311Key",
    "Rating",
    "Staff",
    "StaffSession",
]
