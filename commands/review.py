"""The committee's review (审查), assignment to departments (交办) and their replies (答复)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.args import Arg, Option, choice, integer, parse_date, text
from bot.errors import UserError
from bot.i18n import LANGUAGES
from bot.permissions import require, roles
from bot.registry import Area
from bot.replies import Reply
from commands._backend import Ctx, in_every_language, today
from commands._proposals import OVERSEERS, rules
from storage.outbox import Button
from storage.proposals import notify, queries, service, state

area = Area("review")

PROPOSAL_ID = Arg("id", integer(1), metavar="ID")
DECISIONS = {
    "accept": "accept",
    "立案": "accept",
    "reject": "reject",
    "不予立案": "reject",
    "merge": "merge",
    "并案": "merge",
    "convert": "convert",
    "转为意见建议": "convert",
    "转意见建议": "convert",
}
GRADES = {g: g for g in state.GRADES} | {g.lower(): g for g in state.GRADES}


@area.command(
    "review",
    aliases=["审查"],
    permission=roles("committee"),
    args=[
        PROPOSAL_ID,
        Arg("decision", choice(DECISIONS, "review.decision.{value}")),
        Arg("detail", text(1000), required=False, rest=True, metavar="REASON|TARGET_ID"),
    ],
)
async def review(ctx: Ctx) -> Reply:
    proposal = await queries.get(ctx.services, ctx.args["id"])
    decision, detail = ctx.args["decision"], ctx.args["detail"]
    proposers = [
        p.staff_id for p in queries.proposers(await queries.people(ctx.services, proposal.id))
    ]
    if decision == "accept":
        case_no = await service.accept(ctx.services, proposal, today(ctx))
        text_ = ctx.t("review.accepted", id=proposal.id, case_no=case_no)
    elif decision == "reject":
        if not detail:
            raise UserError("review.reason_needed")
        await service.reject(ctx.services, proposal, detail)
        text_ = ctx.t("review.rejected", id=proposal.id)
    elif decision == "merge":
        try:
            target_id = integer(1)(detail or "")
        except ValueError:
            raise UserError("review.target_needed") from None
        target = await queries.get(ctx.services, target_id)
        added = await service.merge(ctx.services, proposal, target)
        text_ = ctx.t("review.merged", id=proposal.id, target=target.id, count=len(added))
        # The proposers read where it went, in their own language, not a bare number.
        notes: dict[str, Any] = {
            f"note_{lang}": ctx.catalog.get(
                lang, "review.merged_note", target=target.id, title=target.title
            )
            for lang in LANGUAGES
        }
    else:
        await service.convert(ctx.services, proposal)
        text_ = ctx.t("review.converted", id=proposal.id)
    if decision != "merge":
        notes = {"note": detail or ""}
    await notify.tell(
        ctx.services,
        proposal,
        f"reviewed:{decision}",
        proposers,
        why="proposer",
        **in_every_language(ctx, "decision", f"review.decision.{decision}"),
        **notes,
    )
    return Reply(text=text_)


@area.command(
    "assign",
    aliases=["交办"],
    permission=roles(*OVERSEERS),
    args=[PROPOSAL_ID, Arg("lead", text(100), metavar="LEAD_DEPARTMENT")],
    options=[
        Option("with", text(500), metavar="DEPT,..."),
        Option("due", parse_date, metavar="DATE"),
    ],
)
async def assign(ctx: Ctx) -> Reply:
    proposal = await queries.get(ctx.services, ctx.args["id"])
    lead: str = ctx.args["lead"]
    supporting = [
        d.strip() for d in (ctx.args["with"] or "").replace("，", ",").split(",") if d.strip()
    ]
    known = await notify.known_departments(ctx.services)
    unknown = [d for d in [lead, *supporting] if d not in known]
    if unknown:
        raise UserError(
            "review.unknown_department",
            departments=ctx.join(unknown),
            known=ctx.join(sorted(known)),
        )
    due = ctx.args["due"] or today(ctx) + timedelta(days=rules(ctx).reply_days)
    await service.assign(ctx.services, proposal, lead, supporting, due)
    handlers = await notify.handlers_of(ctx.services, [lead, *supporting])
    await notify.tell(
        ctx.services,
        proposal,
        "assigned",
        handlers,
        why="handler",
        lead=lead,
        supporting=ctx.join(supporting) or "—",
        buttons=[Button("proposals.button.show", f"/proposal show {proposal.id}")],
    )
    without = [d for d in [lead, *supporting] if not await notify.handlers_of(ctx.services, [d])]
    reply = Reply(
        text=ctx.t(
            "review.assigned", id=proposal.id, lead=lead, due=ctx.day(due), handlers=len(handlers)
        )
    )
    notes = []
    if due < today(ctx):  # recorded late: accepted, and overdue from now on
        notes.append(ctx.t("review.due_passed", due=ctx.day(due)))
    if without:
        notes.append(ctx.t("review.no_handlers", departments=ctx.join(without)))
    reply.footer = "\n".join(notes) or None
    return reply


@area.command(
    "proposal due",
    aliases=["提案 期限"],
    permission=roles(*OVERSEERS),
    args=[PROPOSAL_ID, Arg("due", parse_date, metavar="DATE")],
)
async def set_due(ctx: Ctx) -> Reply:
    """A new due date: for a reply sent back, more time granted, or a late record."""
    proposal = await queries.get(ctx.services, ctx.args["id"])
    due = ctx.args["due"]
    await service.set_due(ctx.services, proposal, due)
    handlers = await notify.handlers_of(ctx.services, [proposal.lead_department or ""])
    await notify.tell(
        ctx.services,
        proposal,
        f"due_set:{due.isoformat()}",
        handlers,
        why="handler",
        buttons=[Button("proposals.button.show", f"/proposal show {proposal.id}")],
    )
    reply = Reply(text=ctx.t("review.due_set", id=proposal.id, due=ctx.day(due)))
    if due < today(ctx):
        reply.footer = ctx.t("review.due_passed", due=ctx.day(due))
    return reply


@area.command(
    "reply",
    aliases=["答复"],
    permission=roles("handler"),
    args=[
        PROPOSAL_ID,
        Arg("grade", choice(GRADES, "proposals.grade.{value}"), metavar="A|B|C|D"),
        Arg("text", text(4000), rest=True, metavar="TEXT"),
    ],
)
async def reply(ctx: Ctx) -> Reply:
    proposal = await queries.get(ctx.services, ctx.args["id"])
    if not proposal.lead_department:
        raise UserError("review.not_assigned", id=proposal.id)
    require(ctx.user, "handler", scope=proposal.lead_department)
    await service.reply(
        ctx.services, proposal, ctx.args["grade"], ctx.args["text"], rules(ctx), today(ctx)
    )
    everyone = await queries.people(ctx.services, proposal.id)
    occasion = f"reply:{proposal.rounds}"
    await notify.tell(
        ctx.services,
        proposal,
        occasion,
        [p.staff_id for p in queries.proposers(everyone)],
        why="proposer",
        **in_every_language(ctx, "grade", f"proposals.grade.{ctx.args['grade']}"),
        department=proposal.lead_department,
        rating_due=proposal.rating_due.isoformat() if proposal.rating_due else "—",
        buttons=notify.rating_buttons(proposal.id),
    )
    await notify.tell(
        ctx.services,
        proposal,
        f"reply_seconder:{proposal.rounds}",
        [p.staff_id for p in queries.seconders(everyone)],
        why="seconder",
        **in_every_language(ctx, "grade", f"proposals.grade.{ctx.args['grade']}"),
        department=proposal.lead_department,
    )
    return Reply(text=ctx.t("review.replied", id=proposal.id))
