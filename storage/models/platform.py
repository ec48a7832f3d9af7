"""What chat platforms need from the shared store: leases between instances, registered groups."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base
from storage.types import JSONType, UTCDateTime


class Lease(Base):
    """A named job that only one instance may do at a time (a Telegram poller), until expiry."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    holder: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SenderInstance(Base):
    """A running instance that sends deliveries, and for which platforms: so instances
    share each platform's rate budget, and a platform that no instance runs is known."""

    __tablename__ = "sender_instances"

    holder: Mapped[str] = mapped_column(String(100), primary_key=True)  # host:pid
    platforms: Mapped[list[str]] = mapped_column(JSONType, default=list)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ChatGroup(Base):
    """A group chat registered by an officer as a sub-union's or a delegation's group."""

    __tablename__ = "chat_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    chat_id: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))  # sub_union | delegation
    scope: Mapped[str] = mapped_column(String(100))
    registered_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), default=None)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("platform", "chat_id"),)
