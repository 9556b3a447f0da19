"""Route a message: category, functional department, place, dispatch target, time limit, confidence."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from backend.cases.dispatch import DispatchPlan, plan_dispatch
from backend.cases.schemas.intake import CaseRouting
from backend.reference.categories import OTHER, Category, categories
from backend.reference.departments import Department, department
from backend.reference.time_limits import TimeLimit
from backend.routing.emergency import Emergency, detect_emergency
from backend.routing.model import CategoryModel, build
from backend.routing.places import Place, PlaceFinder, place_finder
from backend.routing.text import has_chinese, normalise

MAX_TEXT_CHARS = 1000
MAX_ADDRESS_CHARS = 300
ALTERNATIVES = 3
NO_CHINESE_PENALTY = 0.2
DEPARTMENT_SIZE_EXPONENT = 0.5  # a department's mass is divided by its number of categories to this power
# Below this department confidence a case goes to its place (属地) and to the hotline's review queue.
# Chosen on the tuning half of the real dev set (bench/routing_real.py): see docs/measurements.md.
REVIEW_BELOW = 0.15


@dataclass(frozen=True)
class Routing:
    category: Category
    confidence: float
    alternatives: tuple[tuple[Category, float], ...]
    department: Department
    department_confidence: float
    place: Place
    emergency: Emergency | None
    time_limit: TimeLimit
    dispatch: DispatchPlan | None
    needs_review: bool = False

    def carried(self) -> CaseRouting:
        """The routing in codes, as a case carries it (CaseCreate.routing)."""
        return CaseRouting(
            category_code=self.category.code,
            department_code=self.department.code,
            district_code=self.place.district.code if self.place.district else None,
            street_code=self.place.street.code if self.place.street else None,
            confidence=round(self.confidence, 3),
            department_confidence=round(self.department_confidence, 3),
            needs_review=self.needs_review,
            emergency=self.emergency is not None,
            alternatives=[
                {"category_code": c.code, "department_code": c.department_code, "confidence": round(p, 3)}
                for c, p in self.alternatives
            ],
        )

    def public(self) -> dict[str, Any]:
        """The answer of POST /api/v1/routing and of the command line."""
        target = self.dispatch
        return {
            "category": {"code": self.category.code, "name": self.category.name},
            "department": {"code": self.department.code, "name": self.department.name},
            "dispatch_to": (
                {"kind": _kind(target), "code": target.lead.key, "name": target.lead.name}
                if target
                else {"kind": "hotline", "code": None, "name": "热线人工派单"}
            ),
            "district": _named(self.place.district),
            "street": _named(self.place.street),
            "urgency": self.time_limit.value,
            "response_hours": self.time_limit.hours,
            "emergency": (
                {"kind": self.emergency.kind, "label": self.emergency.label, "call": self.emergency.number}
                if self.emergency
                else None
            ),
            "confidence": round(self.confidence, 3),
            "department_confidence": round(self.department_confidence, 3),
            "needs_review": self.needs_review,
            "alternatives": [
                {
                    "category": {"code": c.code, "name": c.name},
                    "department": {"code": c.department_code, "name": department(c.department_code).name}
                    if c.department_code
                    else None,
                    "confidence": round(p, 3),
                }
                for c, p in self.alternatives
            ],
        }


def _kind(plan: DispatchPlan) -> str:
    return {"street_office": "street_office", "district_government": "district_government"}.get(
        plan.lead.code, "department"
    )


def _named(place: Any) -> dict[str, str] | None:
    return {"code": place.code, "name": place.name} if place is not None else None


class Classifier:
    def __init__(self, model: CategoryModel, places: PlaceFinder) -> None:
        self.model = model
        self.places = places
        self.cats = categories()
        owners = (self.cats[code].department_code for code in model.classes if code != OTHER)
        self._sizes = Counter(owner for owner in owners if owner)

    @classmethod
    def load(cls, models_dir: Path) -> Classifier:
        places = place_finder()
        model, _ = build(models_dir, places)
        return cls(model, places)

    def route(self, text: str, address: str | None = None) -> Routing:
        """Classify one message; the caller has checked its length and that it has words."""
        return self.route_many([(text, address)])[0]

    def route_many(self, items: list[tuple[str, str | None]]) -> list[Routing]:
        probabilities = self.model.probabilities([text for text, _ in items])
        return [
            self._one(text, address, row) for (text, address), row in zip(items, probabilities, strict=True)
        ]

    def suggest(self, text: str, address: str | None) -> CaseRouting:
        """What the backend uses at acceptance when a case comes without the conversation's routing."""
        return self.route(text[:MAX_TEXT_CHARS], (address or "")[:MAX_ADDRESS_CHARS] or None).carried()

    def _one(self, text: str, address: str | None, row: np.ndarray) -> Routing:
        classes = self.model.classes
        order = np.argsort(row)[::-1]
        penalty = 1.0 if has_chinese(text) else NO_CHINESE_PENALTY
        ranked = [(self.cats[classes[i]], float(row[i]) * penalty) for i in order]
        best, confidence = ranked[0]
        dept_code, dept_confidence = self._department(classes, row)
        place = self.places.find(address, normalise(text))
        emergency = detect_emergency(normalise(text))
        limit = TimeLimit.EMERGENCY if emergency else best.time_limit
        unsure = dept_confidence * penalty < REVIEW_BELOW
        plan = plan_dispatch(
            category=best,
            district_code=place.district.code if place.district else None,
            street_code=place.street.code if place.street else None,
            department_code=dept_code,
            unsure=unsure,
        )
        return Routing(
            category=best,
            confidence=confidence,
            alternatives=tuple(ranked[1 : 1 + ALTERNATIVES]),
            department=department(dept_code),
            department_confidence=dept_confidence * penalty,
            place=place,
            emergency=emergency,
            time_limit=limit,
            dispatch=plan,
            needs_review=unsure,
        )

    def _department(self, classes: list[str], row: np.ndarray) -> tuple[str, float]:
        """The functional department whose categories score best, and its share of the probability.

        A department scores its categories' probability mass over the square root of their number. A
        plain sum favours departments with many categories (housing has eight): a message the model is
        unsure of spreads a little probability over each, and their sum outweighs the one category of
        the department it is about. On the real dev set's tuning half (bench/routing_real.py) the
        square root sent 103 rather than 161 of 4,310 messages to housing against their class, for
        0.004 of accuracy (full text) and 0.012 (60 characters).
        """
        mass: defaultdict[str, float] = defaultdict(float)
        for code, p in zip(classes, row, strict=True):
            owner = self.cats[code].department_code
            if owner and code != OTHER:
                mass[owner] += float(p)
        best = max(mass, key=lambda owner: mass[owner] / self._sizes[owner] ** DEPARTMENT_SIZE_EXPONENT)
        total = sum(mass.values()) or 1.0
        return best, mass[best] / total
