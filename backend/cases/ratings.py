"""Ratings (回访): the citizen's answer after 办结, and the one reopening (重办) a dissatisfied one brings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from backend.cases.models import Case, Rating, Satisfaction
from backend.cases.schemas.ratings import RatingIn
from backend.cases.states import CaseStatus, Move
from backend.cases.transitions import transition
from backend.errors import Forbidden, InvalidMove
from backend.staff.principal import SYSTEM, Principal
from backend.staff.roles import Role
from common.database import utcnow
from common.phone import normalise_mobile


def rate_case(
    *, session: Session, case: Case, rating_in: RatingIn, principal: Principal, now: datetime | None = None
) -> Case:
    """Record the citizen's rating (回访); a dissatisfied first rating reopens the case once (重办)."""
    now = now or utcnow()
    if principal.role == Role.SERVICE and not rated_by_its_citizen(case, rating_in):
        raise Forbidden("a citizen can rate only a case filed from the same channel identity")
    if case.status != CaseStatus.RESOLVED:
        raise InvalidMove(f"case {case.number} can be rated only after it is resolved ({case.status.label})")
    session.add(
        Rating(
            case=case,
            round=len(case.ratings) + 1,
            resolved=rating_in.resolved,
            satisfaction=rating_in.satisfaction,
            comment=rating_in.comment,
            rated_at=now,
        )
    )
    label = f"{'已解决' if rating_in.resolved else '未解决'}，{rating_in.satisfaction.label}"
    transition(
        session=session,
        case=case,
        move=Move.RATE,
        principal=principal,
        note=f"{label}{'：' + rating_in.comment if rating_in.comment else ''}",
        now=now,
    )
    if rating_in.satisfaction == Satisfaction.DISSATISFIED and case.reopen_count == 0:
        transition(
            session=session,
            case=case,
            move=Move.REOPEN,
            principal=SYSTEM,
            note=f"市民不满意，重新办理{'：' + rating_in.comment if rating_in.comment else ''}",
            now=now,
        )
    return case


def rated_by_its_citizen(case: Case, rating_in: RatingIn) -> bool:
    """A service rates for the citizen: from the channel identity that filed the case, or by SMS from
    the phone that gets its updates."""
    if rating_in.channel_identity and rating_in.channel_identity == case.channel_identity:
        return True
    phone = normalise_mobile(rating_in.sms_phone or "")
    return bool(case.sms_updates and phone and phone == case.contact_phone)
