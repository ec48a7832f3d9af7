"""Proposals to the staff congress (教代会提案): sessions, proposals, people, history."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base
from storage.models.stored_file import StoredFileColumns
from storage.types import JSONType, UTCDateTime


class CongressSession(Base):
    """A congress session (届次) and its proposal collection window."""

    __tablename__ = "congress_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    opens_on: Mapped[date] = mapped_column(Date)
    closes_on: Mapped[date] = mapped_column(Date)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Proposal(Base):
    __tablename__ = "proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("congress_sessions.id"), default=None)
    kind: Mapped[str] = mapped_column(String(16), default="proposal")  # proposal | suggestion
    status: Mapped[str] = mapped_column(String(16), default="draft")
    case_no: Mapped[str | None] = mapped_column(String(20), default=None)
    title: Mapped[str] = mapped_column(String(200))
    reasons: Mapped[str] = mapped_column(Text, default="")
    measures: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(32))
    suggested_department: Mapped[str | None] = mapped_column(String(100), default=None)
    proposer_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    joint_delegation: Mapped[str | None] = mapped_column(String(100), default=None)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id"), default=None)
    review_note: Mapped[str | None] = mapped_column(Text, default=None)
    lead_department: Mapped[str | None] = mapped_column(String(100), default=None)
    supporting_departments: Mapped[list[str]] = mapped_column(JSONType, default=list)
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    due_date: Mapped[date | None] = mapped_column(Date, default=None)
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    reply_grade: Mapped[str | None] = mapped_column(String(1), default=None)
    reply_text: Mapped[str | None] = mapped_column(Text, default=None)
    rating_due: Mapped[date | None] = mapped_column(Date, default=None)
    satisfaction: Mapped[str | None] = mapped_column(String(16), default=None)
    rating_comment: Mapped[str | None] = mapped_column(Text, default=None)
    rounds: Mapped[int] = mapped_column(Integer, default=0)  # how many times it was sent back
    urges: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("session_id", "case_no"),
        Index("ix_proposals_status", "status"),
    )


class ProposalPerson(Base):
    """A proposer (the filer, joint proposers) or an invited seconder and their answer."""

    __tablename__ = "proposal_people"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # proposer | seconder
    # seconders: invited | accepted | declined | withdrawn; proposers: accepted
    answer: Mapped[str] = mapped_column(String(16), default="invited")
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    __table_args__ = (UniqueConstraint("proposal_id", "staff_id"),)


class ProposalEvent(Base):
    """The proposal's history, shown by /proposal show: every transition and every urge."""

    __tablename__ = "proposal_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), default=None)
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)

    # Digests read the history by action and time ("rated unsatisfied since my last one").
    __table_args__ = (Index("ix_proposal_events_action_at", "action", "at"),)


class ProposalFile(StoredFileColumns, Base):
    """A file attached to a proposal before it was submitted (a photo of the problem, a
    survey)."""

    __tablename__ = "proposal_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), default=None)
