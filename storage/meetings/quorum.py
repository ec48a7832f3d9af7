"""Quorum arithmetic: a congress needs more than two thirds of its delegates."""

from __future__ import annotations


def needed(delegates: int) -> int:
    """The smallest number that is more than two thirds of `delegates`."""
    return (2 * delegates) // 3 + 1 if delegates else 0


def reached(present: int, delegates: int) -> bool:
    return delegates > 0 and present >= needed(delegates)
