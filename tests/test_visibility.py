"""Who may see a proposal is one rule: the check for one proposal and every list agree,
for every role and every state, and both match the policy written out plainly here."""

from __future__ import annotations

import contextlib

from sqlalchemy import select

from bot.app import App
from commands._backend import principal_for
from commands._proposals import OVERSEERS
from storage import identity
from storage.clock import utcnow
from storage.errors import ProposalError
from storage.models import Proposal, ProposalPerson
from storage.proposals import queries
from storage.proposals.queries import Scope, Viewer
from storage.proposals.state import PUBLIC, Status
from storage.store import Actor, Store

PEOPLE = ["T1001", "D2001", "D2002", "D2101", "C3001", "O4001", "O4101", "H5001", "H5002", "A9001"]
PROPOSER, SECONDER, LEAD = "D2001", "D2002", "后勤管理处"


def expected(status: Status, who: str, overseer: bool, departments: set[str]) -> bool:
    """The policy, in words: accepted proposals are public; a draft is its people's only;
    anything filed is also the overseers' and the lead department's."""
    if status in PUBLIC or who in (PROPOSER, SECONDER):
        return True
    return status != Status.DRAFT and (overseer or LEAD in departments)


async def test_check_and_lists_agree_for_every_role_and_state(any_app: App) -> None:
    now = utcnow()
    async with any_app.database.session() as session:
        store = Store(session, Actor(None, "cli", "test"))
        ids = {no: (await identity.staff_by_no(store, no)) for no in PEOPLE}
        by_status: dict[int, Status] = {}
        for status in Status:
            proposal = Proposal(
                kind="proposal",
                status=status,
                title=f"关于{status.value}",
                reasons="",
                measures="",
                category="logistics",
                proposer_id=ids[PROPOSER].id,  # type: ignore[union-attr]
                lead_department=None if status == Status.DRAFT else LEAD,
                supporting_departments=[],
                created_at=now,
                updated_at=now,
            )
            session.add(proposal)
            await session.flush()
            session.add(
                ProposalPerson(
                    proposal_id=proposal.id,
                    staff_id=ids[SECONDER].id,  # type: ignore[union-attr]
                    role="seconder",
                    answer="invited",
                    invited_at=now,
                )
            )
            by_status[proposal.id] = status
    async with any_app.database.session() as session:
        store = Store(session, Actor(None, "cli", "test"))
        for no in PEOPLE:
            view = ids[no]
            assert view is not None
            user = principal_for(view)
            overseer = any(user.has(r) for r in (*OVERSEERS, "admin"))
            departments = {r.scope for r in user.roles if r.name == "handler" and r.scope}
            viewer = Viewer(view.id, overseer, frozenset(departments))
            listed = {p.id for p in (await queries.page_for(store, viewer, today=now.date())).rows}
            checked = set()
            for proposal_id in by_status:
                with contextlib.suppress(ProposalError):  # refused: not visible to them
                    await queries.get_visible(store, viewer, proposal_id)
                    checked.add(proposal_id)
            policy = {
                pid for pid, st in by_status.items() if expected(st, no, overseer, departments)
            }
            assert listed == checked == policy, (no, sorted(by_status[p] for p in policy))
            mine = {
                p.id
                for p in (
                    await queries.page_for(store, viewer, scope=Scope.MINE, today=now.date())
                ).rows
            }
            assert mine == (set(by_status) if no == PROPOSER else set())
        all_ids = set(await session.scalars(select(Proposal.id)))
        assert all_ids == set(by_status)
