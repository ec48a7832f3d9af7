"""Activities and competitions (活动报名, articles 3, 19 and 20), and staff clubs (社团/协会)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base
from storage.types import UTCDateTime


class Club(Base):
    """A staff club or association: its leader may publish activities to its members."""

    __tablename__ = "clubs"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    leader_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ClubMember(Base):
    __tablename__ = "club_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    club_id: Mapped[int] = mapped_column(ForeignKey("clubs.id", ondelete="CASCADE"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("club_id", "staff_id"),)


class Activity(Base):
    __tablename__ = "activities"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    # sports | arts | teaching | skills | club | other (文体活动, 文化艺术节, 教学基本功竞赛, ...)
    kind: Mapped[str] = mapped_column(String(16))
    # Who organises: "" the school union, else a sub-union; or a club (club_id).
    organiser_scope: Mapped[str] = mapped_column(String(100), default="")
    club_id: Mapped[int | None] = mapped_column(ForeignKey("clubs.id"), default=None)
    audience: Mapped[str] = mapped_column(String(16))  # everyone | sub_union | delegates | club
    audience_scope: Mapped[str] = mapped_column(String(100), default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    place: Mapped[str] = mapped_column(String(200))
    details: Mapped[str] = mapped_column(Text, default="")
    capacity: Mapped[int | None] = mapped_column(Integer, default=None)  # None: no limit
    signup_deadline: Mapped[datetime] = mapped_column(UTCDateTime())
    teams: Mapped[bool] = mapped_column(Boolean, default=False)  # a team name is asked
    # Each sub-union sends at most this many; its officer confirms who (None: first come).
    quota: Mapped[int | None] = mapped_column(Integer, default=None)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | cancelled
    checkin_secret: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Signup(Base):
    """One person's sign-up: confirmed, waiting (in order), proposed under a quota, or gone."""

    __tablename__ = "activity_signups"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    sub_union: Mapped[str] = mapped_column(String(100), default="")
    team: Mapped[str | None] = mapped_column(String(100), default=None)
    # confirmed | waiting | proposed (a quota: the sub-union's officer decides) | left | declined
    status: Mapped[str] = mapped_column(String(16))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime())  # the waiting list's order
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    result: Mapped[str | None] = mapped_column(String(200), default=None)  # 一等奖, 第三名, ...

    __table_args__ = (
        UniqueConstraint("activity_id", "staff_id"),
        Index("ix_activity_signups_activity_status", "activity_id", "status"),
    )
