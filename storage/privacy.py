"""A person's own data, all of it, for the right of access (PIPL §45): what the roster says,
where they are linked, what they filed, attended, applied for and were recorded in."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select

from storage import audit
from storage.identity import staff_by_no
from storage.models import (
    Activity,
    Attendance,
    AuditEntry,
    BenefitApplication,
    ClubMember,
    ConfidentialRequest,
    EvidenceFile,
    ExamAppointment,
    HardshipRecord,
    Identity,
    Meeting,
    Proposal,
    ProposalPerson,
    Signup,
    SurveyAnswer,
    SurveyInvitation,
    SurveyQuestion,
    SurveyResponse,
)
from storage.store import Store


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _row(obj: Any, *skip: str) -> dict[str, Any]:
    return {
        column.key: _plain(getattr(obj, column.key))
        for column in obj.__table__.columns
        if column.key not in skip
    }


async def export(store: Store, staff_no: str) -> dict[str, Any] | None:
    """Everything kept about one person (None if no such staff number); the export itself
    is audited. Internal keys (code hashes, check-in secrets) are left out."""
    person = await staff_by_no(store, staff_no)
    if person is None:
        return None
    session = store.session
    sid = person.id

    async def rows(model: Any, *where: Any, skip: tuple[str, ...] = ()) -> list[dict[str, Any]]:
        return [_row(r, *skip) for r in await session.scalars(select(model).where(*where))]

    applications = await rows(BenefitApplication, BenefitApplication.staff_id == sid)
    data: dict[str, Any] = {
        "staff": {k: _plain(v) for k, v in asdict(person).items() if k != "form_state"},
        "identities": await rows(Identity, Identity.staff_id == sid, skip=("form_state",)),
        "proposals_filed": await rows(Proposal, Proposal.proposer_id == sid),
        "proposals_involved": await rows(ProposalPerson, ProposalPerson.staff_id == sid),
        "meetings": [
            {**_row(attendance), "meeting": meeting_title}
            for attendance, meeting_title in await session.execute(
                select(Attendance, Meeting.title)
                .join(Meeting, Meeting.id == Attendance.meeting_id)
                .where(Attendance.staff_id == sid)
            )
        ],
        "benefit_applications": applications,
        "evidence_files": await rows(
            EvidenceFile, EvidenceFile.application_id.in_([a["id"] for a in applications])
        ),
        "exams": await rows(ExamAppointment, ExamAppointment.staff_id == sid),
        "hardship": await rows(HardshipRecord, HardshipRecord.staff_id == sid),
        "requests": await rows(ConfidentialRequest, ConfidentialRequest.staff_id == sid),
        "activities": [
            {**_row(signup), "activity": title}
            for signup, title in await session.execute(
                select(Signup, Activity.title)
                .join(Activity, Activity.id == Signup.activity_id)
                .where(Signup.staff_id == sid)
            )
        ],
        "clubs": await rows(ClubMember, ClubMember.staff_id == sid),
        # Who was asked and whether they answered; the answers only of named surveys (an
        # anonymous survey's answers are linked to nobody, so they cannot be found here).
        "surveys_asked": await rows(SurveyInvitation, SurveyInvitation.staff_id == sid),
        "survey_answers_named": [
            {"survey": survey_id, "question": position, "choice": choice, "text": text}
            for survey_id, position, choice, text in await session.execute(
                select(
                    SurveyResponse.survey_id,
                    SurveyQuestion.position,
                    SurveyAnswer.choice,
                    SurveyAnswer.text,
                )
                .join(SurveyAnswer, SurveyAnswer.response_key == SurveyResponse.key)
                .join(SurveyQuestion, SurveyQuestion.id == SurveyAnswer.question_id)
                .where(SurveyResponse.staff_id == sid)
                .order_by(SurveyResponse.survey_id, SurveyQuestion.position)
            )
        ],
        "audit_log_about_me": await rows(
            AuditEntry,
            or_(
                AuditEntry.actor_id == sid,
                (AuditEntry.target_type == "staff") & (AuditEntry.target_id == str(sid)),
                AuditEntry.detail["staff_id"].as_integer() == sid,
            ),
        ),
    }
    await audit.record(store, "privacy.export", "staff", sid, staff_no=staff_no)
    return data
