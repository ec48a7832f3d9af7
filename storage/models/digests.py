"""Officers' digests: when each person wants theirs, and every digest composed, once.

A digest row is the record of a window: (staff, period) is unique, so however many
instances tick, a period is composed once; `window_end` of the last row is where the
next window starts, so no moment is left out or covered twice, across restarts and
clock changes. Empty windows are recorded too (not sent), so the next one starts after.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base
from storage.types import JSONType, UTCDateTime


class DigestPreference(Base):
    """A person's own choice (`/digest daily 07:45`, `/digest off`); none means their
    roles' default."""

    __tablename__ = "digest_preferences"

    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True
    )
    cadence: Mapped[str] = mapped_column(String(8))  # daily | weekly | off
    at: Mapped[str] = mapped_column(String(5))  # HH:MM in the person's zone
    weekday: Mapped[int | None] = mapped_column(Integer, default=None)  # 0 = Monday
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DigestDefault(Base):
    """An administrator's default for everyone holding a role."""

    __tablename__ = "digest_defaults"

    role: Mapped[str] = mapped_column(String(32), primary_key=True)
    cadence: Mapped[str] = mapped_column(String(8))
    at: Mapped[str] = mapped_column(String(5))
    weekday: Mapped[int | None] = mapped_column(Integer, default=None)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Digest(Base):
    __tablename__ = "digests"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(16))  # "daily:2026-12-02", "weekly:2026-12-07"
    window_start: Mapped[datetime] = mapped_column(UTCDateTime())
    window_end: Mapped[datetime] = mapped_column(UTCDateTime())
    composed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # What it covered: each section's record ids, as sent.
    covered: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    lines: Mapped[int] = mapped_column(Integer, default=0)
    sent: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (
        UniqueConstraint("staff_id", "period"),
        Index("ix_digests_staff_end", "staff_id", "window_end"),
    )
