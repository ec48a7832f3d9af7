"""Messages the bot sends on its own: one row per (reason, recipient), a delivery per platform.

Commands and jobs only enqueue; the deliverer in `schedules/` sends. The unique
constraints are the contract: whatever enqueues twice, a person is told once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base
from storage.types import JSONType, UTCDateTime


class OutboxMessage(Base):
    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    reason: Mapped[str] = mapped_column(String(200))  # "proposal:17:assigned"
    # A person, or (an announcement, never personal data) a registered group chat.
    recipient_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", ondelete="CASCADE"), index=True, default=None
    )
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("chat_groups.id", ondelete="CASCADE"), default=None
    )
    message_key: Mapped[str] = mapped_column(String(100))  # catalogue key of the text
    why_key: Mapped[str] = mapped_column(String(100))  # catalogue key of "you get this because"
    params: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    # An alert (a quorum at risk, a proposal long overdue): said at once, and repeated in
    # the recipient's next digest, so the digest holds everything they were told.
    alert: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # No longer true (a meeting cancelled, a survey closed): a platform linked later is not
    # sent it either (`outbox.backfill`).
    withdrawn: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    not_before: Mapped[datetime] = mapped_column(UTCDateTime())
    # Misfire policy: sent at most this long after `not_before`, else recorded as missed.
    # None: always sent, however late (a proposal notice is still worth having).
    grace_seconds: Mapped[int | None] = mapped_column(Integer, default=None)

    __table_args__ = (
        UniqueConstraint("reason", "recipient_id"),
        UniqueConstraint("reason", "group_id"),
        Index("ix_outbox_created", "created_at"),
    )


class Delivery(Base):
    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(32))
    platform_user_id: Mapped[str] = mapped_column(String(128))
    address: Mapped[str | None] = mapped_column(String(128), default=None)
    # pending | sent | failed (for good) | missed (past its grace) | cancelled (no longer true)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    platform_message_id: Mapped[str | None] = mapped_column(String(128), default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    # Sent after its time, within its grace.
    late: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # When it failed for good or was missed: officers' digests report these by window.
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    __table_args__ = (
        UniqueConstraint("outbox_id", "platform", "platform_user_id"),
        Index("ix_deliveries_status_due", "status", "due_at"),
        Index("ix_deliveries_ended", "ended_at"),
    )
