"""Benefit applications and the confidential registers (hardship, mediation, membership).

Hardship and mediation rows are sensitive personal information (PIPL §28): only the
services in storage/benefits read them, each read is audited, and the fields are the
fewest that serve.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base
from storage.models.stored_file import StoredFileColumns
from storage.types import JSONType, UTCDateTime


class BenefitApplication(Base):
    __tablename__ = "benefit_applications"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"))
    item: Mapped[str] = mapped_column(String(32))
    # pending (at review level `stage`) | returned | rejected | approved | paid
    status: Mapped[str] = mapped_column(String(16), default="pending")
    stage: Mapped[int] = mapped_column(Integer, default=0)
    event_date: Mapped[date | None] = mapped_column(Date, default=None)
    description: Mapped[str] = mapped_column(Text, default="")
    amount_claimed: Mapped[int | None] = mapped_column(Integer, default=None)
    amount_approved: Mapped[int | None] = mapped_column(Integer, default=None)
    amount_paid: Mapped[int | None] = mapped_column(Integer, default=None)
    paid_on: Mapped[date | None] = mapped_column(Date, default=None)
    note: Mapped[str] = mapped_column(Text, default="")  # the last reviewer's note
    history: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_benefit_applications_staff_item", "staff_id", "item"),
        Index("ix_benefit_applications_status", "status"),
    )


class HardshipRecord(Base):
    """困难职工档案: one per person, kept by officers (or reported by the person)."""

    __tablename__ = "hardship_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), unique=True)
    category: Mapped[str] = mapped_column(String(16))  # dibao|near_dibao|accident|other
    household_size: Mapped[int | None] = mapped_column(Integer, default=None)
    income_per_head: Mapped[int | None] = mapped_column(Integer, default=None)  # yuan a month
    causes: Mapped[str] = mapped_column(Text, default="")
    support: Mapped[str] = mapped_column(Text, default="")
    next_review: Mapped[date | None] = mapped_column(Date, default=None)
    self_reported: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="open")  # reported|open|closed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ConfidentialRequest(Base):
    """A labour-dispute mediation request (劳动争议调解) or a membership application (入会)."""

    __tablename__ = "confidential_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # mediation|membership
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="open")  # open|approved|rejected|closed
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    __table_args__ = (Index("ix_confidential_requests_kind_status", "kind", "status"),)


class ExamAppointment(Base):
    """A person's physical exam (体检) of one year: the day, the place and the batch, from
    the schedule the union imports; and a request to move to another batch."""

    __tablename__ = "exam_appointments"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(Integer)
    day: Mapped[date] = mapped_column(Date)
    place: Mapped[str] = mapped_column(String(200))
    batch: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(16), default="scheduled")  # scheduled|done
    change_batch: Mapped[str | None] = mapped_column(String(64), default=None)
    change_reason: Mapped[str] = mapped_column(Text, default="")
    change_status: Mapped[str | None] = mapped_column(String(16), default=None)  # pending|...
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("staff_id", "year"),
        Index("ix_exam_appointments_day", "day"),
    )


class EvidenceFile(StoredFileColumns, Base):
    """A file attached to an application (deleted after the retention period)."""

    __tablename__ = "evidence_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("benefit_applications.id", ondelete="CASCADE"), index=True
    )
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
