"""Public reference data: categories, departments, districts and streets."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from backend.reference.categories import categories
from backend.reference.departments import departments
from backend.reference.gazetteer import gazetteer

router = APIRouter(prefix="/api/v1", tags=["reference"])


@router.get("/categories")
def list_categories() -> list[dict[str, Any]]:
    return [
        {
            "code": c.code,
            "name": c.name,
            "group": c.group_name,
            "group_code": c.group_code,
            "department_code": c.department_code,
            "territorial": c.territorial,
            "time_limit": c.time_limit,
            "time_limit_label": c.time_limit.label,
            "keywords": list(c.keywords),
        }
        for c in categories().values()
    ]


@router.get("/departments")
def list_departments() -> list[dict[str, str]]:
    return [{"code": d.code, "name": d.name, "scope": d.scope} for d in departments().values()]


@router.get("/places")
def list_places() -> list[dict[str, Any]]:
    places = gazetteer()
    return [
        {
            "code": d.code,
            "name": d.name,
            "streets": [
                {"code": s.code, "name": s.name, "kind": s.kind}
                for s in places.streets.values()
                if s.district == d
            ],
        }
        for d in places.districts.values()
    ]
