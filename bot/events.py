"""The platform-neutral message model: who said what, where, in which event.

Every adapter turns its platform's update into an `IncomingMessage`; the
dispatcher never sees a platform object.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class ChatKind(StrEnum):
    PRIVATE = "private"
    GROUP = "group"


@dataclass(frozen=True, slots=True)
class Sender:
    """A person as the platform knows them, before we know who they are on the roster."""

    platform: str
    user_id: str
    display_name: str = ""
    locale: str | None = None
    email: str | None = None


@dataclass(frozen=True, slots=True)
class IncomingFile:
    """A file a person sent with (or as) a message, already downloaded by the adapter within
    its size bound; `refused` says why it was not (too large, the platform failed)."""

    name: str
    mime_type: str = "application/octet-stream"
    content: bytes = b""
    refused: str | None = None

    @property
    def size(self) -> int:
        return len(self.content)


MAX_FILE_BYTES = 10 * 1024 * 1024  # what any adapter downloads of one file, at most


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    sender: Sender
    text: str
    chat_id: str
    chat_kind: ChatKind = ChatKind.PRIVATE
    event_id: str | None = None
    files: tuple[IncomingFile, ...] = ()
    # A language chosen for this conversation only (`unionbot console --lang en`).
    language: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # The ids under which the platform may send this event again. The dispatcher asks the
    # backend to check them with the sender's lookup (one round trip for the two) and drops
    # the message unanswered if one was seen: a retry of an event already handled. Adapters
    # that check before dispatching leave it empty.
    once: tuple[str, ...] = ()

    @property
    def platform(self) -> str:
        return self.sender.platform

    @property
    def in_group(self) -> bool:
        return self.chat_kind is ChatKind.GROUP
