"""The responsible units (部门) with their fixed codes from departments.csv."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
STREET_OFFICE = "street_office"
DISTRICT_GOVERNMENT = "district_government"
TERRITORIAL = frozenset({STREET_OFFICE, DISTRICT_GOVERNMENT})


@dataclass(frozen=True)
class Department:
    code: str
    name: str
    scope: str

    @property
    def functional(self) -> bool:
        """A functional department, as opposed to the territorial street office or district."""
        return self.code not in TERRITORIAL


@cache
def departments() -> dict[str, Department]:
    with (DATA / "departments.csv").open(encoding="utf-8") as file:
        return {
            row["code"]: Department(row["code"], row["name"], row["scope"]) for row in csv.DictReader(file)
        }


def department(code: str) -> Department:
    """Return the department with this code; KeyError for an unknown code."""
    return departments()[code]
