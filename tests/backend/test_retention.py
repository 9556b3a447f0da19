"""Retention: closed cases lose their personal data after N days; cases and statistics stay."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy.orm import Session

from backend.cases.models import Case
from backend.cases.ratings import rate_case
from backend.cases.retention import anonymise_closed
from backend.cases.schemas.ratings import RatingIn
from backend.cases.states import Move
from backend.cases.timeline import add_note
from backend.cases.transitions import transition
from backend.staff.principal import SYSTEM, Principal
from backend.staff.roles import Role
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


def free_text(case: Case) -> str:
    texts = [
        case.description,
        case.reply,
        *[u.note for u in case.updates],
        *[r.comment for r in case.ratings],
    ]
    return json.dumps(texts, ensure_ascii=False)


def test_anonymisation_masks_personal_data_inside_every_free_text(session: Session) -> None:
    named = closed_case(
        session,
        200,
        contact_name="欧阳晓明",
        contact_phone="13987654321",
        description="我叫欧阳晓明，住5号楼2单元301室，电话一三九八七六五四三二一，楼下烧烤太呛",
        address="望京西园三区5号楼2单元301室",
    )
    # an anonymous appeal keeps no contact fields, but its words can still name and place the citizen
    anonymous = closed_case(
        session,
        200,
        anonymous=True,
        contact_name=None,
        contact_phone=None,
        address=None,
        channel="phone",
        channel_identity=None,
        description="本人赵丽华，3栋2门401的，手机１３９ １２３４ ５６７８，油烟天天往上窜",
    )
    note = "回访：联系人欧阳晓明，座机010-62345678，身份证110105199001011234"
    add_note(session=session, case=named, text=note, public=False, principal=Principal(Role.OPERATOR, "op1"))
    session.commit()
    assert anonymise_closed(session=session, days=180) == 2
    session.commit()
    named_text, anonymous_text = free_text(named), free_text(anonymous)
    for secret in (
        "晓明",
        "5号楼",
        "301",
        "一三九八七六五四三二一",
        "13912345678",  # in the reply closed_case() gives
        "010-62345678",
        "110105199001011234",
    ):
        assert secret not in named_text, secret
    assert "139****4321" in named_text and "*号楼*单元*室" in named_text and "已联系王**本人" in named_text
    for secret in ("丽华", "3栋2门401", "１３９ １２３４ ５６７８"):
        assert secret not in anonymous_text, secret
    assert named.anonymised_at and anonymous.anonymised_at
    # the category, place at street level and the rating stay for the statistics
    assert anonymous.street_code == "110105026" and anonymous.ratings[0].satisfaction == "satisfied"
    assert anonymise_closed(session=session, days=180) == 0
