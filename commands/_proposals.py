"""What the proposal commands share: rules, today's date, who the caller is, errors, rendering."""

from __future__ import annotations

import re

from bot.replies import Choice, Reply
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


def listing(ctx: Ctx, title: str, proposals: list[Proposal] | queries.Page) -> Reply:
    """A list of proposals, one line each; a page of a longer list says which, of how many,
    and offers the next."""
    page: queries.Page | None = None
    if isinstance(proposals, queries.Page):
        page, rows = proposals, proposals.rows
    else:
        rows = proposals
    if not rows:
        if page is not None and page.total:
            return Reply(
                title=title,
                text=ctx.t("proposals.page_beyond", page=page.number, pages=page.pages),
                error=True,
            )
        return Reply(title=title, text=ctx.t("proposals.none"))
    footer = ctx.t("proposals.list_footer")
    choices = []
    if page is not None and (page.pages > 1 or page.more):
        first = (page.number - 1) * page.size + 1
        shown = ctx.t(
            "proposals.page_shown" if page.exact else "proposals.page_shown_more",
            first=first,
            last=first + len(rows) - 1,
            total=page.total,
            page=page.number,
            pages=page.pages,
        )
        if page.more:
            command = page_command(ctx.message.text, page.number + 1)
            shown = ctx.sentences(shown, ctx.t("proposals.page_next", command=command))
            choices.append(Choice(ctx.t("proposals.button.next_page"), command))
        footer = f"{shown}\n{footer}"
    return Reply(title=title, items=[line(ctx, p) for p in rows], footer=footer, choices=choices)


_PAGE_OPTION = re.compile(r"\s+--page(?:\s+|=)\S+")


def page_command(typed: str, number: int) -> str:
    """What was typed, asking for page `number` (any --page it had replaced)."""
    return f"{_PAGE_OPTION.sub('', typed.strip())} --page {number}"
