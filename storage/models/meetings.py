"""Congress meetings (教代会, 预备会议, 二级教代会, committee meetings) and who attends."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base
from storage.types import JSONType, UTCDateTime


class Meeting(Base):
    __tablename__ = "meetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))  # congress|preparatory|college|committee|other
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    place: Mapped[str] = mapped_column(String(200))
    agenda: Mapped[str] = mapped_column(Text, default="")
    documents: Mapped[list[str]] = mapped_column(JSONType, default=list)
    audience: Mapped[str] = mapped_column(
        String(16)
    )  # delegates|delegation|committee|sub_union|list
    audience_scope: Mapped[str] = mapped_column(String(500), default="")
    reminder_minutes: Mapped[list[int]] = mapped_column(JSONType, default=list)
    status: Mapped[str] = mapped_column(String(16), default="scheduled")  # scheduled|cancelled
    cancel_reason: Mapped[str | None] = mapped_column(Text, default=None)
    checkin_secret: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Attendance(Base):
    """One invited person: their answer, their leave request, their sign-in."""

    __tablename__ = "meeting_attendance"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), index=True
    )
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    delegate: Mapped[bool] = mapped_column(Boolean, default=False)  # counts toward the quorum
    delegation: Mapped[str | None] = mapped_column(String(100), default=None)
    answer: Mapped[str] = mapped_column(String(16), default="none")  # none|attend|leave
    leave_reason: Mapped[str | None] = mapped_column(Text, default=None)
    leave_status: Mapped[str | None] = mapped_column(
        String(16), default=None
    )  # pending|approved|declined
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    extra: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)

    __table_args__ = (UniqueConstraint("meeting_id", "staff_id"),)
