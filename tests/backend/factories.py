"""Building cases for tests: realistic payloads with overrides."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import count
from typing import Any

from sqlalchemy.orm import Session

from backend.cases.intake import create_case
from backend.cases.models import Case
from backend.cases.ratings import rate_case
from backend.cases.schemas.intake import CaseCreate
from backend.cases.schemas.ratings import RatingIn
from backend.cases.states import Move
from backend.cases.transitions import transition
from backend.staff.principal import SYSTEM, Principal
from backend.staff.service import SERVICE

_phones = count(13800138000)

WANGJING = {"district_code": "110105", "street_code": "110105026"}  # 朝阳区望京街道
ZHONGGUANCUN = {"district_code": "110108", "street_code": "110108011"}  # 海淀区中关村街道


def payload(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "appeal_type": "complaint",
        "category_code": "cooking_fumes",
        "description": "楼下烧烤店油烟太大，天天晚上呛得开不了窗",
        "address": "望京西园三区",
        **WANGJING,
        "contact_name": "张三",
        "contact_phone": str(next(_phones)),
        "channel": "webchat",
        "channel_identity": "webchat-citizen-1",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def make_case(
    session: Session, *, principal: Principal = SERVICE, now: datetime | None = None, **overrides: Any
) -> Case:
    case, _ = create_case(
        session=session, case_in=CaseCreate(**payload(**overrides)), principal=principal, now=now
    )
    session.commit()
    return case


def make_rated_case(
    session: Session, at: datetime, satisfaction: str, resolved: bool = True, **overrides: Any
) -> Case:
    """A case accepted at `at`, acknowledged within the hour, resolved, and rated (回访) a day later."""
    case = make_case(session, now=at, **overrides)
    transition(
        session=session, case=case, move=Move.ACKNOWLEDGE, principal=SYSTEM, now=at + timedelta(hours=1)
    )
    transition(session=session, case=case, move=Move.RESOLVE, principal=SYSTEM, reply="已处理", now=at)
    rating = RatingIn(resolved=resolved, satisfaction=satisfaction)  # type: ignore[arg-type]
    rate_case(session=session, case=case, rating_in=rating, principal=SYSTEM, now=at + timedelta(days=1))
    session.commit()
    return case
