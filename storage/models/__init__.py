"""Every table, imported here so `Base.metadata` is complete for Alembic and the tests."""

from storage.models.activities import Activity, Club, ClubMember, Signup
from storage.models.audit import AuditEntry
from storage.models.benefits import (
    BenefitApplication,
    ConfidentialRequest,
    EvidenceFile,
    ExamAppointment,
    HardshipRecord,
)
from storage.models.digests import Digest, DigestDefault, DigestPreference
from storage.models.events import ChoiceToken, ProcessedEvent
from storage.models.identity import Identity, InviteCode, LinkAttempt
from storage.models.meetings import Attendance, Meeting
from storage.models.outbox import Delivery, OutboxMessage
from storage.models.platform import ChatGroup, Lease, SenderInstance
from storage.models.proposals import (
    CongressSession,
    Proposal,
    ProposalEvent,
    ProposalFile,
    ProposalPerson,
)
from storage.models.staff import EmploymentType, Staff, StaffRole
from storage.models.surveys import (
    Survey,
    SurveyAnswer,
    SurveyInvitation,
    SurveyQuestion,
    SurveyResponse,
)
from storage.models.votes import Ballot, BallotMark, Vote, VoteCandidate, VoteVoter

__all__ = [
    "Activity",
    "Attendance",
    "AuditEntry",
    "Ballot",
    "BallotMark",
    "BenefitApplication",
    "ChatGroup",
    "ChoiceToken",
    "Club",
    "ClubMember",
    "ConfidentialRequest",
    "CongressSession",
    "Delivery",
    "Digest",
    "DigestDefault",
    "DigestPreference",
    "EmploymentType",
    "EvidenceFile",
    "ExamAppointment",
    "HardshipRecord",
    "Identity",
    "InviteCode",
    "Lease",
    "LinkAttempt",
    "Meeting",
    "OutboxMessage",
    "ProcessedEvent",
    "Proposal",
    "ProposalEvent",
    "ProposalFile",
    "ProposalPerson",
    "SenderInstance",
    "Signup",
    "Staff",
    "StaffRole",
    "Survey",
    "SurveyAnswer",
    "SurveyInvitation",
    "SurveyQuestion",
    "SurveyResponse",
    "Vote",
    "VoteCandidate",
    "VoteVoter",
]
