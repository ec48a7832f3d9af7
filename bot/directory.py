"""A platform's member directory, for platforms where the bot may write to people who never
wrote to it (WeCom's self-built app reaches its whole visible range): the contract between
an adapter that can list its members and whatever links them to people.

    DirectoryUnavailable   the directory cannot be read, or not the field asked for; the
                           message says what to grant or fix
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

# Told how many more members have been read (for a progress bar); the total once known.
Progress = Callable[[int, int | None], None]


class DirectoryUnavailable(Exception):
    """`code` names the cause for a reply in the reader's language (rate: the call rate
    kept refusing; unreachable; refused: an API the app may not call; no_field: the field
    that links members is not readable); `params` fill its text; the message is for logs."""

    def __init__(self, code: str, message: str, **params: object) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


@dataclass(frozen=True, slots=True)
class Member:
    user_id: str
    name: str = ""
    mobile: str | None = None
    email: str | None = None


@dataclass(frozen=True, slots=True)
class Listing:
    """Every member the bot may reach, as of now; `complete` when nothing was left out
    (only then may an account missing from it be taken as gone)."""

    members: list[Member]
    complete: bool = True
    calls: int = 0  # API calls it took


class Directory(Protocol):
    platform: str
    link_by: str  # "staff_no", "mobile", "email" or "code": what links a member

    async def listing(self, progress: Progress | None = None) -> Listing: ...
