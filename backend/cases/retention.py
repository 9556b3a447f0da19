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
    """Anonymise every case closed more than `days` days ago that still carries personal data."""
    cutoff = (now or utcnow()) - timedelta(days=days)
    cases = session.scalars(
        select(Case).where(
            Case.status == CaseStatus.CLOSED,
            Case.closed_at < cutoff,
            (Case.contact_phone.is_not(None))
            | (Case.contact_name.is_not(None))
            | (Case.address.is_not(None))
            | (Case.channel_identity.is_not(None)),
        )
    ).all()
    for case in cases:
        anonymise(case)
    return len(cases)


def anonymise(case: Case) -> None:
    """Remove the citizen from the case: contact, exact address, channel identity, photos, free text."""
    name = case.contact_name
    case.contact_name = case.contact_phone = case.address = None
    case.channel_identity = case.conversation_id = None
    case.latitude = round(case.latitude, 2) if case.latitude is not None else None
    case.longitude = round(case.longitude, 2) if case.longitude is not None else None
    case.attachments = []
    case.attributes = {}
    case.idempotency_key = case.idempotency_hash = None
    case.description = _scrub(case.description, name) if case.description else REMOVED
    for update in case.updates:
        if update.note:
            update.note = _scrub(update.note, name)
    for rating in case.ratings:
        if rating.comment:
            rating.comment = _scrub(rating.comment, name)


def _scrub(text: str, name: str | None) -> str:
    text = mask_text(text)
    if name and len(name) >= 2:
        text = text.replace(name, name[0] + "*" * (len(name) - 1))
    return text
