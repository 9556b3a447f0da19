"""The category tree (事项分类) from categories.yml: groups of leaf categories."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from backend.reference.departments import departments
from backend.reference.time_limits import TimeLimit

DATA = Path(__file__).resolve().parent / "data"
OTHER = "other"


@dataclass(frozen=True)
class Attribute:
    """A question the assistant may ask for this category (an Open311 attribute)."""

    code: str
    description: str
    datatype: str
    required: bool


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    group_code: str
    group_name: str
    department_code: str | None  # None: responsibility unclear (dispatched to the district government)
    territorial: bool  # a community-level matter for the street office of the place
    time_limit: TimeLimit
    keywords: tuple[str, ...]
    attributes: tuple[Attribute, ...]


@cache
def categories() -> dict[str, Category]:
    """Every leaf category by code, checked against the department codes."""
    tree = yaml.safe_load((DATA / "categories.yml").read_text(encoding="utf-8"))
    known = departments()
    result: dict[str, Category] = {}
    for group in tree["groups"]:
        for leaf in group["categories"]:
            department = leaf.get("department")
            if department is not None and (department not in known or not known[department].functional):
                raise ValueError(f"category {leaf['code']}: {department!r} is not a functional department")
            result[leaf["code"]] = Category(
                code=leaf["code"],
                name=leaf["name"],
                group_code=group["code"],
                group_name=group["name"],
                department_code=department,
                territorial=bool(leaf.get("territorial", False)),
                time_limit=TimeLimit(leaf["time_limit"]),
                keywords=tuple(leaf.get("keywords", ())),
                attributes=tuple(Attribute(**a) for a in leaf.get("attributes", ())),
            )
    return result


def category(code: str) -> Category:
    """Return the category with this code; KeyError for an unknown code."""
    return categories()[code]
