"""What the proposal commands share: rules, today's date, who the caller is, errors, rendering."""

from __future__ import annotations

from datetime import date

from bot.errors import UserError
from bot.replies import Reply
from commands._backend import Ctx
from storage.clock import utcnow
from storage.models import Proposal
from storage.proposals import service
from storage.proposals.rules import ProposalRules

OVERSEERS = ("committee", "officer")


def rules(ctx: Ctx) -> ProposalRules:
    try:
        return ProposalRules.from_values(dict(ctx.settings.env))
    except ValueError:
        return ProposalRules()


def today(ctx: Ctx) -> date:
    return utcnow().astimezone(ctx.tz).date()


def is_overseer(ctx: Ctx) -> bool:
    return any(ctx.user.has(role) for role in OVERSEERS)


def departments(ctx: Ctx) -> set[str]:
    """The departments the caller answers proposals for."""
    return {role.scope for role in ctx.user.roles if role.name == "handler" and role.scope}


async def visible(ctx: Ctx, proposal_id: int) -> Proposal:
    """The proposal, if the caller may see it; otherwise the same reply as a missing one."""
    proposal = await service.get(ctx.services, proposal_id)
    if not ctx.user.has("admin") and not await service.can_see(
        ctx.services, proposal, ctx.user.id, overseer=is_overseer(ctx), departments=departments(ctx)
    ):
        raise UserError("proposals.error.not_found", id=proposal_id)
    return proposal


def status_label(ctx: Ctx, proposal: Proposal) -> str:
    label = ctx.t(f"proposals.status.{proposal.status}")
    if service.is_overdue(proposal, today(ctx)):
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
