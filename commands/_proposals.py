"""What the proposal commands share: rules, today's date, who the caller is, errors, rendering."""

from __future__ import annotations

from bot.replies import Reply
from commands._backend import Ctx, today
from storage.models import Proposal
from storage.proposals import queries
from storage.proposals.queries import Viewer
from storage.proposals.rules import ProposalRules

OVERSEERS = ("committee", "officer")


def rules(ctx: Ctx) -> ProposalRules:
    """The deployment's proposal rules (checked at start-up, so they parse here)."""
    return ProposalRules.of(ctx.settings.env)


def viewer(ctx: Ctx) -> Viewer:
    """The caller as the proposal rules see them: who oversees (the committee, officers and
    administrators) and which departments they answer for."""
    return Viewer(
        staff_id=ctx.user.id,
        overseer=any(ctx.user.has(role) for role in (*OVERSEERS, "admin")),
        departments=frozenset(
            role.scope for role in ctx.user.roles if role.name == "handler" and role.scope
        ),
    )


async def visible(ctx: Ctx, proposal_id: int) -> Proposal:
    """The proposal, if the caller may see it; otherwise the same reply as a missing one."""
    return await queries.get_visible(ctx.services, viewer(ctx), proposal_id)


def status_label(ctx: Ctx, proposal: Proposal) -> str:
    label = ctx.t(f"proposals.status.{proposal.status}")
    if queries.is_overdue(proposal, today(ctx)):
        label += ctx.paren(ctx.t("proposals.overdue_mark"))
    return label


def line(ctx: Ctx, proposal: Proposal) -> str:
    """One proposal in a list: number, case number, title, status, category."""
    case = f" [{proposal.case_no}]" if proposal.case_no else ""
    kind = "" if proposal.kind == "proposal" else ctx.paren(ctx.t("proposals.kind.suggestion"))
    return (
        f"#{proposal.id}{case} {proposal.title}{kind} · {status_label(ctx, proposal)} · "
        f"{ctx.t(f'proposals.category.{proposal.category}')}"
    )


def listing(ctx: Ctx, title: str, proposals: list[Proposal]) -> Reply:
    if not proposals:
        return Reply(title=title, text=ctx.t("proposals.none"))
    return Reply(
        title=title, items=[line(ctx, p) for p in proposals], footer=ctx.t("proposals.list_footer")
    )
