"""Dispatch rules (派单): which unit leads a case, and who helps.

- Clear responsibility: the functional department of the category, or, for community-level matters
  (territorial categories) at a known street, the street office of that place (街乡镇).
- Unclear responsibility (no category, the `other` category, or a territorial matter whose street
  is unknown): the district government of the place (兜底).
- Several units: one lead unit (首接负责) plus co-handlers.
- Unsure routing (smart dispatch is not confident of the department): the place's street or township
  office (属地) when the street is known, else its district; with no place, nobody: the case waits
  at the hotline's dispatch desk. Either way an operator reviews it and picks the unit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from backend.reference.categories import OTHER, Category
from backend.reference.departments import DISTRICT_GOVERNMENT, STREET_OFFICE
from backend.reference.units import Unit


@dataclass(frozen=True)
class DispatchPlan:
    lead: Unit
    co_handlers: tuple[Unit, ...] = field(default=())
    basis: str = "department"  # department | street | fallback | manual


def plan_dispatch(
    *,
    category: Category | None,
    district_code: str | None,
    street_code: str | None,
    department_code: str | None = None,
    unsure: bool = False,
) -> DispatchPlan | None:
    """Decide the lead unit by the rules above; None when even the fallback has no district.

    `department_code` is the functional department routing chose (else the category's)."""
    if unsure:
        return territorial_plan(district_code=district_code, street_code=street_code)
    if category is not None and category.code != OTHER and category.department_code:
        if category.territorial and street_code:
            return DispatchPlan(Unit(STREET_OFFICE, street_code), basis="street")
        if not category.territorial:
            return DispatchPlan(Unit(department_code or category.department_code), basis="department")
    if district_code:
        return DispatchPlan(Unit(DISTRICT_GOVERNMENT, district_code), basis="fallback")
    return None


def territorial_plan(*, district_code: str | None, street_code: str | None) -> DispatchPlan | None:
    """The place's own unit (属地): its street or township office, else its district; None without one."""
    if street_code:
        return DispatchPlan(Unit(STREET_OFFICE, street_code), basis="street")
    if district_code:
        return DispatchPlan(Unit(DISTRICT_GOVERNMENT, district_code), basis="fallback")
    return None
