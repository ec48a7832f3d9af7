"""The 提案汇编: one row per proposal of a session, with stable English codes."""

from __future__ import annotations

from datetime import date, tzinfo
from typing import Any

from sqlalchemy import select

from storage.models import CongressSession, ProposalPerson, Staff
from storage.proposals import files, queries, statistics
from storage.store import Store

COLUMNS = (
    "id",
    "case_no",
    "session",
    "title",
    "kind",
    "category",
    "status",
    "proposers",
    "seconders",
    "lead_department",
    "supporting_departments",
    "assigned_at",
    "due_date",
    "replied_at",
    "reply_grade",
    "reply",
    "satisfaction",
    "overdue",
    "attachments",
)


async def rows(
    store: Store, session: CongressSession, today: date, tz: tzinfo
) -> list[dict[str, Any]]:
    proposals = await statistics.in_session(store, session.id)
    people = await store.session.execute(
        select(ProposalPerson.proposal_id, ProposalPerson.role, ProposalPerson.answer, Staff.name)
        .join(Staff, Staff.id == ProposalPerson.staff_id)
        .where(ProposalPerson.proposal_id.in_(statistics.counted_ids(session.id)))
        .order_by(ProposalPerson.id)
    )
    proposers: dict[int, list[str]] = {}
    seconders: dict[int, list[str]] = {}
    for proposal_id, role, answer, name in people:
        if role == "proposer":
            proposers.setdefault(proposal_id, []).append(name)
        elif answer == "accepted":
            seconders.setdefault(proposal_id, []).append(name)

    attached = await files.files_of(store, statistics.counted_ids(session.id))

    def local(moment: Any) -> str:
        return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M") if moment else ""

    return [
        {
            "id": p.id,
            "case_no": p.case_no or "",
            "session": session.name,
            "title": p.title,
            "kind": "suggestion" if statistics.is_suggestion(p) else "proposal",
            "category": p.category,
            "status": p.status,
            "proposers": "; ".join(proposers.get(p.id, [])),
            "seconders": "; ".join(seconders.get(p.id, [])),
            "lead_department": p.lead_department or "",
            "supporting_departments": "; ".join(p.supporting_departments or []),
            "assigned_at": local(p.assigned_at),
            "due_date": p.due_date.isoformat() if p.due_date else "",
            "replied_at": local(p.replied_at),
            "reply_grade": p.reply_grade or "",
            "reply": p.reply_text or "",
            "satisfaction": p.satisfaction or "",
            "overdue": "yes" if queries.is_overdue(p, today) else "no",
            "attachments": "; ".join(
                f"{f.name} ({f.size} B, sha256 {f.sha256[:12]})" for f in attached.get(p.id, [])
            ),
        }
        for p in proposals
    ]
