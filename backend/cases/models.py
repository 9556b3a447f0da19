"""Case tables: the case (工单), its timeline (CaseUpdate), assignments, ratings and links."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.cases.states import CaseStatus
from backend.db import Base, StrEnumType
from backend.reference.time_limits import TimeLimit
from backend.staff.roles import Role
from common.database import utcnow
from common.phone import PHONE_CHARS


class AppealType(enum.StrEnum):
    """诉求类型."""

    COMPLAINT = "complaint"  # 投诉
    REPORT = "report"  # 举报
    HELP = "help"  # 求助
    CONSULTATION = "consultation"  # 咨询
    SUGGESTION = "suggestion"  # 建议
    PRAISE = "praise"  # 表扬

    @property
    def label(self) -> str:
        return APPEAL_LABELS[self]


APPEAL_LABELS = {
    AppealType.COMPLAINT: "投诉",
    AppealType.REPORT: "举报",
    AppealType.HELP: "求助",
    AppealType.CONSULTATION: "咨询",
    AppealType.SUGGESTION: "建议",
    AppealType.PRAISE: "表扬",
}


class Channel(enum.StrEnum):
    PHONE = "phone"
    TELEGRAM = "telegram"
    WEBCHAT = "webchat"
    WECHAT = "wechat"
    OPEN311 = "open311"
    OTHER = "other"


class Satisfaction(enum.StrEnum):
    SATISFIED = "satisfied"  # 满意
    BASICALLY_SATISFIED = "basically_satisfied"  # 基本满意
    DISSATISFIED = "dissatisfied"  # 不满意

    @property
    def label(self) -> str:
        return {"satisfied": "满意", "basically_satisfied": "基本满意", "dissatisfied": "不满意"}[self]


class Case(Base):
    """A citizen's appeal (工单) from acceptance to archive."""

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_status_due_at", "status", "due_at"),
        Index("ix_cases_lead_unit_code_status", "lead_unit_code", "status"),
        Index("ix_cases_category_street", "category_code", "street_code"),
        Index("ix_cases_accepted_at", "accepted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    appeal_type: Mapped[AppealType] = mapped_column(StrEnumType(AppealType, 16))
    category_code: Mapped[str | None] = mapped_column(String(40))
    routing_confidence: Mapped[float | None] = mapped_column(Float)
    department_code: Mapped[str | None] = mapped_column(String(40))  # the department routing chose
    department_confidence: Mapped[float | None] = mapped_column(Float)
    # routing was unsure of the department: the hotline picks the unit (its review queue)
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false(), index=True)
    routing_alternatives: Mapped[list[dict[str, Any]]] = mapped_column(default=list)  # codes, confidences
    description: Mapped[str] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(String(300))
    district_code: Mapped[str | None] = mapped_column(String(6))
    street_code: Mapped[str | None] = mapped_column(String(9))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    occurred_at: Mapped[datetime | None]
    contact_name: Mapped[str | None] = mapped_column(String(50))
    contact_phone: Mapped[str | None] = mapped_column(String(PHONE_CHARS), index=True)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)
    channel: Mapped[Channel] = mapped_column(StrEnumType(Channel, 16))
    channel_identity: Mapped[str | None] = mapped_column(String(160), index=True)
    sms_updates: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())  # by SMS
    conversation_id: Mapped[str | None] = mapped_column(String(160))
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    idempotency_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    idempotency_hash: Mapped[str | None] = mapped_column(String(64))

    status: Mapped[CaseStatus] = mapped_column(StrEnumType(CaseStatus, 16), default=CaseStatus.ACCEPTED)
    time_limit: Mapped[TimeLimit] = mapped_column(StrEnumType(TimeLimit, 12), default=TimeLimit.GENERAL)
    lead_unit_code: Mapped[str | None] = mapped_column(String(40))
    reply: Mapped[str | None] = mapped_column(Text)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    return_count: Mapped[int] = mapped_column(Integer, default=0)
    failed_verifications: Mapped[int] = mapped_column(Integer, default=0)
    verification_locked_until: Mapped[datetime | None]

    accepted_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_at: Mapped[datetime]
    dispatched_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    returned_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    rated_at: Mapped[datetime | None]
    reopened_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    supervised_at: Mapped[datetime | None]
    anonymised_at: Mapped[datetime | None]  # retention took the citizen's personal data out
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    updates: Mapped[list[CaseUpdate]] = relationship(
        back_populates="case", order_by="CaseUpdate.id", cascade="all, delete-orphan"
    )
    assignments: Mapped[list[CaseAssignment]] = relationship(
        back_populates="case", order_by="CaseAssignment.id", cascade="all, delete-orphan"
    )
    ratings: Mapped[list[Rating]] = relationship(
        back_populates="case", order_by="Rating.id", cascade="all, delete-orphan"
    )
    summonses: Mapped[list[Summons]] = relationship(
        back_populates="case", order_by="Summons.id", cascade="all, delete-orphan"
    )

    def is_overdue(self, now: datetime) -> bool:
        """Open past its time limit (超期): flagged and listed for supervision (督办)."""
        return self.status.is_open() and now > self.due_at

    def active_units(self) -> list[str]:
        """Unit keys currently on the case: the lead first, then co-handlers."""
        return [a.unit_code for a in self.assignments if a.active]


class CaseUpdate(Base):
    """One entry of a case's timeline: a status move, a note, a reply, a supervision."""

    __tablename__ = "case_updates"
    __table_args__ = (Index("ix_case_updates_case_id_id", "case_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))  # a Move, or accept / note / supervise / link
    from_status: Mapped[CaseStatus | None] = mapped_column(StrEnumType(CaseStatus, 16))
    to_status: Mapped[CaseStatus | None] = mapped_column(StrEnumType(CaseStatus, 16))
    actor_kind: Mapped[Role] = mapped_column(StrEnumType(Role, 16))
    actor: Mapped[str | None] = mapped_column(String(64))  # staff username, "assistant", "system"
    unit_code: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(Text)
    public: Mapped[bool] = mapped_column(Boolean, default=False)  # shown and pushed to the citizen
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship(back_populates="updates")


class CaseAssignment(Base):
    """A unit on a case: the lead (首接负责), a co-handler, or a department summoned by the lead street
    (吹哨) while its summons is open; kept after re-dispatch as history."""

    __tablename__ = "case_assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    unit_code: Mapped[str] = mapped_column(String(40), index=True)
    role: Mapped[str] = mapped_column(String(8))  # lead | co | summoned
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship(back_populates="assignments")


class Rating(Base):
    """A citizen's rating (回访) of a resolved case; a reopened case can be rated twice."""

    __tablename__ = "ratings"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    round: Mapped[int] = mapped_column(Integer, default=1)
    resolved: Mapped[bool] = mapped_column(Boolean)
    satisfaction: Mapped[Satisfaction] = mapped_column(StrEnumType(Satisfaction, 20))
    comment: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship(back_populates="ratings")


class CaseLink(Base):
    """Two cases about the same matter at the same place (repeat appeals, 重复诉求)."""

    __tablename__ = "case_links"
    __table_args__ = (UniqueConstraint("case_id", "related_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    related_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CaseCounter(Base):
    """The daily sequence behind case numbers (acceptance date in Beijing + sequence)."""

    __tablename__ = "case_counters"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class AlertKind(enum.StrEnum):
    """Why the overdue scan flagged a case for supervision (督办)."""

    DUE_SOON = "due_soon"  # 临期: little of its time limit is left
    OVERDUE = "overdue"  # 超期: past its time limit
    SUMMONS_LATE = "summons_late"  # 报到超时: a summoned department has not checked in within the limit

    @property
    def label(self) -> str:
        return {"due_soon": "临期", "overdue": "超期", "summons_late": "报到超时"}[self]


class CaseAlert(Base):
    """A case the overdue scan flagged: once per case, kind and deadline (a reopened case has a new
    deadline), or once per summons whose department has not checked in (报到) in time. Its unit (the
    lead unit, or the summoned department) and the supervisors see it in the console."""

    __tablename__ = "case_alerts"
    __table_args__ = (
        Index(
            "uq_case_alerts_case_kind_due",
            "case_id",
            "kind",
            "due_at",
            unique=True,
            sqlite_where=text("summons_id IS NULL"),
            postgresql_where=text("summons_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[AlertKind] = mapped_column(StrEnumType(AlertKind, 12))
    unit_code: Mapped[str | None] = mapped_column(
        String(40), index=True
    )  # the lead unit (or department) flagged
    due_at: Mapped[datetime]  # the deadline it is about
    summons_id: Mapped[int | None] = mapped_column(
        ForeignKey("summonses.id", ondelete="CASCADE"), unique=True
    )  # a summons' alert: once per summons
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship()


class Summons(Base):
    """吹哨报到: the street or township leading a case summons (吹哨) a functional department, which
    must check in (报到, saying what it will do) within the summons' time limit. While the summons is
    open the department is on the case (a `summoned` assignment) and reads it; it closes when the case
    is resolved, returned or dispatched elsewhere."""

    __tablename__ = "summonses"
    __table_args__ = (Index("ix_summonses_department_code_closed_at", "department_code", "closed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    unit_code: Mapped[str] = mapped_column(String(40), index=True)  # the street office that summoned
    department_code: Mapped[str] = mapped_column(String(40))  # the functional department summoned
    reason: Mapped[str] = mapped_column(Text)
    summoned_by: Mapped[str] = mapped_column(String(64))
    summoned_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    due_at: Mapped[datetime]  # check in by then
    checked_in_at: Mapped[datetime | None]
    checked_in_by: Mapped[str | None] = mapped_column(String(64))
    check_in: Mapped[str | None] = mapped_column(Text)  # what the department will do
    closed_at: Mapped[datetime | None]
    close_reason: Mapped[str | None] = mapped_column(String(16))  # the move that closed it

    case: Mapped[Case] = relationship(back_populates="summonses")

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    def is_overdue(self, now: datetime) -> bool:
        """Open, not checked in, and past its time limit (报到超时)."""
        return self.is_open and self.checked_in_at is None and now > self.due_at

    @property
    def late(self) -> bool:
        """Checked in after its time limit."""
        return self.checked_in_at is not None and self.checked_in_at > self.due_at
