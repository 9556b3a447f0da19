"""Repeat appeals (重复诉求): link a new case to recent ones about the same matter at the same place."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.cases.models import Case, CaseLink, CaseUpdate

WINDOW = timedelta(days=90)
MAX_LINKS = 10
NEAR_METRES = 200.0
SIMILAR_ADDRESS = 0.5


def link_related(*, session: Session, case: Case, now: datetime) -> list[str]:
    """Link this case both ways to recent cases of its category in its street at a similar spot."""
    if not (case.category_code and case.street_code):
        return []
    candidates = session.execute(
        select(Case.id, Case.number, Case.address, Case.latitude, Case.longitude)
        .where(
            Case.category_code == case.category_code,
            Case.street_code == case.street_code,
            Case.accepted_at >= now - WINDOW,
            Case.id != case.id,
        )
        .order_by(Case.accepted_at.desc())
        .limit(200)
    ).all()
    here = Spot(case.address, case.latitude, case.longitude)
    related = [row for row in candidates if same_spot(here, Spot(row.address, row.latitude, row.longitude))]
    related = related[:MAX_LINKS]
    for other in related:
        session.add(CaseLink(case_id=case.id, related_id=other.id, reason="same_place_category"))
        session.add(CaseLink(case_id=other.id, related_id=case.id, reason="same_place_category"))
    if related:
        case.updates.append(
            CaseUpdate(
                kind="link",
                actor_kind="system",
                actor="system",
                created_at=now,
                public=False,
                note="重复诉求，关联工单：" + "、".join(o.number for o in related),
            )
        )
    session.flush()
    return [o.number for o in related]


class Spot(NamedTuple):
    address: str | None
    latitude: float | None
    longitude: float | None


def same_spot(a: Spot, b: Spot) -> bool:
    """Close by coordinates (200 m), or addresses that mostly share their characters."""
    if (
        a.latitude is not None
        and a.longitude is not None
        and b.latitude is not None
        and b.longitude is not None
    ):
        return metres_between(a.latitude, a.longitude, b.latitude, b.longitude) <= NEAR_METRES
    if a.address and b.address:
        return address_similarity(a.address, b.address) >= SIMILAR_ADDRESS
    return False


def address_similarity(a: str, b: str) -> float:
    """Jaccard similarity of character bigrams, ignoring spaces and punctuation."""

    def grams(text: str) -> set[str]:
        text = "".join(ch for ch in text if ch.isalnum())
        return {text[i : i + 2] for i in range(len(text) - 1)} or {text}

    left, right = grams(a), grams(b)
    return len(left & right) / len(left | right) if left | right else 0.0


def metres_between(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    radius = 6_371_000.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * radius * math.asin(math.sqrt(h))
