"""Beijing's 16 districts and 349 township-level units, with aliases and well-known places."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
STREET_SUFFIXES = ("街道", "地区", "镇", "乡")


@dataclass(frozen=True)
class District:
    code: str
    name: str  # 朝阳区

    @property
    def short(self) -> str:
        return self.name.removesuffix("区")


@dataclass(frozen=True)
class Street:
    """A township-level unit (街道, 镇, 地区, 乡 or a development zone)."""

    code: str
    name: str  # 望京街道
    kind: str
    district: District

    @property
    def short(self) -> str:
        """The name without its suffix (望京街道 -> 望京), or the name when nothing would remain."""
        for suffix in STREET_SUFFIXES:
            if self.name.endswith(suffix) and len(self.name) - len(suffix) >= 2:
                return self.name.removesuffix(suffix)
        return self.name


@dataclass(frozen=True)
class Alias:
    """A well-known place or informal name, pointing at a district and possibly a street."""

    name: str
    district: District
    street: Street | None


@dataclass(frozen=True)
class Gazetteer:
    districts: dict[str, District]
    streets: dict[str, Street]
    aliases: tuple[Alias, ...]

    def place_name(self, district_code: str | None, street_code: str | None) -> str:
        """The place the known codes name, as "朝阳区望京街道"; "" when neither is known."""
        places = (self.districts.get(district_code or ""), self.streets.get(street_code or ""))
        return "".join(p.name for p in places if p is not None)


@cache
def gazetteer() -> Gazetteer:
    with (DATA / "beijing_districts.csv").open(encoding="utf-8") as file:
        districts = {
            r["district_code"]: District(r["district_code"], r["district"]) for r in csv.DictReader(file)
        }
    with (DATA / "beijing_streets.csv").open(encoding="utf-8") as file:
        streets = {
            r["street_code"]: Street(r["street_code"], r["street"], r["type"], districts[r["district_code"]])
            for r in csv.DictReader(file)
        }
    return Gazetteer(districts, streets, tuple(_aliases(districts, streets)))


def _aliases(districts: dict[str, District], streets: dict[str, Street]) -> list[Alias]:
    path = DATA / "place_aliases.csv"
    if not path.exists():
        return []
    by_district = {d.name: d for d in districts.values()}
    by_street = {(s.district.name, s.name): s for s in streets.values()}
    aliases = []
    with path.open(encoding="utf-8") as file:
        for row in csv.DictReader(file):
            district = by_district[row["district"].strip()]
            street_name = (row.get("street") or "").strip()
            street = by_street[(district.name, street_name)] if street_name else None
            aliases.append(Alias(row["alias"].strip(), district, street))
    return aliases


def government_terms() -> list[str]:
    path = DATA / "terms.txt"
    if not path.exists():
        return []
    words = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [w for w in words if w and not w.startswith("#") and not re.search(r"\s", w)]


def dictionary_words() -> list[str]:
    """Every word the jieba segmenter should keep whole: places, aliases and government terms."""
    g = gazetteer()
    words: set[str] = set()
    for district in g.districts.values():
        words.update((district.name, district.short))
    for street in g.streets.values():
        words.update((street.name, street.short))
    words.update(alias.name for alias in g.aliases)
    words.update(government_terms())
    return sorted(w for w in words if len(w) >= 2)
