"""Filing and following proposals: drafts, seconding, submission, rating, lists and search."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.args import Arg, Option, choice, integer, text
from bot.config import Settings
from bot.errors import UserError
from bot.forms import TITLE_KEY, Form, FormField, StartForm
from bot.permissions import LINKED, roles
from bot.registry import Area
from bot.replies import Attachment, Choice, Reply, Section
from commands._backend import Ctx, catalogue_words, size, staff_of, today
from commands._benefits import file_store
from commands._charts import proposal_chart
from commands._proposals import (
    OVERSEERS,
    line,
    listing,
    rules,
    status_label,
    viewer,
    visible,
)
from commands.errors import translate
from storage.errors import ProposalError
from storage.models import CongressSession, Proposal
from storage.outbox import Button
from storage.proposals import congress, notify, queries, service, statistics
from storage.proposals import files as proposal_files
from storage.proposals.queries import Scope
from storage.proposals.rules import ProposalRules
from storage.proposals.state import Status

area = Area("proposals")

PROPOSAL_ID = Arg("id", integer(1), metavar="ID")
FORM = "proposal"
SATISFACTION_WORDS = {
    "satisfied": "satisfied",
    "满意": "satisfied",
    "basic": "basic",
    "基本满意": "basic",
    "unsatisfied": "unsatisfied",
    "不满意": "unsatisfied",
}
SCOPES = {
    "mine": Scope.MINE,
    "我的": Scope.MINE,
    "seconding": Scope.SECONDING,
    "附议": Scope.SECONDING,
    "to-review": Scope.TO_REVIEW,
    "待审": Scope.TO_REVIEW,
    "assigned-to-me": Scope.ASSIGNED_TO_ME,
    "待办": Scope.ASSIGNED_TO_ME,
    "overdue": Scope.OVERDUE,
    "超期": Scope.OVERDUE,
    "all": Scope.ALL,
    "全部": Scope.ALL,
}
STATUS_WORDS = {status.value: status.value for status in Status} | catalogue_words(
    "proposals", "status"
)
SATISFACTION_WORDS |= catalogue_words("proposals", "satisfaction")


async def save_form(ctx: Ctx, values: dict[str, Any], form_context: dict[str, Any]) -> Reply:
    staff = staff_of(ctx)
    proposal_id = form_context.get("edit")
    if proposal_id:
        proposal = await queries.get(ctx.services, int(proposal_id))
        await service.edit(ctx.services, proposal, staff.id, values, rules(ctx))
        return draft_reply(ctx, proposal, ctx.t("proposals.saved_edit", id=proposal.id))
    proposal = await service.create(
        ctx.services,
        proposer_id=staff.id,
        is_delegate=staff.delegate,
        today=today(ctx),
        fields=values,
        rules=rules(ctx),
    )
    return draft_reply(ctx, proposal, ctx.t("proposals.saved_new", id=proposal.id))


def proposal_form(settings: Settings) -> Form:
    """The proposal form, with the deployment's categories and title length."""
    configured = ProposalRules.of(settings.env)
    return Form(
        name=FORM,
        title_key="proposals.form.title",
        fields=(
            FormField(
                "title",
                "proposals.form.field_title",
                text(configured.title_max),
                hint_key="proposals.form.hint_title",
            ),
            FormField("reasons", "proposals.form.field_reasons", text(4000), multiline=True),
            FormField("measures", "proposals.form.field_measures", text(4000), multiline=True),
            FormField(
                "category",
                "proposals.form.field_category",
                choices=tuple((c, f"proposals.category.{c}") for c in configured.categories),
            ),
            FormField("department", "proposals.form.field_department", text(100), required=False),
        ),
        on_submit=save_form,
    )


area.form(proposal_form)


def draft_reply(ctx: Ctx, proposal: Proposal, text_: str) -> Reply:
    """A draft just saved: Submit is offered only when nothing else must come first (a
    proposal waits for its seconders, which the footer says how to invite)."""
    choices = [Choice(ctx.t("proposals.button.show"), f"/proposal show {proposal.id}")]
    missing = service.seconders_missing(proposal, 0, rules(ctx))
    if not missing:
        choices.append(
            Choice(ctx.t("proposals.button.submit"), f"/proposal submit {proposal.id}", "primary")
        )
    if missing:
        footer = ctx.t("proposals.next_invite", id=proposal.id, n=rules(ctx).seconders_required)
    elif proposal.kind == "suggestion":
        footer = ctx.t("proposals.next_submit_suggestion", id=proposal.id)
    else:
        footer = ctx.t("proposals.next_submit", id=proposal.id)
    return Reply(text=text_, items=[line(ctx, proposal)], choices=choices, footer=footer)


@area.command("proposal new", aliases=["提案 新建", "提案 新增"], permission=LINKED)
async def new(ctx: Ctx) -> StartForm:
    staff = staff_of(ctx)
    session = await congress.current_session(ctx.services)
    # The form is titled with what it will file: 提案, or 意见建议.
    suggestion = {TITLE_KEY: "proposals.form.title_suggestion"}
    if not staff.delegate:
        intro = Reply(text=ctx.t("proposals.will_be_suggestion_not_delegate"))
        return StartForm(FORM, intro=intro, context=suggestion)
    if not congress.window_open(session, today(ctx)):
        intro = Reply(text=ctx.t("proposals.will_be_suggestion_window"))
        return StartForm(FORM, intro=intro, context=suggestion)
    intro = Reply(text=ctx.t("proposals.will_be_proposal", session=session.name if session else ""))
    return StartForm(FORM, intro=intro)


@area.command("proposal edit", aliases=["提案 修改"], args=[PROPOSAL_ID])
async def edit(ctx: Ctx) -> StartForm:
    proposal = await visible(ctx, ctx.args["id"])
    service.check_editable(proposal, ctx.user.id)
    initial = {
        "title": proposal.title,
        "reasons": proposal.reasons,
        "measures": proposal.measures,
        "category": proposal.category,
        "department": proposal.suggested_department or "",
    }
    return StartForm(FORM, initial=initial, context={"edit": proposal.id})


@area.command(
    "proposal attach",
    aliases=["提案 附件"],
    args=[PROPOSAL_ID],
    private=True,
    takes_files=True,
)
async def attach(ctx: Ctx) -> Reply:
    """Files sent with the command (on the console: /file PATH /proposal attach ID) go to
    my proposal before it is submitted."""
    proposal = await visible(ctx, ctx.args["id"])
    sent = ctx.message.files
    if not sent:
        return Reply(text=ctx.t("proposals.attach_how", id=proposal.id), error=True)
    done, problems = [], []
    for item in sent:
        if item.refused:
            problems.append(ctx.t("proposals.file_refused", name=item.name, why=item.refused))
            continue
        try:
            row = await proposal_files.attach(
                ctx.services,
                file_store(ctx.settings),
                proposal,
                ctx.user.id,
                name=item.name,
                mime_type=item.mime_type,
                content=item.content,
            )
        except ProposalError as exc:
            if exc.key in ("proposals.error.not_yours", "proposals.error.only_drafts"):
                raise  # about the proposal, not this file: nothing else would go in
            problems.append(translate(ctx, exc).text)
            continue
        done.append(ctx.t("proposals.attached", name=row.name, id=proposal.id, size=size(row.size)))
    return Reply(text="\n".join(done + problems), error=not done)


@area.command(
    "proposal file",
    aliases=["提案 查看附件"],
    args=[PROPOSAL_ID, Arg("n", integer(1), metavar="N")],
    private=True,
)
async def file(ctx: Ctx) -> Reply:
    row, content = await proposal_files.read(
        ctx.services, file_store(ctx.settings), viewer(ctx), ctx.args["id"], ctx.args["n"]
    )
    return Reply(
        text=ctx.t("proposals.file_sent", name=row.name, id=ctx.args["id"]),
        attachment=Attachment(row.name, content, row.mime_type),
    )


@area.command("proposal delete", aliases=["提案 删除"], args=[PROPOSAL_ID])
async def delete(ctx: Ctx) -> Reply:
    proposal = await visible(ctx, ctx.args["id"])
    await service.delete_draft(ctx.services, proposal, ctx.user.id)
    return Reply(text=ctx.t("proposals.deleted", id=ctx.args["id"]))


@area.command("proposal show", aliases=["提案 查看", "提案 详情"], args=[PROPOSAL_ID])
async def show(ctx: Ctx) -> Reply:
    proposal = await visible(ctx, ctx.args["id"])
    everyone = await queries.people(ctx.services, proposal.id)
    names = ctx.join
    fields = [
        (ctx.t("proposals.field.status"), status_label(ctx, proposal)),
        (ctx.t("proposals.field.kind"), ctx.t(f"proposals.kind.{proposal.kind}")),
        (ctx.t("proposals.field.category"), ctx.t(f"proposals.category.{proposal.category}")),
        (
            ctx.t("proposals.field.proposers"),
            names([p.name for p in queries.proposers(everyone)])
            + (ctx.paren(proposal.joint_delegation) if proposal.joint_delegation else ""),
        ),
    ]
    if proposal.kind == "proposal":
        invited = [p for p in everyone if p.role == "seconder"]
        fields.append(
            (
                ctx.t("proposals.field.seconders"),
                names(
                    [f"{p.name}{ctx.paren(ctx.t(f'proposals.answer.{p.answer}'))}" for p in invited]
                )
                or "—",
            )
        )
    if proposal.case_no:
        fields.insert(0, (ctx.t("proposals.field.case_no"), proposal.case_no))
    if proposal.suggested_department:
        fields.append((ctx.t("proposals.field.suggested"), proposal.suggested_department))
    if proposal.lead_department:
        fields.append((ctx.t("proposals.field.lead"), proposal.lead_department))
        if proposal.supporting_departments:
            fields.append(
                (ctx.t("proposals.field.supporting"), names(list(proposal.supporting_departments)))
            )
        fields.append((ctx.t("proposals.field.due"), ctx.day(proposal.due_date)))
    attached = (await proposal_files.files_of(ctx.services, [proposal.id])).get(proposal.id, [])
    if attached:
        fields.append(
            (
                ctx.t("proposals.field.files"),
                "\n".join(
                    f"{n}. {row.name} ({size(row.size)})" for n, row in enumerate(attached, start=1)
                )
                + "\n"
                + ctx.t("proposals.file_hint", id=proposal.id),
            )
        )
    if proposal.review_note:
        fields.append((ctx.t("proposals.field.review_note"), proposal.review_note))
    if proposal.reply_text:
        fields.append(
            (
                ctx.t("proposals.field.reply"),
                ctx.t(
                    "proposals.reply_line",
                    grade=ctx.t(f"proposals.grade.{proposal.reply_grade}"),
                    text=proposal.reply_text,
                ),
            )
        )
    if proposal.satisfaction:
        rating = ctx.t(f"proposals.satisfaction.{proposal.satisfaction}")
        if proposal.rating_comment:
            rating += ctx.paren(proposal.rating_comment)
        fields.append((ctx.t("proposals.field.rating"), rating))
    events = await queries.history(ctx.services, proposal.id)
    linked = [proposal.merged_into_id] if proposal.merged_into_id else []
    linked += [int(e.detail[k]) for e, _n in events for k in ("into", "from") if k in e.detail]
    titles = await queries.titles(ctx.services, linked)
    history = [
        f"{ctx.when(event.at)} {name or ctx.t('proposals.system')}: "
        f"{ctx.t(f'proposals.action.{event.action}')}"
        + event_detail(ctx, event.action, event.detail, titles)
        + (
            f" → {ctx.t(f'proposals.status.{event.to_status}')}"
            if event.to_status != event.from_status
            else ""
        )
        for event, name in events
    ]
    choices = actions_for(ctx, proposal, len(queries.seconders(everyone)))
    if proposal.merged_into_id:
        target = proposal.merged_into_id
        fields.insert(
            1,
            (
                ctx.t("proposals.field.merged_into"),
                ctx.t("proposals.merged_into", id=target, title=titles.get(target, "")),
            ),
        )
        choices = [
            Choice(ctx.t("proposals.button.show_target", id=target), f"/proposal show {target}")
        ]
    body = (
        f"{ctx.t('proposals.form.field_reasons')}\n{proposal.reasons or '—'}\n\n"
        f"{ctx.t('proposals.form.field_measures')}\n{proposal.measures or '—'}"
    )
    return Reply(
        title=f"#{proposal.id} {proposal.title}",
        text=body,
        fields=fields,
        sections=[Section(ctx.t("proposals.history"), history)] if history else [],
        choices=choices,
    )


def event_detail(ctx: Ctx, action: str, detail: dict[str, Any], titles: dict[int, str]) -> str:
    """What a history line needs besides the action: where it was merged, which rating,
    which grade, why it was refused, what a seconder answered."""
    if action == "merge" and "into" in detail:
        target = int(detail["into"])
        return " " + ctx.t("proposals.merged_into", id=target, title=titles.get(target, ""))
    if action == "merged_in" and "from" in detail:
        source = int(detail["from"])
        return " " + ctx.t("proposals.merged_from", id=source, title=titles.get(source, ""))
    if action.startswith("rate_") and detail.get("satisfaction"):
        return ctx.paren(ctx.t(f"proposals.satisfaction.{detail['satisfaction']}"))
    if action == "second" and detail.get("answer"):
        return ctx.paren(ctx.t(f"proposals.answer.{detail['answer']}"))
    if action == "reply" and detail.get("grade"):
        return ctx.paren(ctx.t(f"proposals.grade.{detail['grade']}"))
    if action == "reject" and detail.get("reason"):
        return ctx.paren(str(detail["reason"]))
    return ""


def actions_for(ctx: Ctx, proposal: Proposal, seconded: int) -> list[Choice]:
    """Buttons for what the caller can do next with this proposal (`seconded`: how many
    seconders accepted; Submit waits for enough)."""
    pid = proposal.id
    mine = proposal.proposer_id == ctx.user.id
    choices: list[Choice] = []
    ready = not service.seconders_missing(proposal, seconded, rules(ctx))
    if mine and ready and proposal.status in (Status.DRAFT, Status.SECONDING):
        choices.append(
            Choice(ctx.t("proposals.button.submit"), f"/proposal submit {pid}", "primary")
        )
    if mine and proposal.status == Status.ANSWERED:
        choices += rating_choices(ctx, pid)
    if ctx.user.has("committee") and proposal.status == Status.SUBMITTED:
        choices.append(Choice(ctx.t("proposals.button.accept"), f"/review {pid} accept", "primary"))
    return choices


def rating_choices(ctx: Ctx, proposal_id: int) -> list[Choice]:
    styles = {"unsatisfied": "danger", "satisfied": "primary"}
    return [
        Choice(ctx.t(b.label_key), b.command, styles.get(b.command.rsplit(" ", 1)[-1], "default"))
        for b in notify.rating_buttons(proposal_id)
    ]


@area.command(
    "proposal invite",
    aliases=["提案 邀请附议"],
    args=[PROPOSAL_ID, Arg("staff_nos", text(32), variadic=True, metavar="STAFF_NO")],
)
async def invite(ctx: Ctx) -> Reply:
    proposal = await visible(ctx, ctx.args["id"])
    invited, refused = await service.invite(
        ctx.services, proposal, ctx.user.id, ctx.args["staff_nos"]
    )
    if invited:
        await notify.tell(
            ctx.services,
            proposal,
            f"invite:{proposal.updated_at.timestamp():.0f}",
            [p.staff_id for p in invited],
            why="invited",
            proposer=ctx.user.name,
            buttons=[
                Button("proposals.button.second", f"/proposal second {proposal.id}"),
                Button("proposals.button.decline", f"/proposal decline {proposal.id}"),
            ],
        )
    items = [ctx.t("proposals.invited", name=p.name, staff_no=p.staff_no) for p in invited]
    for entry in refused:
        items.append(
            ctx.t(f"proposals.invite_refused.{entry.because.value}", staff_no=entry.staff_no)
        )
    return Reply(
        text=ctx.t("proposals.invite_done", id=proposal.id, count=len(invited)),
        items=items,
        error=not invited,
    )


async def _answer(ctx: Ctx, answer: str) -> Reply:
    proposal = await queries.get(ctx.services, ctx.args["id"])
    await service.answer_seconding(ctx.services, proposal, ctx.user.id, answer)
    if answer == "accepted":
        await notify.tell(
            ctx.services,
            proposal,
            f"seconded:{ctx.user.id}",
            [proposal.proposer_id],
            why="proposer",
            who=ctx.user.name,
        )
    return Reply(text=ctx.t(f"proposals.second_{answer}", id=proposal.id, title=proposal.title))


@area.command(
    "proposal second",
    aliases=["提案 附议", "附议"],
    args=[PROPOSAL_ID],
    permission=roles("delegate"),
)
async def second(ctx: Ctx) -> Reply:
    return await _answer(ctx, "accepted")


@area.command(
    "proposal decline",
    aliases=["提案 谢绝附议", "谢绝附议"],
    args=[PROPOSAL_ID],
    permission=roles("delegate"),
)
async def decline(ctx: Ctx) -> Reply:
    return await _answer(ctx, "declined")


@area.command(
    "proposal unsecond",
    aliases=["提案 撤回附议", "撤回附议"],
    args=[PROPOSAL_ID],
    permission=roles("delegate"),
)
async def unsecond(ctx: Ctx) -> Reply:
    return await _answer(ctx, "withdrawn")


@area.command("proposal joint", aliases=["提案 联名"], args=[PROPOSAL_ID], permission=roles("head"))
async def joint(ctx: Ctx) -> Reply:
    staff = staff_of(ctx)
    if not staff.delegation or not ctx.user.has("head", staff.delegation):
        raise UserError("proposals.error.not_head")
    proposal = await queries.get(ctx.services, ctx.args["id"])
    count = await service.file_jointly(ctx.services, proposal, ctx.user.id, staff.delegation)
    return Reply(
        text=ctx.t("proposals.joint_done", id=proposal.id, delegation=staff.delegation, count=count)
    )


@area.command("proposal submit", aliases=["提案 提交"], args=[PROPOSAL_ID])
async def submit(ctx: Ctx) -> Reply:
    proposal = await queries.get(ctx.services, ctx.args["id"])
    await service.submit(ctx.services, proposal, ctx.user.id, rules(ctx))
    committee = await notify.staff_with_role(ctx.services, "committee")
    await notify.tell(
        ctx.services,
        proposal,
        "submitted",
        committee,
        why="committee",
        buttons=[Button("proposals.button.show", f"/proposal show {proposal.id}")],
    )
    return Reply(text=ctx.t("proposals.submitted", id=proposal.id, title=proposal.title))


@area.command("proposal withdraw", aliases=["提案 撤回"], args=[PROPOSAL_ID])
async def withdraw(ctx: Ctx) -> Reply:
    proposal = await queries.get(ctx.services, ctx.args["id"])
    await service.withdraw(ctx.services, proposal, ctx.user.id)
    return Reply(text=ctx.t("proposals.withdrawn", id=proposal.id))


@area.command(
    "proposal rate",
    aliases=["提案 评价", "评价"],
    args=[
        PROPOSAL_ID,
        Arg("satisfaction", choice(SATISFACTION_WORDS, "proposals.satisfaction.{value}")),
        Arg("comment", text(1000), required=False, rest=True),
    ],
)
async def rate(ctx: Ctx) -> Reply:
    proposal = await queries.get(ctx.services, ctx.args["id"])
    satisfaction, comment = ctx.args["satisfaction"], ctx.args["comment"]
    if satisfaction == "unsatisfied" and not comment:
        raise UserError("proposals.error.comment_needed")
    redo_due = today(ctx) + timedelta(days=rules(ctx).redo_days)
    after = await service.rate(ctx.services, proposal, ctx.user.id, satisfaction, comment, redo_due)
    if after == Status.REOPENED:
        handlers = await notify.handlers_of(ctx.services, [proposal.lead_department or ""])
        await notify.tell(
            ctx.services,
            proposal,
            f"sent_back:{proposal.rounds}",
            handlers,
            why="handler",
            comment=comment or "",
            buttons=[Button("proposals.button.show", f"/proposal show {proposal.id}")],
        )
        overseers = await notify.staff_with_role(ctx.services, "committee")
        await notify.tell(
            ctx.services,
            proposal,
            f"sent_back_committee:{proposal.rounds}",
            overseers,
            why="committee",
            comment=comment or "",
        )
    return Reply(
        text=ctx.t(
            f"proposals.rated_{'reopened' if after == Status.REOPENED else 'closed'}",
            id=proposal.id,
        )
    )


@area.command(
    "proposal list",
    aliases=["提案 列表"],
    args=[Arg("scope", choice(SCOPES, "proposals.scope.{value}"), required=False)],
    options=[
        Option("status", choice(STATUS_WORDS, "proposals.status.{value}"), metavar="STATUS"),
        Option("category", text(32), metavar="CATEGORY"),
        Option("page", integer(1, 100_000), metavar="N", default=1),
    ],
)
async def list_(ctx: Ctx) -> Reply:
    scope: Scope = ctx.args["scope"] or Scope.ALL
    if scope is Scope.TO_REVIEW and not ctx.user.has("committee"):
        raise UserError("proposals.error.scope_role", scope=scope, role=ctx.t("role.committee"))
    if scope is Scope.OVERDUE and not any(ctx.user.has(role) for role in OVERSEERS):
        raise UserError(
            "proposals.error.scope_role",
            scope=scope,
            role=ctx.join([ctx.t(f"role.{r}") for r in OVERSEERS]),
        )
    found = await queries.page_for(
        ctx.services,
        viewer(ctx),
        scope=scope,
        today=today(ctx),
        status=ctx.args["status"],
        category=ctx.args["category"],
        page=ctx.args["page"],
    )
    return listing(ctx, ctx.t(f"proposals.list_title.{scope}"), found)


@area.command(
    "proposal search",
    aliases=["提案 搜索", "搜索提案"],
    args=[Arg("words", text(100), variadic=True, metavar="WORDS")],
    options=[Option("page", integer(1, 100_000), metavar="N", default=1)],
)
async def search(ctx: Ctx) -> Reply:
    words = ctx.args["words"]
    found = await queries.page_for(
        ctx.services, viewer(ctx), today=today(ctx), words=words, page=ctx.args["page"]
    )
    return listing(ctx, ctx.t("proposals.search_title", words=" ".join(words)), found)


@area.command("proposal overdue", aliases=["提案 超期"], permission=roles(*OVERSEERS))
async def overdue(ctx: Ctx) -> Reply:
    found = await queries.overdue(ctx.services, today(ctx))
    reply = listing(ctx, ctx.t("proposals.list_title.overdue"), found)
    reply.choices = [
        Choice(ctx.t("proposals.button.urge", id=p.id), f"/proposal urge {p.id}") for p in found[:5]
    ]
    return reply


@area.command(
    "proposal urge", aliases=["提案 督办", "督办"], args=[PROPOSAL_ID], permission=roles(*OVERSEERS)
)
async def urge(ctx: Ctx) -> Reply:
    proposal = await queries.get(ctx.services, ctx.args["id"])
    count = await service.urge(
        ctx.services, proposal, today(ctx), ctx.tz, rules(ctx).urge_every_days
    )
    handlers = await notify.handlers_of(ctx.services, [proposal.lead_department or ""])
    await notify.tell(
        ctx.services,
        proposal,
        f"urged:{count}",
        handlers,
        why="handler",
        count=count,
        by=ctx.user.name,
        buttons=[Button("proposals.button.show", f"/proposal show {proposal.id}")],
    )
    return Reply(
        text=ctx.t(
            "proposals.urged",
            id=proposal.id,
            department=proposal.lead_department,
            count=count,
            handlers=len(handlers),
        )
    )


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


SESSION_ARG = Arg("name", text(100), required=False, rest=True, metavar="SESSION")


async def _session_named(ctx: Ctx) -> CongressSession | None:
    """The session the caller named (`SESSION` or `--session NAME`), every session with
    `--all` (None), else the current one. Refuses an unknown name."""
    if ctx.args.get("all"):
        return None
    name = ctx.args["name"] or ctx.args.get("session")
    if not name:
        return await congress.current_session(ctx.services)
    session = await congress.session_by_name(ctx.services, name)
    if session is None:
        raise UserError("proposals.error.no_session", name=name)
    return session


SESSION_OPTIONS = [
    Option("all", flag=True),
    Option("session", text(100), metavar="NAME"),
]


@area.command("proposal stats", aliases=["提案 统计"], args=[SESSION_ARG], options=SESSION_OPTIONS)
async def stats(ctx: Ctx) -> Reply:
    session = await _session_named(ctx)
    figures = await statistics.stats(
        ctx.services, session.id if session else None, today(ctx), ctx.tz
    )
    fields = [
        (ctx.t("proposals.stats.total"), str(figures.total)),
        (ctx.t("proposals.stats.suggestions"), str(figures.suggestions)),
        (ctx.t("proposals.stats.acceptance"), percent(figures.acceptance_rate)),
        (ctx.t("proposals.stats.on_time"), percent(figures.on_time_rate)),
        (ctx.t("proposals.stats.satisfaction"), percent(figures.satisfaction_rate)),
    ]
    status = [
        f"{ctx.t(f'proposals.status.{k}')}: {v}" for k, v in sorted(figures.by_status.items())
    ]
    category = [
        f"{ctx.t(f'proposals.category.{k}')}: {v}" for k, v in sorted(figures.by_category.items())
    ]
    sections = [
        Section(ctx.t("proposals.stats.by_status"), status),
        Section(ctx.t("proposals.stats.by_category"), category),
    ]
    if figures.by_department:
        departments = [
            ctx.t(
                "proposals.stats.department_line",
                department=department,
                count=figures.by_department[department],
                statuses=ctx.join(
                    [
                        f"{ctx.t(f'proposals.status.{k}')} {v}"
                        for k, v in sorted(figures.by_department_status[department].items())
                    ]
                ),
            )
            for department in sorted(figures.by_department)
        ]
        sections.append(Section(ctx.t("proposals.stats.by_department"), departments))
    if figures.by_month:
        months = [
            ctx.t(
                "proposals.stats.month_line",
                month=month,
                on_time=m.replied_on_time,
                replied=m.replied,
                on_time_rate=percent(m.on_time_rate),
                satisfied=m.satisfied,
                rated=m.rated,
                satisfaction_rate=percent(m.satisfaction_rate),
            )
            for month, m in figures.by_month.items()
        ]
        sections.append(Section(ctx.t("proposals.stats.by_month"), months))
    title = ctx.t(
        "proposals.stats.title", session=session.name if session else ctx.t("proposals.all")
    )
    which = " --all" if ctx.args["all"] else f" {session.name}" if session else ""
    chart = Choice(ctx.t("proposals.button.chart"), "/proposal chart" + which)
    return Reply(title=title, fields=fields, sections=sections, choices=[chart])


@area.command("proposal chart", aliases=["提案 图表"], args=[SESSION_ARG], options=SESSION_OPTIONS)
async def chart(ctx: Ctx) -> Reply:
    """The figures of /proposal stats as a picture (the weekly digest carries it too)."""
    session = await _session_named(ctx)
    picture = await proposal_chart(ctx.services, ctx.catalog, ctx.lang, ctx.tz, today(ctx), session)
    name = session.name if session else ctx.t("proposals.all")
    if picture is None:
        return Reply(text=ctx.t("proposals.chart.nothing", session=name))
    return Reply(text=ctx.t("proposals.chart.caption", session=name), attachment=picture)
