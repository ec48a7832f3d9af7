"""Chat identities linked to staff, the one-time invite codes that link them, and throttling."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base
from storage.types import JSONType, UTCDateTime


class Identity(Base):
    __tablename__ = "identities"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    platform_user_id: Mapped[str] = mapped_column(String(128))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    # Where to send messages on our own when it is not the user id (a Slack DM channel).
    address: Mapped[str | None] = mapped_column(String(128), default=None)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # How the link was made: code, email, mobile, staff_no (the platform vouched for that
    # roster value on first contact), directory (a directory sync), console; None before
    # this was kept. A directory sync never ends a code's link for a roster mismatch.
    linked_via: Mapped[str | None] = mapped_column(String(16), default=None)
    # A form being filled in step by step; kept here so any instance can go on with it.
    form_state: Mapped[dict[str, Any] | None] = mapped_column(JSONType, default=None)

    __table_args__ = (UniqueConstraint("platform", "platform_user_id"),)


class InviteCode(Base):
    __tablename__ = "invite_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Only a hash is stored: a leaked database does not leak usable codes.
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    used_by: Mapped[int | None] = mapped_column(
        ForeignKey("identities.id", ondelete="SET NULL"), default=None
    )


class LinkAttempt(Base):
    __tablename__ = "link_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    platform_user_id: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    success: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (Index("ix_link_attempts_who_at", "platform", "platform_user_id", "at"),)
