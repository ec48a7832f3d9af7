"""The proposal state machine, exhaustively: every state x every action."""

from __future__ import annotations

import pytest

from storage.proposals.state import (
    TRANSITIONS,
    Action,
    InvalidTransition,
    Status,
    allowed_actions,
    next_state,
)

EXPECTED = {
    ("draft", "edit"): "draft",
    ("draft", "invite"): "seconding",
    ("draft", "submit"): "submitted",
    ("draft", "withdraw"): "withdrawn",
    ("seconding", "edit"): "seconding",
    ("seconding", "invite"): "seconding",
    ("seconding", "second"): "seconding",
    ("seconding", "submit"): "submitted",
    ("seconding", "withdraw"): "withdrawn",
    ("submitted", "withdraw"): "withdrawn",
    ("submitted", "accept"): "accepted",
    ("submitted", "reject"): "rejected",
    ("submitted", "merge"): "merged",
    ("submitted", "convert"): "converted",
    ("accepted", "withdraw"): "withdrawn",
    ("accepted", "assign"): "assigned",
    ("assigned", "reply"): "answered",
    ("assigned", "urge"): "assigned",
    ("answered", "rate_satisfied"): "closed",
    ("answered", "rate_unsatisfied"): "reopened",
    ("answered", "rating_expired"): "closed",
    ("reopened", "reply"): "answered",
    ("reopened", "urge"): "reopened",
}


@pytest.mark.parametrize("status", list(Status))
@pytest.mark.parametrize("action", list(Action))
def test_every_state_and_action(status: Status, action: Action) -> None:
    expected = EXPECTED.get((status.value, action.value))
    if expected is None:
        with pytest.raises(InvalidTransition) as refused:
            next_state(status.value, action)
        assert refused.value.status == status and refused.value.action == action
        assert action not in refused.value.allowed
    else:
        assert next_state(status.value, action) == Status(expected)
        assert action in allowed_actions(status)


def test_table_is_exactly_the_expected_one() -> None:
    assert {(s.value, a.value): t.value for (s, a), t in TRANSITIONS.items()} == EXPECTED


def test_end_states_allow_nothing() -> None:
    for status in (
        Status.REJECTED,
        Status.MERGED,
        Status.CONVERTED,
        Status.WITHDRAWN,
        Status.CLOSED,
    ):
        assert allowed_actions(status) == []
