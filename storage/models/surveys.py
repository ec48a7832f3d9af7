"""Surveys (调查问卷, article 16): questions, who is asked, and their answers.

Who was asked and whether they have answered (`SurveyInvitation`) is kept apart from what
was answered (`SurveyResponse`, `SurveyAnswer`). For an anonymous survey no column joins
the two: a response is found again only by its key, which the respondent holds in their
chat; no row carries a time; and at closing both tables are rewritten in an order that
has nothing to do with when people answered (`storage.anonymity`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base
from storage.types import JSONType, UTCDateTime


class Survey(Base):
    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    intro: Mapped[str] = mapped_column(Text, default="")
    # everyone | sub_union | delegates | employment (an employment type)
    audience: Mapped[str] = mapped_column(String(16))
    audience_scope: Mapped[str] = mapped_column(String(100), default="")
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    # Who runs it: "" the school union, else the sub-union whose officer made it.
    owner_scope: Mapped[str] = mapped_column(String(100), default="")
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft|open|closed
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    min_group: Mapped[int] = mapped_column(Integer, default=5)
    reminder_minutes: Mapped[list[int]] = mapped_column(JSONType, default=list)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class SurveyQuestion(Base):
    __tablename__ = "survey_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)  # from 1
    kind: Mapped[str] = mapped_column(String(16))  # single | multiple | scale | text
    prompt: Mapped[str] = mapped_column(Text)
    options: Mapped[list[str]] = mapped_column(JSONType, default=list)
    max_choices: Mapped[int | None] = mapped_column(Integer, default=None)  # multiple
    max_length: Mapped[int | None] = mapped_column(Integer, default=None)  # text
    required: Mapped[bool] = mapped_column(Boolean, default=True)

    __table_args__ = (UniqueConstraint("survey_id", "position"),)


class SurveyInvitation(Base):
    """One person asked: whether they have submitted, and nothing of what. No time either:
    it would line up with the order of the responses."""

    __tablename__ = "survey_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    answered: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (UniqueConstraint("survey_id", "staff_id"),)


class SurveyResponse(Base):
    """One person's answers. `key` is random and known to the respondent (the buttons they
    were sent carry it); `staff_id` is set only for a named survey. `grp` is the sub-union
    the results are broken down by (shown only for groups of at least `min_group`)."""

    __tablename__ = "survey_responses"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), default=None)
    grp: Mapped[str] = mapped_column(String(100), default="")
    submitted: Mapped[bool] = mapped_column(Boolean, default=False)


class SurveyAnswer(Base):
    """One choice (or the text, or the scale's number) of one response to one question."""

    __tablename__ = "survey_answers"

    response_key: Mapped[str] = mapped_column(
        ForeignKey("survey_responses.key", ondelete="CASCADE", onupdate="CASCADE"),
        primary_key=True,
    )
    question_id: Mapped[int] = mapped_column(
        ForeignKey("survey_questions.id", ondelete="CASCADE"), primary_key=True
    )
    choice: Mapped[int] = mapped_column(Integer, primary_key=True)  # option from 1; 0 for text
    text: Mapped[str | None] = mapped_column(Text, default=None)
