"""The contract between the delivery engine and adapters: where to send, and what happened."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class SendStatus(StrEnum):
    SENT = "sent"
    RETRY = "retry"  # rate limited or a transient error: try again after `retry_after`
    FAILED = "failed"  # for good: blocked the bot, account gone; `reason` says which


@dataclass(frozen=True, slots=True)
class Recipient:
    platform: str
    user_id: str
    address: str | None = None  # a DM channel or chat id, when it differs from the user id


@dataclass(frozen=True, slots=True)
class SendResult:
    status: SendStatus
    message_id: str | None = None
    retry_after: float | None = None
    reason: str | None = None
    # FAILED because the platform no longer knows the account (it left the corp or the
    # app's visible range): the link ends, and what waits for it goes elsewhere.
    gone: bool = False

    @classmethod
    def sent(cls, message_id: str | None = None) -> SendResult:
        return cls(SendStatus.SENT, message_id=message_id)

    @classmethod
    def retry(cls, after: float, reason: str) -> SendResult:
        return cls(SendStatus.RETRY, retry_after=after, reason=reason)

    @classmethod
    def failed(cls, reason: str, *, gone: bool = False) -> SendResult:
        return cls(SendStatus.FAILED, reason=reason, gone=gone)
