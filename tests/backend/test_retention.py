"""Retention: closed cases lose their personal data after N days; cases and statistics stay."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy.orm import Session

from backend.cases.retention import anonymise_closed
from backend.cases.schemas import RatingIn
from backend.cases.service import rate_case, transition
from backend.cases.states import Move
from backend.staff.principal import SYSTEM
from common.database import utcnow
from tests.backend.factories import make_case


def closed_case(session: Session, days_ago: int, **overrides: object):  # type: ignore[no-untyped-def]
    when = utcnow() - timedelta(days=days_ago)
    case = make_case(session, now=when, **overrides)
    transition(session=session, case=case, move=Move.ACKNOWLEDGE, principal=SYSTEM, now=when)
    transition(
        session=session,
        case=case,
        move=Move.RESOLVE,
        principal=SYSTEM,
        now=when,
        reply="已联系王小明本人，电话13912345678，问题已解决",
    )
    rate_case(
        session=session,
        case=case,
        principal=SYSTEM,
        now=when,
        rating_in=RatingIn(resolved=True, satisfaction="satisfied", comment="王小明很满意"),
    )
    transition(session=session, case=case, move=Move.CLOSE, principal=SYSTEM, now=when)
    session.commit()
    return case


def test_old_closed_cases_are_anonymised_and_keep_their_statistics(session: Session) -> None:
    old = closed_case(
        session,
        200,
        contact_name="王小明",
        contact_phone="13912345678",
        description="我是王小明，电话13912345678，楼下烧烤油烟太大",
        latitude=39.99671,
        longitude=116.47061,
        attachments=[{"kind": "photo", "ref": "upload:a.jpg"}],
    )
    recent = closed_case(session, 10, contact_name="李四")
    still_open = make_case(session, now=utcnow() - timedelta(days=300), contact_name="赵六")
    assert anonymise_closed(session=session, days=180) == 1
    session.commit()
    assert (old.contact_name, old.contact_phone, old.address, old.channel_identity) == (
        None,
        None,
        None,
        None,
    )
    assert old.attachments == [] and (old.latitude, old.longitude) == (40.0, 116.47)
    everything = json.dumps(
        [old.description, *[u.note for u in old.updates], *[r.comment for r in old.ratings]],
        ensure_ascii=False,
    )
    assert "王小明" not in everything and "13912345678" not in everything
    # the case and what the rates are computed from remain
    assert old.number and old.category_code == "cooking_fumes" and old.street_code == "110105026"
    assert old.status == "closed" and old.ratings[0].satisfaction == "satisfied" and old.resolved_at
    assert recent.contact_name == "李四" and still_open.contact_name == "赵六"
    assert anonymise_closed(session=session, days=180) == 0  # nothing left to do
