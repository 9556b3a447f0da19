"""Who is calling: a staff member, the service (assistant and gateway), or the backend itself."""

from __future__ import annotations

from dataclasses import dataclass

from backend.staff.roles import Role


@dataclass(frozen=True)
class Principal:
    role: Role
    name: str
    unit_code: str | None = None
    staff_id: int | None = None

    def sees_all_cases(self) -> bool:
        """Everyone but handling-unit staff; those see only their unit's cases."""
        return self.role != Role.UNIT_STAFF


SYSTEM = Principal(Role.SYSTEM, "system")
CLI = Principal(Role.SYSTEM, "cli")  # an administrator at the command line (`python -m backend staff`)
