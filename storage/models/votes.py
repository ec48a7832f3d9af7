"""Votes at a congress meeting (表决, 选举, 民主评议), their ballots and who has voted.

Who has voted (`VoteVoter`) and what the ballots say (`Ballot`) are two tables with nothing
between them: a ballot carries no person, no platform id and no time, and at closing both
are rewritten in an order unrelated to the casting (`storage.anonymity`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base
from storage.types import JSONType, UTCDateTime


class Vote(Base):
    __tablename__ = "votes"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # resolution | election | evaluation
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text, default="")  # the text, or a document link
    secret: Mapped[bool] = mapped_column(Boolean, default=True)
    # The choices shown (赞成/反对/弃权; the grades of an evaluation), as catalogue codes.
    choices: Mapped[list[str]] = mapped_column(JSONType, default=list)
    seats: Mapped[int] = mapped_column(Integer, default=1)  # an election's
    base: Mapped[str] = mapped_column(String(16), default="expected")  # a resolution's majority
    share: Mapped[str] = mapped_column(String(8), default="1/2")  # more than this share
    # draft | open | closed (tallied, waiting for the scrutineers) | announced
    status: Mapped[str] = mapped_column(String(16), default="draft")
    scrutineers: Mapped[list[int]] = mapped_column(JSONType, default=list)  # staff ids
    confirmed_by: Mapped[list[int]] = mapped_column(JSONType, default=list)
    # The counts at closing: expected and present at the meeting, ballots cast.
    expected: Mapped[int] = mapped_column(Integer, default=0)
    present: Mapped[int] = mapped_column(Integer, default=0)
    # Who may vote: those signed in (the default), or everyone invited (a setting).
    signed_in_only: Mapped[bool] = mapped_column(Boolean, default=True)
    minutes: Mapped[int | None] = mapped_column(
        Integer, default=None
    )  # open this long, then closed
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # An evaluation's voter categories (staff id -> 教师代表 / 干部代表) and their weights.
    categories: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    weights: Mapped[dict[str, float]] = mapped_column(JSONType, default=dict)
    runoff_of: Mapped[int | None] = mapped_column(ForeignKey("votes.id"), default=None)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class VoteCandidate(Base):
    """A candidate of an election, or a person evaluated (with their post)."""

    __tablename__ = "vote_candidates"

    id: Mapped[int] = mapped_column(primary_key=True)
    vote_id: Mapped[int] = mapped_column(ForeignKey("votes.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)  # from 1, as the ballot lists them
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), default=None)
    name: Mapped[str] = mapped_column(String(100))
    post: Mapped[str] = mapped_column(String(100), default="")

    __table_args__ = (UniqueConstraint("vote_id", "position"),)


class VoteVoter(Base):
    """Someone who has cast their ballot: nothing of what, nor when."""

    __tablename__ = "vote_voters"

    id: Mapped[int] = mapped_column(primary_key=True)
    vote_id: Mapped[int] = mapped_column(ForeignKey("votes.id", ondelete="CASCADE"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))

    __table_args__ = (UniqueConstraint("vote_id", "staff_id"),)


class Ballot(Base):
    """One cast ballot: a random key and nothing else; what it says is its marks."""

    __tablename__ = "ballots"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    vote_id: Mapped[int] = mapped_column(ForeignKey("votes.id", ondelete="CASCADE"), index=True)
    # The voter's category in an evaluation that has them; at closing a category with
    # fewer than MIN_GROUP ballots loses its name, as it could point at people.
    category: Mapped[str | None] = mapped_column(String(50), default=None)


class BallotMark(Base):
    """One mark of a ballot: for a resolution item 0 and the choice (yes, no, abstain); for
    an election a marked candidate's position and "yes"; for an evaluation a person's
    position and the grade. Tallied by GROUP BY, never ballot by ballot."""

    __tablename__ = "ballot_marks"

    ballot_key: Mapped[str] = mapped_column(
        ForeignKey("ballots.key", ondelete="CASCADE"), primary_key=True
    )
    item: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[str] = mapped_column(String(16))
