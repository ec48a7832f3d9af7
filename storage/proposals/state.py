"""The proposal life cycle: one table of (state, action) -> new state, and nothing else moves it.

Every transition goes through `next_state`; anything not in the table is refused
with `InvalidTransition`, which the chat layer turns into a reply that says what
the proposal's state allows.
"""

from __future__ import annotations

from enum import StrEnum

from storage.errors import InvalidTransition

__all__ = ["InvalidTransition", "Status"]


GRADES = ("A", "B", "C", "D")  # how a department grades its own reply (A: solved ... D)
SATISFACTION = ("satisfied", "basic", "unsatisfied")  # a proposer's rating of the reply


class Status(StrEnum):
    DRAFT = "draft"
    SECONDING = "seconding"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"  # 立案
    REJECTED = "rejected"  # 不予立案
    MERGED = "merged"  # 并案
    CONVERTED = "converted"  # 转为意见建议
    WITHDRAWN = "withdrawn"  # 撤回
    ASSIGNED = "assigned"  # 交办
    ANSWERED = "answered"  # 答复
    REOPENED = "reopened"  # 不满意, back to the department
    CLOSED = "closed"


class Action(StrEnum):
    EDIT = "edit"
    INVITE = "invite"
    SECOND = "second"  # a seconder's answer (accept, decline or take back)
    SUBMIT = "submit"
    WITHDRAW = "withdraw"
    ACCEPT = "accept"
    REJECT = "reject"
    MERGE = "merge"
    CONVERT = "convert"
    ASSIGN = "assign"
    REPLY = "reply"
    RATE_SATISFIED = "rate_satisfied"
    RATE_UNSATISFIED = "rate_unsatisfied"
    RATING_EXPIRED = "rating_expired"
    URGE = "urge"


S, A = Status, Action
TRANSITIONS: dict[tuple[Status, Action], Status] = {
    (S.DRAFT, A.EDIT): S.DRAFT,
    (S.DRAFT, A.INVITE): S.SECONDING,
    (S.DRAFT, A.SUBMIT): S.SUBMITTED,
    (S.DRAFT, A.WITHDRAW): S.WITHDRAWN,
    (S.SECONDING, A.EDIT): S.SECONDING,
    (S.SECONDING, A.INVITE): S.SECONDING,
    (S.SECONDING, A.SECOND): S.SECONDING,
    (S.SECONDING, A.SUBMIT): S.SUBMITTED,
    (S.SECONDING, A.WITHDRAW): S.WITHDRAWN,
    (S.SUBMITTED, A.WITHDRAW): S.WITHDRAWN,
    (S.SUBMITTED, A.ACCEPT): S.ACCEPTED,
    (S.SUBMITTED, A.REJECT): S.REJECTED,
    (S.SUBMITTED, A.MERGE): S.MERGED,
    (S.SUBMITTED, A.CONVERT): S.CONVERTED,
    (S.ACCEPTED, A.WITHDRAW): S.WITHDRAWN,
    (S.ACCEPTED, A.ASSIGN): S.ASSIGNED,
    (S.ASSIGNED, A.REPLY): S.ANSWERED,
    (S.ASSIGNED, A.URGE): S.ASSIGNED,
    (S.ANSWERED, A.RATE_SATISFIED): S.CLOSED,
    (S.ANSWERED, A.RATE_UNSATISFIED): S.REOPENED,
    (S.ANSWERED, A.RATING_EXPIRED): S.CLOSED,
    (S.REOPENED, A.REPLY): S.ANSWERED,
    (S.REOPENED, A.URGE): S.REOPENED,
}

# Accepted (立案) and everything that can follow: what the acceptance rate counts.
ACCEPTED = frozenset({S.ACCEPTED, S.ASSIGNED, S.ANSWERED, S.REOPENED, S.CLOSED})
# Visible to every staff member (公开): accepted proposals and what became of them.
PUBLIC = ACCEPTED
# Waiting for a department.
WITH_DEPARTMENT = frozenset({S.ASSIGNED, S.REOPENED})
# Counted nowhere: withdrawn or never filed.
NOT_COUNTED = frozenset({S.DRAFT, S.SECONDING, S.WITHDRAWN})


def next_state(status: str, action: Action) -> Status:
    current = Status(status)
    found = TRANSITIONS.get((current, action))
    if found is None:
        raise InvalidTransition(current, action, allowed_actions(current))
    return found


def allowed_actions(status: Status) -> list[Action]:
    return [action for (state, action) in TRANSITIONS if state == status]
