"""Retention: the personal data of cases closed long ago is anonymised; the cases and their
statistics stay (category, place at street level, times, units, ratings)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.cases.models import Case
from backend.cases.states import CaseStatus
from common.database import utcnow
from common.masking import mask_text

REMOVED = "（已按保存期限删除）"


def anonymise_closed(*, session: Session, days: int, now: datetime | None = None) -> int:
    """Anonymise every case closed more than `days` days ago that has not been anonymised yet."""
    now = now or utcnow()
    cases = session.scalars(
        select(Case).where(
            Case.status == CaseStatus.CLOSED,
            Case.closed_at < now - timedelta(days=days),
            Case.anonymised_at.is_(None),
        )
    ).all()
    for case in cases:
        anonymise(case, now=now)
    return len(cases)


def anonymise(case: Case, *, now: datetime) -> None:
    """Remove the citizen from the case: contact, exact address, channel identity, photos, and the
    personal data inside every free text (description, reply, timeline notes, rating comments)."""
    names = [case.contact_name]
    case.contact_name = case.contact_phone = case.address = None
    case.channel_identity = case.conversation_id = None
    case.latitude = round(case.latitude, 2) if case.latitude is not None else None
    case.longitude = round(case.longitude, 2) if case.longitude is not None else None
    case.attachments = []
    case.attributes = {}
    case.idempotency_key = case.idempotency_hash = None
    case.description = mask_text(case.description, names=names) if case.description else REMOVED
    case.reply = mask_text(case.reply, names=names) if case.reply else case.reply
    for update in case.updates:
        if update.note:
            update.note = mask_text(update.note, names=names)
    for rating in case.ratings:
        if rating.comment:
            rating.comment = mask_text(rating.comment, names=names)
    case.anonymised_at = now
