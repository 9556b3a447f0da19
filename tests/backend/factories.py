"""Building cases for tests: realistic payloads with overrides."""

from __future__ import annotations

from datetime import datetime
from itertools import count
from typing import Any

from sqlalchemy.orm import Session

from backend.cases.models import Case
from backend.cases.schemas import CaseCreate
from backend.cases.service import create_case
from backend.staff.principal import Principal
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
