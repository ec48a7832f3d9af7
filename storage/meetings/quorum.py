"""Quorum arithmetic: a congress needs more than two thirds of its delegates."""

from __future__ import annotations


def needed(delegates: int) -> int:
    """The smallest number that is more than two thirds of `delegates`."""
    return (2 * delegates) // 3 + 1 if delegates else 0


def reached(present: int, delegates: int) -> bool:
    return delegates > 0 and present >= needed(delegates)


# A college's congress (二级教代会) is its sub-union's own: everyone invited counts.
QUORATE = ("congress", "college")


def applies(kind: str) -> bool:
    """Whether a meeting of this kind needs a quorum at all."""
    return kind in QUORATE


def counts(kind: str, delegate: bool) -> bool:
    """Whether an invitee counts toward the quorum: a delegate of the staff congress, or
    anyone invited to a college's congress."""
    return delegate or kind == "college"
