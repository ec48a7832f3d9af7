"""The refusals of the union's rules, all in one place (how they reach a person:
`commands/errors.py`, which opens with the whole tree, the framework's errors included).

Each carries a catalogue key and the parameters that fill it, so the chat layer can say
it in the person's language without knowing which rule spoke.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any


@dataclass(frozen=True, slots=True)
class Term:
    """A word of the domain in a refusal's parameters (a review level, a status): the chat
    layer shows it in the person's language, from the catalogue key `key`."""

    key: str


class DomainError(Exception):
    """A rule of the data refused something; `key` names the catalogue message that says why.

    Raised inside a unit of work whose earlier writes are kept (a failed invite code is
    counted, a refusal is audited): refusing is not a crash.
    """

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


class ProposalError(DomainError):
    """A proposal rule refused it (not yours, only drafts, too few seconders, ...)."""


class InvalidTransition(ProposalError):
    """The state machine has no such step from this state: `status` and `action` are kept
    as values, so the message can name them and list what *is* possible."""

    def __init__(self, status: StrEnum, action: StrEnum, allowed: Sequence[StrEnum]) -> None:
        super().__init__("proposals.error.transition")
        self.status = status
        self.action = action
        self.allowed = list(allowed)
        # Whose proposal and which department's, so the reply can offer only what the
        # person refused may do themselves (set where the proposal is known).
        self.proposer_id: int | None = None
        self.lead_department: str | None = None


class MeetingError(DomainError):
    """A meeting rule refused it (not invited, sign-in closed, wrong code, ...)."""


class BenefitError(DomainError):
    """A benefits rule refused it (not eligible, too late, not your level, ...)."""


class LinkRefused(DomainError):
    """Linking a chat account did not happen: `reason` is "throttled", "invalid", "expired"
    or "used"; a throttle says how long to wait."""

    def __init__(self, reason: str, retry_after: timedelta | None = None) -> None:
        params: dict[str, Any] = {}
        if retry_after is not None:
            params["minutes"] = max(1, int(retry_after.total_seconds() // 60) + 1)
        super().__init__(f"identity.link.{reason}", **params)
        self.reason = reason
        self.retry_after = retry_after


class SurveyError(DomainError):
    """A survey rule refused it (not asked, closed, a bad answer, a bad survey file, ...)."""


class ActivityError(DomainError):
    """An activity rule refused it (full is not a refusal: that is the waiting list)."""


class VoteError(DomainError):
    """A voting rule refused it (no quorum, not signed in, already voted, not a scrutineer)."""
