"""The case lifecycle (接-派-办-评): statuses, the moves between them, and who may make each move.

Every status change goes through `backend.cases.transitions.transition`, which consults `MOVES`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from backend.staff.roles import Role


class CaseStatus(enum.StrEnum):
    ACCEPTED = "accepted"  # 受理
    DISPATCHED = "dispatched"  # 派单
    RETURNED = "returned"  # 退单: the unit sent it back; the hotline re-dispatches
    ACKNOWLEDGED = "acknowledged"  # 签收
    IN_PROGRESS = "in_progress"  # 办理中
    RESOLVED = "resolved"  # 办结, with the reply to the citizen
    RATED = "rated"  # 回访: the citizen rated the handling
    CLOSED = "closed"  # 归档

    def is_open(self) -> bool:
        """Still being handled (Open311 `open`); resolved, rated and closed cases are not."""
        return self in OPEN

    @property
    def label(self) -> str:
        return LABELS[self]

    @property
    def citizen_text(self) -> str:
        return CITIZEN_TEXT[self]


OPEN = frozenset(
    {
        CaseStatus.ACCEPTED,
        CaseStatus.DISPATCHED,
        CaseStatus.RETURNED,
        CaseStatus.ACKNOWLEDGED,
        CaseStatus.IN_PROGRESS,
    }
)
LABELS = {
    CaseStatus.ACCEPTED: "已受理",
    CaseStatus.DISPATCHED: "已派单",
    CaseStatus.RETURNED: "已退单",
    CaseStatus.ACKNOWLEDGED: "已签收",
    CaseStatus.IN_PROGRESS: "办理中",
    CaseStatus.RESOLVED: "已办结",
    CaseStatus.RATED: "已回访",
    CaseStatus.CLOSED: "已归档",
}
CITIZEN_TEXT = {
    CaseStatus.ACCEPTED: "热线已受理，正在确定承办单位",
    CaseStatus.DISPATCHED: "已派发给承办单位，等待签收",
    CaseStatus.RETURNED: "正在重新确定承办单位",
    CaseStatus.ACKNOWLEDGED: "承办单位已签收，即将开始办理",
    CaseStatus.IN_PROGRESS: "承办单位正在办理",
    CaseStatus.RESOLVED: "已办结，等待您的评价",
    CaseStatus.RATED: "已办结，您已评价",
    CaseStatus.CLOSED: "已办结归档",
}


class Move(enum.StrEnum):
    DISPATCH = "dispatch"  # 派单 (also re-dispatch after 退单, and 改派 before the unit signs for it)
    ACKNOWLEDGE = "acknowledge"  # 签收
    RETURN = "return"  # 退单, with a reason
    START = "start"  # 开始办理
    RESOLVE = "resolve"  # 办结, with the reply
    RESOLVE_ON_SPOT = "resolve_on_spot"  # 直接办结: a consultation answered at acceptance
    RATE = "rate"  # 回访
    REOPEN = "reopen"  # 重办: after a dissatisfied rating, once
    CLOSE = "close"  # 归档


@dataclass(frozen=True)
class MoveRule:
    sources: frozenset[CaseStatus]
    target: CaseStatus
    roles: frozenset[Role]


def _rule(sources: set[CaseStatus], target: CaseStatus, roles: set[Role]) -> MoveRule:
    return MoveRule(frozenset(sources), target, frozenset(roles | {Role.ADMIN, Role.SYSTEM}))


S = CaseStatus
MOVES: dict[Move, MoveRule] = {
    Move.DISPATCH: _rule({S.ACCEPTED, S.RETURNED, S.DISPATCHED}, S.DISPATCHED, {Role.OPERATOR}),
    Move.ACKNOWLEDGE: _rule({S.DISPATCHED}, S.ACKNOWLEDGED, {Role.UNIT_STAFF}),
    Move.RETURN: _rule({S.DISPATCHED, S.ACKNOWLEDGED}, S.RETURNED, {Role.UNIT_STAFF}),
    Move.START: _rule({S.ACKNOWLEDGED}, S.IN_PROGRESS, {Role.UNIT_STAFF}),
    Move.RESOLVE: _rule({S.ACKNOWLEDGED, S.IN_PROGRESS}, S.RESOLVED, {Role.UNIT_STAFF}),
    Move.RESOLVE_ON_SPOT: _rule({S.ACCEPTED}, S.RESOLVED, {Role.OPERATOR, Role.SERVICE}),
    Move.RATE: _rule({S.RESOLVED}, S.RATED, {Role.OPERATOR, Role.SERVICE}),
    Move.REOPEN: _rule({S.RATED}, S.DISPATCHED, set()),
    Move.CLOSE: _rule({S.RESOLVED, S.RATED}, S.CLOSED, {Role.OPERATOR, Role.SUPERVISOR}),
}
# Moves a handling unit makes on its own case; the unit must be the case's lead unit.
UNIT_MOVES = frozenset({Move.ACKNOWLEDGE, Move.RETURN, Move.START, Move.RESOLVE})
