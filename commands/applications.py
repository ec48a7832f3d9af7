"""Reviewing benefit applications: the sub-union officer, then the school, then payment."""

from __future__ import annotations

from datetime import datetime

from bot.args import Arg, integer, parse_date, text
from bot.permissions import LINKED, roles
from bot.registry import Area
from bot.replies import Attachment, Choice, Reply, Section
from commands._backend import Ctx, size, today
from commands._benefits import file_store, money, name, pack, reviewer, status
from commands.benefits import line
from storage.benefits import applications
from storage.benefits.applications import PENDING

area = Area("applications")


APPLICATION_ID = Arg("id", integer(1), metavar="ID")
OFFICERS = roles("officer")


@area.command(
    "applications",
    aliases=["审核", "application list"],
    permission=OFFICERS,
    private=True,
    instead="benefits mine",
)
async def waiting(ctx: Ctx) -> Reply:
    the_pack = pack(ctx)
    found = await applications.waiting_for(ctx.services, the_pack, reviewer(ctx))
    if not found:
        return Reply(title=ctx.t("applications.title"), text=ctx.t("applications.none"))
    return Reply(
        title=ctx.t("applications.title"),
        items=[line(ctx, row, the_pack, who) for row, who in found],
        footer=ctx.t("applications.footer"),
    )


@area.command(
    "application show",
    aliases=["申请 查看"],
    args=[APPLICATION_ID],
    permission=LINKED,
    private=True,
)
async def show(ctx: Ctx) -> Reply:
    the_pack = pack(ctx)
    row, applicant = await applications.read(ctx.services, the_pack, ctx.args["id"], reviewer(ctx))
    item = the_pack.item(row.item)
    fields = [
        (ctx.t("applications.field.applicant"), f"{applicant.name} {applicant.staff_no}"),
        (ctx.t("applications.field.sub_union"), applicant.sub_union or "—"),
        (ctx.t("applications.field.item"), name(ctx, item, row.item)),
        (ctx.t("applications.field.status"), status(ctx, row, the_pack)),
        (ctx.t("applications.field.event"), ctx.day(row.event_date)),
        (ctx.t("applications.field.claimed"), money(ctx, row.amount_claimed)),
        (ctx.t("applications.field.approved"), money(ctx, row.amount_approved)),
        (ctx.t("applications.field.paid"), money(ctx, row.amount_paid)),
    ]
    if row.note:
        fields.append((ctx.t("applications.field.note"), row.note))
    evidence = await applications.evidence_of(ctx.services, row.id)
    if evidence:
        names = [f"{n}. {e.name} ({size(e.size)})" for n, e in enumerate(evidence, 1)]
        fields.append((ctx.t("applications.field.files"), ctx.join(names)))
    history = [
        f"{ctx.when(datetime.fromisoformat(step['at']))} "
        f"{ctx.t('applications.action.' + step['action'])}"
        + (f" · {step['note']}" if step.get("note") else "")
        for step in row.history
    ]
    choices: list[Choice] = []
    me = reviewer(ctx)
    own = row.staff_id == ctx.user.id
    if (
        row.status == PENDING
        and not own
        and applications.may_review(me, applications.level(the_pack, row), applicant.sub_union)
    ):
        choices = [
            Choice(
                ctx.t("applications.button.approve"), f"/application approve {row.id}", "primary"
            ),
        ]
    if row.status == "returned" and own:
        choices = [Choice(ctx.t("applications.button.resubmit"), f"/application resubmit {row.id}")]
    return Reply(
        title=ctx.t("applications.show_title", id=row.id),
        text=row.description or "",
        fields=fields,
        sections=[Section(ctx.t("applications.history"), history)] if history else [],
        choices=choices,
        footer=ctx.t("applications.review_hint") if choices and not own else None,
    )


@area.command(
    "application approve",
    aliases=["申请 通过"],
    args=[APPLICATION_ID, Arg("amount", integer(0, 10_000_000), required=False, metavar="AMOUNT")],
    permission=OFFICERS,
)
async def approve(ctx: Ctx) -> Reply:
    row = await applications.approve(
        ctx.services, pack(ctx), reviewer(ctx), ctx.args["id"], ctx.args["amount"]
    )
    key = "applications.approved" if row.status != PENDING else "applications.passed_on"
    return Reply(text=ctx.t(key, id=row.id, amount=money(ctx, row.amount_approved)))


@area.command(
    "application return",
    aliases=["申请 退回"],
    args=[APPLICATION_ID, Arg("note", text(1000), rest=True, metavar="NOTE")],
    permission=OFFICERS,
)
async def send_back(ctx: Ctx) -> Reply:
    row = await applications.send_back(
        ctx.services, pack(ctx), reviewer(ctx), ctx.args["id"], ctx.args["note"]
    )
    return Reply(text=ctx.t("applications.returned", id=row.id))


@area.command(
    "application reject",
    aliases=["申请 驳回"],
    args=[APPLICATION_ID, Arg("reason", text(1000), rest=True, metavar="REASON")],
    permission=OFFICERS,
)
async def reject(ctx: Ctx) -> Reply:
    row = await applications.reject(
        ctx.services, pack(ctx), reviewer(ctx), ctx.args["id"], ctx.args["reason"]
    )
    return Reply(text=ctx.t("applications.rejected", id=row.id))


@area.command(
    "application resubmit",
    aliases=["申请 重新提交"],
    args=[APPLICATION_ID, Arg("note", text(1000), required=False, rest=True, metavar="NOTE")],
    permission=LINKED,
)
async def resubmit(ctx: Ctx) -> Reply:
    row = await applications.resubmit(
        ctx.services, pack(ctx), ctx.user.id, ctx.args["id"], ctx.args["note"] or ""
    )
    return Reply(text=ctx.t("applications.resubmitted", id=row.id))


@area.command(
    "application paid",
    aliases=["申请 已发放"],
    args=[
        APPLICATION_ID,
        Arg("amount", integer(0, 10_000_000), metavar="AMOUNT"),
        Arg("date", parse_date, required=False, metavar="DATE"),
    ],
    permission=OFFICERS,
)
async def paid(ctx: Ctx) -> Reply:
    row = await applications.record_payment(
        ctx.services,
        pack(ctx),
        reviewer(ctx),
        ctx.args["id"],
        ctx.args["amount"],
        ctx.args["date"] or today(ctx),
    )
    return Reply(
        text=ctx.t(
            "applications.paid",
            id=row.id,
            amount=money(ctx, row.amount_paid),
            date=ctx.day(row.paid_on),
        )
    )


@area.command(
    "application attach",
    aliases=["申请 材料"],
    args=[Arg("id", integer(1), required=False, metavar="ID")],
    permission=LINKED,
    private=True,
    files_default=True,
)
async def attach(ctx: Ctx) -> Reply:
    """Files sent in the chat (on the console: /file PATH) go to the named application, or
    to my newest open one."""
    sent = ctx.message.files
    if not sent:
        return Reply(text=ctx.t("applications.attach_how"), error=True)
    done, problems = [], []
    for item in sent:
        if item.refused:
            problems.append(ctx.t("applications.file_refused", name=item.name, why=item.refused))
            continue
        evidence, row = await applications.attach(
            ctx.services,
            file_store(ctx.settings),
            ctx.user.id,
            ctx.args["id"],
            name=item.name,
            mime_type=item.mime_type,
            content=item.content,
        )
        done.append(ctx.t("applications.attached", name=evidence.name, id=row.id))
    return Reply(text="\n".join(done + problems), error=not done)


@area.command(
    "application file",
    aliases=["申请 查看材料"],
    args=[APPLICATION_ID, Arg("n", integer(1), metavar="N")],
    permission=LINKED,
    private=True,
)
async def file(ctx: Ctx) -> Reply:
    evidence, content = await applications.evidence_file(
        ctx.services,
        file_store(ctx.settings),
        pack(ctx),
        reviewer(ctx),
        ctx.args["id"],
        ctx.args["n"],
    )
    return Reply(
        text=ctx.t("applications.file_sent", name=evidence.name, id=ctx.args["id"]),
        attachment=Attachment(evidence.name, content, evidence.mime_type),
    )
