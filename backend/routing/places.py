"""Find the place in a message: district and street/township, from the gazetteer, aliases and context.

A blank Chinese spaCy pipeline (jieba segmentation with our dictionary) and an EntityRuler whose
patterns are generated from the gazetteer: full names (朝阳区, 望京街道), names without their suffix
(朝阳, 望京) unless that short form is a common word or names several places, and well-known areas
(回龙观, 天通苑, 亦庄). Mentions are then reconciled: a district narrows ambiguous streets, a street
implies its district, and mentions that contradict each other fall back to what is certain.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache

import spacy
from spacy.language import Language

from backend.reference.gazetteer import District, Gazetteer, Street, gazetteer
from backend.routing.text import normalise, segmenter

# Short forms that are everyday words (胜利, 光明, 天桥 as a footbridge, 河北 the province, ...):
# only the full name (天桥街道) counts for these.
COMMON_WORD_SHORTS = frozenset(
    {
        "胜利",
        "河北",
        "东湖",
        "古城",
        "安定",
        "光明",
        "东风",
        "城北",
        "老山",
        "清水",
        "八角",
        "温泉",
        "向阳",
        "渤海",
        "东升",
        "新华",
        "天桥",
        "城南",
        "曙光",
        "新村",
        "四海",
        "果园",
        "迎风",
        "龙山",
        "平房",
        "鼓楼",
        "城关",
        "宝山",
        "永宁",
        "龙潭",
        "广宁",
        "延寿",
        "石城",
        "仁和",
        "滨河",
        "百泉",
        "新镇",
        "和义",
        "儒林",
        "清源",
        "文景",
        "北庄",
        "双丰",
        "旺泉",
        "木林",
        "永定",
        "城子",
        "长沟",
        "龙泉",
        "王平",
        "康庄",
        "北房",
        "花乡",
        "空港",
        "峪口",
        "上庄",
        "新街口",
        "和平街",
        "西长安街",
    }
)


@dataclass(frozen=True)
class Place:
    """Where a message says the matter is: as precise as the words allow."""

    district: District | None = None
    street: Street | None = None
    mentions: tuple[str, ...] = field(default=())

    @property
    def found(self) -> bool:
        return self.district is not None


class PlaceFinder:
    def __init__(self, places: Gazetteer) -> None:
        self.places = places
        self.nlp = _pipeline(places)
        self._zone = threading.Lock()  # a memory zone is the vocabulary's: one thread at a time

    def find(self, *texts: str | None) -> Place:
        """The place in the first text that names one (pass the address field before the message)."""
        for text in texts:
            if text and text.strip():
                place = self._resolve(self._mentions(normalise(text)))
                if place.found:
                    return place
        return Place()

    def _mentions(self, text: str) -> list[tuple[str, str, str]]:
        """The place names in a text. In a memory zone: spaCy keeps every new word and string it
        meets in the vocabulary for good otherwise, so each citizen's names, numbers and addresses
        would stay in the backend's memory and grow it without bound. Zones of two threads at once
        break the vocabulary (the backend's sync endpoints run in a thread pool), hence the lock."""
        with self._zone, self.nlp.memory_zone():
            doc = self.nlp(text)
            return [(ent.label_, ent.ent_id_, ent.text) for ent in doc.ents]

    def _resolve(self, mentions: list[tuple[str, str, str]]) -> Place:
        districts: list[str] = []
        streets: list[list[str]] = []
        area_districts: list[str] = []
        for label, ids, _ in mentions:
            if label == "DISTRICT":
                districts.append(ids)
            elif label == "STREET":
                streets.append(ids.split("|"))
            elif label == "AREA":
                district_code, _, street_code = ids.partition("|")
                if street_code:
                    streets.append([street_code])
                else:
                    area_districts.append(district_code)
        texts = tuple(text for _, _, text in mentions)
        return self._reconcile(districts, streets, area_districts, texts)

    def _reconcile(
        self,
        districts: list[str],
        streets: list[list[str]],
        area_districts: list[str],
        texts: tuple[str, ...],
    ) -> Place:
        by_code = self.places.streets
        if districts:
            district = districts[0]
            for candidates in streets:
                inside = [c for c in candidates if by_code[c].district.code == district]
                if len(inside) == 1:
                    return Place(self.places.districts[district], by_code[inside[0]], texts)
            return Place(self.places.districts[district], None, texts)
        for candidates in streets:
            if len(candidates) == 1:
                street = by_code[candidates[0]]
                return Place(street.district, street, texts)
            owners = {by_code[c].district.code for c in candidates}
            if len(owners) == 1:
                return Place(self.places.districts[owners.pop()], None, texts)
        if area_districts:
            return Place(self.places.districts[area_districts[0]], None, texts)
        return Place(mentions=texts)


def patterns(places: Gazetteer) -> list[dict[str, str]]:
    """EntityRuler patterns for every district, street and alias, with the codes as ids."""
    found: list[dict[str, str]] = []
    district_shorts = {d.short for d in places.districts.values()}
    for district in places.districts.values():
        for name in {district.name, district.short}:
            found.append({"label": "DISTRICT", "pattern": name, "id": district.code})
    street_names: defaultdict[str, set[str]] = defaultdict(set)
    for street in places.streets.values():
        street_names[street.name].add(street.code)
        short = street.short
        if short != street.name and short not in COMMON_WORD_SHORTS and short not in district_shorts:
            street_names[short].add(street.code)
    for name, codes in street_names.items():
        found.append({"label": "STREET", "pattern": name, "id": "|".join(sorted(codes))})
    for alias in places.aliases:
        if alias.name in street_names or alias.name in COMMON_WORD_SHORTS or alias.name in district_shorts:
            continue
        target = f"{alias.district.code}|{alias.street.code if alias.street else ''}"
        found.append({"label": "AREA", "pattern": alias.name, "id": target})
    return found


def _pipeline(places: Gazetteer) -> Language:
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
    nlp.tokenizer.jieba_seg = segmenter()  # type: ignore[union-attr]
    ruler = nlp.add_pipe("entity_ruler", config={"overwrite_ents": True})
    ruler.add_patterns(patterns(places))  # type: ignore[attr-defined]
    return nlp


@cache
def place_finder() -> PlaceFinder:
    return PlaceFinder(gazetteer())
