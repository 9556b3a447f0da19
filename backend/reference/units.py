"""Units (承办单位): who handles a case, a department or the office of a street or district."""

from __future__ import annotations

from dataclasses import dataclass

from backend.reference.departments import DISTRICT_GOVERNMENT, STREET_OFFICE, department
from backend.reference.gazetteer import gazetteer


@dataclass(frozen=True)
class Unit:
    """A responsible unit: a department code, and for territorial units the area it governs."""

    code: str
    area: str | None = None  # street code for a street office, district code for a district

    @property
    def key(self) -> str:
        return f"{self.code}:{self.area}" if self.area else self.code

    @classmethod
    def parse(cls, key: str) -> Unit:
        """Read a unit key ("housing", "street_office:110105026"); ValueError when unknown."""
        code, _, area = key.partition(":")
        try:
            department(code)
        except KeyError:
            raise ValueError(f"unknown unit code: {code}") from None
        places = gazetteer()
        if code == STREET_OFFICE and area not in places.streets:
            raise ValueError(f"a street office needs a known street code: {key}")
        if code == DISTRICT_GOVERNMENT and area not in places.districts:
            raise ValueError(f"a district government needs a known district code: {key}")
        if code not in (STREET_OFFICE, DISTRICT_GOVERNMENT) and area:
            raise ValueError(f"a functional department has no area: {key}")
        return cls(code, area or None)

    @property
    def name(self) -> str:
        places = gazetteer()
        if self.code == STREET_OFFICE and self.area:
            street = places.streets[self.area]
            office = {"街道": "办事处", "地区": "办事处", "other": "管理委员会"}.get(street.kind, "人民政府")
            return f"{street.district.name}{street.name}{office}"
        if self.code == DISTRICT_GOVERNMENT and self.area:
            return f"{places.districts[self.area].name}人民政府"
        return department(self.code).name
