"""Surveys in chat: drafting from a file, answering question by question with buttons,
results with a chart.

Answering needs no form state: every button carries the survey, the response's key and
the question, so the same press works on any platform and any instance, and for an
anonymous survey nothing on the bot's side remembers whose key it is.
"""

from __future__ import annotations

import asyncio

from bot.args import Arg, integer, text
from bot.errors import UserError
from bot.forms import Form, FormField, StartForm
from bot.permissions import roles
from bot.registry import Area
from bot.render import chart
from bot.replies import Attachment, Choice, Reply, Section
from commands._backend import Ctx
from storage.models import Survey, SurveyQuestion, SurveyResponse
from storage.surveys import definition
from storage.surveys import service as surveys
from storage.surveys.definition import SCALE

area = Area("surveys")
SURVEY_ID = Arg("id", integer(1), metavar="ID")
KEY = Arg("key", text(32), metavar="KEY")
QUESTION = Arg("question", integer(1, definition.MAX_QUESTIONS), metavar="N")
RUNNERS = ("officer", "admin")
FILE_LIMIT = 64 * 1024


def officer_scopes(ctx: Ctx) -> set[str | None]:
    """The scopes the caller runs surveys for: None is the whole school."""
    if ctx.user.has("admin"):
        return {None}
    return ctx.user.scopes("officer")


def runs(ctx: Ctx, survey: Survey) -> bool:
    """The school's officers run every survey; a sub-union's officer only their own."""
    scopes = officer_scopes(ctx)
    return None in scopes or survey.owner_scope in scopes


def require_runner(ctx: Ctx, survey: Survey) -> None:
    if not runs(ctx, survey):
        raise UserError("surveys.error.not_yours", id=survey.id)


# ---------------------------------------------------------------- for everyone


@area.command("surveys", aliases=["问卷", "调查问卷"], private=True)
async def mine(ctx: Ctx) -> Reply:
    found = await surveys.open_for(ctx.services, ctx.user.id)
    if not found:
        return Reply(title=ctx.t("surveys.mine_title"), text=ctx.t("surveys.none_open"))
    items, choices = [], []
    for listed in found:
        s = listed.survey
        state = ctx.t("surveys.state.answered" if listed.answered else "surveys.state.waiting")
        kind = ctx.t("surveys.kind.anonymous" if s.anonymous else "surveys.kind.named")
        items.append(
            ctx.t("surveys.line", id=s.id, title=s.title, state=state, kind=kind)
            + ctx.paren(ctx.t("surveys.closes", when=ctx.when(s.closes_at)))
        )
        if not listed.answered:
            choices.append(Choice(ctx.t("surveys.button.fill_id", id=s.id), f"/survey fill {s.id}"))
    return Reply(
        title=ctx.t("surveys.mine_title"),
        items=items,
        choices=choices[:5],
        footer=ctx.t("surveys.mine_footer"),
    )


@area.command(
    "survey fill",
    ends_form=True,
    aliases=["填写问卷", "问卷 填写"],
    args=[SURVEY_ID, Arg("key", text(32), required=False, metavar="KEY")],
    private=True,
)
async def fill(ctx: Ctx) -> Reply | StartForm:
    """Start (or, with the key from the receipt, change) my answers."""
    survey = await surveys.get(ctx.services, ctx.args["id"])
    reply = await surveys.start(ctx.services, survey, ctx.user.id, ctx.args["key"])
    questions = await surveys.questions(ctx.services, survey.id)
    given = await surveys.answers(ctx.services, reply.key)
    first = next((q for q in questions if q.id not in given), questions[0])
    shown = await ask(ctx, survey, reply, first, questions)
    intro = survey.intro if not given else ""
    target = shown.intro if isinstance(shown, StartForm) else shown
    if intro and target is not None:
        target.text = f"{intro}\n\n{target.text}"
    return shown


@area.command(
    "survey question",
    ends_form=True,
    aliases=["问卷 题目"],
    args=[SURVEY_ID, KEY, QUESTION],
    private=True,
    hidden=True,
)
async def question(ctx: Ctx) -> Reply | StartForm:
    """What the "previous" and "next" buttons run."""
    survey, reply, questions = await _response(ctx)
    return await ask(ctx, survey, reply, _nth(questions, ctx.args["question"]), questions)


@area.command(
    "survey answer",
    ends_form=True,
    aliases=["问卷 回答"],
    args=[SURVEY_ID, KEY, QUESTION, Arg("value", text(definition.TEXT_LIMIT), rest=True)],
    private=True,
)
async def answer(ctx: Ctx) -> Reply | StartForm:
    """Answer question N: the option's number, a number 1–5, or the text."""
    survey, reply, questions = await _response(ctx)
    asked = _nth(questions, ctx.args["question"])
    await surveys.answer(ctx.services, survey, reply, asked, ctx.args["value"])
    if asked.kind == "multiple":  # stay: more may be picked
        return await ask(ctx, survey, reply, asked, questions)
    return await _after(ctx, survey, reply, asked, questions)


@area.command(
    "survey skip",
    ends_form=True,
    aliases=["问卷 跳过"],
    args=[SURVEY_ID, KEY, QUESTION],
    private=True,
    hidden=True,
)
async def skip(ctx: Ctx) -> Reply | StartForm:
    """Leave an optional question unanswered (taking back an answer given)."""
    survey, reply, questions = await _response(ctx)
    asked = _nth(questions, ctx.args["question"])
    if asked.required:
        raise UserError("surveys.error.required", number=asked.position)
    await surveys.clear(ctx.services, survey, reply, asked)
    return await _after(ctx, survey, reply, asked, questions)


@area.command(
    "survey submit",
    aliases=["提交问卷", "问卷 提交"],
    args=[SURVEY_ID, KEY],
    private=True,
    ends_form=True,
)
async def submit(ctx: Ctx) -> Reply:
    survey, reply, _questions = await _response(ctx)
    first = await surveys.submit(ctx.services, survey, reply, ctx.user.id)
    change = (
        f"/survey fill {survey.id} {reply.key}" if survey.anonymous else f"/survey fill {survey.id}"
    )
    key = "surveys.submitted" if first else "surveys.resubmitted"
    footer = ctx.t(
        "surveys.change_anonymous" if survey.anonymous else "surveys.change_named",
        when=ctx.when(survey.closes_at),
        command=change,
    )
    return Reply(text=ctx.t(key, title=survey.title), footer=footer)


async def _response(ctx: Ctx) -> tuple[Survey, SurveyResponse, list[SurveyQuestion]]:
    survey = await surveys.get(ctx.services, ctx.args["id"])
    reply = await surveys.response(ctx.services, survey, ctx.user.id, ctx.args["key"])
    return survey, reply, await surveys.questions(ctx.services, survey.id)


def _nth(questions: list[SurveyQuestion], number: int) -> SurveyQuestion:
    if not 1 <= number <= len(questions):
        raise UserError("surveys.error.no_question", number=number, count=len(questions))
    return questions[number - 1]


def _hint(ctx: Ctx, q: SurveyQuestion) -> str:
    if q.kind == "multiple":
        return ctx.t("surveys.hint.multiple", most=q.max_choices or len(q.options))
    if q.kind == "text":
        return ctx.t("surveys.hint.text", most=q.max_length or definition.TEXT_LIMIT)
    return ctx.t(f"surveys.hint.{q.kind}", most=SCALE)


async def ask(
    ctx: Ctx,
    survey: Survey,
    reply: SurveyResponse,
    q: SurveyQuestion,
    questions: list[SurveyQuestion],
) -> Reply | StartForm:
    """One question, with what I answered so far marked, and buttons for every choice; a
    free-text question opens a one-field form, so the answer is simply the next message
    (a modal on Slack when a button led here)."""
    given = await surveys.answers(ctx.services, reply.key)
    mine = {a.choice for a in given.get(q.id, [])}
    base = f"{survey.id} {reply.key} {q.position}"
    labels = list(q.options) if q.kind in ("single", "multiple") else []
    if q.kind == "scale":
        labels = [ctx.t("surveys.scale_point", n=n) for n in range(1, SCALE + 1)]
    items = [("✓ " if n in mine else "") + f"{n}. {label}" for n, label in enumerate(labels, 1)]
    choices = [
        Choice(
            ("✓ " if n in mine else "") + (label if len(label) <= 24 else label[:23] + "…"),
            f"/survey answer {base} {n}",
        )
        for n, label in enumerate(labels, 1)
    ]
    lines = [q.prompt, _hint(ctx, q)]
    if q.kind == "text":
        typed = given.get(q.id, [])
        if typed and typed[0].text:
            lines.append(ctx.t("surveys.your_text", text=typed[0].text))
        lines.append(ctx.t("surveys.type_text"))
    if not q.required:
        choices.append(Choice(ctx.t("surveys.button.skip"), f"/survey skip {base}"))
    if q.position > 1:
        back = f"/survey question {survey.id} {reply.key} {q.position - 1}"
        choices.append(Choice(ctx.t("surveys.button.previous"), back))
    if q.position < len(questions) and (q.kind in ("multiple", "text") or mine):
        ahead = f"/survey question {survey.id} {reply.key} {q.position + 1}"
        choices.append(Choice(ctx.t("surveys.button.next"), ahead))
    if q.position == len(questions) and (mine or not q.required):
        submit_command = f"/survey submit {survey.id} {reply.key}"
        choices.append(Choice(ctx.t("surveys.button.submit"), submit_command, style="primary"))
    footer = ctx.t("surveys.anonymous_note" if survey.anonymous else "surveys.named_note")
    shown = Reply(
        title=ctx.t(
            "surveys.question_title", title=survey.title, n=q.position, count=len(questions)
        ),
        text="\n".join(lines),
        items=items,
        choices=choices,
        footer=footer,
        private=True,
    )
    if q.kind != "text":
        return shown
    context = {"survey": survey.id, "key": reply.key, "question": q.position}
    return StartForm(TEXT_FORM, context=context, intro=shown)


TEXT_FORM = "survey-text"


async def text_given(
    ctx: Ctx, values: dict[str, object], context: dict[str, object]
) -> Reply | StartForm:
    """The free-text answer, typed as the next message (or in the Slack modal)."""
    survey = await surveys.get(ctx.services, int(str(context["survey"])))
    reply = await surveys.response(ctx.services, survey, ctx.user.id, str(context["key"]))
    questions = await surveys.questions(ctx.services, survey.id)
    asked = _nth(questions, int(str(context["question"])))
    await surveys.answer(ctx.services, survey, reply, asked, str(values["text"]))
    return await _after(ctx, survey, reply, asked, questions)


area.form(
    Form(
        name=TEXT_FORM,
        title_key="surveys.form.title",
        fields=(
            FormField(
                "text",
                "surveys.form.text",
                convert=text(definition.TEXT_LIMIT),
                multiline=True,
                hint_key="surveys.form.text_hint",
            ),
        ),
        on_submit=text_given,
    )
)


async def _after(
    ctx: Ctx,
    survey: Survey,
    reply: SurveyResponse,
    asked: SurveyQuestion,
    questions: list[SurveyQuestion],
) -> Reply | StartForm:
    """What follows an answer: the next question, or the review after the last."""
    following = [q for q in questions if q.position > asked.position]
    if following:
        return await ask(ctx, survey, reply, following[0], questions)
    return await review(ctx, survey, reply, questions)


async def review(
    ctx: Ctx, survey: Survey, reply: SurveyResponse, questions: list[SurveyQuestion]
) -> Reply:
    """After the last question: what I answered, and the button to hand it in."""
    given = await surveys.answers(ctx.services, reply.key)
    items = []
    for q in questions:
        rows = given.get(q.id, [])
        if q.kind == "text":
            shown = rows[0].text or "" if rows else ""
        elif q.kind == "scale":
            shown = ", ".join(str(a.choice) for a in rows)
        else:
            shown = ctx.join([q.options[a.choice - 1] for a in rows if a.choice <= len(q.options)])
        items.append(f"{q.position}. {q.prompt}: {shown or ctx.t('surveys.unanswered')}")
    choices = [
        Choice(
            ctx.t("surveys.button.submit"), f"/survey submit {survey.id} {reply.key}", "primary"
        ),
        Choice(ctx.t("surveys.button.first"), f"/survey question {survey.id} {reply.key} 1"),
    ]
    key = "surveys.review_again" if reply.submitted else "surveys.review"
    return Reply(
        title=ctx.t("surveys.review_title", title=survey.title),
        items=items,
        text=ctx.t(key),
        choices=choices,
        private=True,
    )


# ---------------------------------------------------------------- for officers


@area.command(
    "survey new",
    aliases=["问卷 新建", "新建问卷"],
    permission=roles(*RUNNERS),
    takes_files=True,
    private=True,
)
async def new(ctx: Ctx) -> Reply:
    """A draft from the survey file sent with the command (TOML; `unionbot surveys create
    FILE` takes the same)."""
    sent = [f for f in ctx.message.files if not f.refused]
    if not sent:
        return Reply(text=ctx.t("surveys.new_how"), error=True)
    raw = sent[0].content
    if len(raw) > FILE_LIMIT:
        raise UserError("surveys.error.file_too_big", most=FILE_LIMIT // 1024)
    try:
        source = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UserError("surveys.error.not_utf8") from None
    scopes = officer_scopes(ctx)
    owner = "" if None in scopes else sorted(s for s in scopes if s)[0]
    made = await create_from(ctx, source, owner)
    return made


async def create_from(ctx: Ctx, source: str, owner: str) -> Reply:
    try:
        parsed = definition.parse(source, ctx.tz)
    except definition.DefinitionErrors as exc:
        return Reply(
            title=ctx.t("surveys.def.title_errors", count=len(exc.problems)),
            items=[
                ctx.t("surveys.def.at_line", line=p.line, what=ctx.t(p.key, **p.params))
                for p in exc.problems
            ],
            error=True,
        )
    survey = await surveys.create(ctx.services, parsed, owner_scope=owner, created_by=ctx.user.id)
    return Reply(
        text=ctx.t(
            "surveys.created",
            id=survey.id,
            title=survey.title,
            count=len(parsed.questions),
            opens=ctx.when(survey.opens_at),
            closes=ctx.when(survey.closes_at),
        ),
        choices=[
            Choice(ctx.t("surveys.button.preview"), f"/survey show {survey.id}"),
            Choice(ctx.t("surveys.button.publish"), f"/survey publish {survey.id}", "primary"),
        ],
    )


@area.command("survey list", aliases=["问卷 列表"], permission=roles(*RUNNERS), instead="surveys")
async def listing(ctx: Ctx) -> Reply:
    found = await surveys.managed_by(ctx.services, officer_scopes(ctx))
    if not found:
        return Reply(title=ctx.t("surveys.list_title"), text=ctx.t("surveys.none_managed"))
    return Reply(
        title=ctx.t("surveys.list_title"),
        items=[
            ctx.t(
                "surveys.line",
                id=s.id,
                title=s.title,
                state=ctx.t(f"surveys.status.{s.status}"),
                kind=ctx.t("surveys.kind.anonymous" if s.anonymous else "surveys.kind.named"),
            )
            for s in found
        ],
        footer=ctx.t("surveys.list_footer"),
    )


@area.command("survey show", aliases=["问卷 查看"], args=[SURVEY_ID])
async def show(ctx: Ctx) -> Reply:
    """A survey's questions and state: for those asked, and for those who run it."""
    survey = await surveys.get(ctx.services, ctx.args["id"])
    runner = runs(ctx, survey)
    asked = await surveys.is_asked(ctx.services, survey, ctx.user.id)
    if not runner and not asked:  # an officer of another sub-union may still be asked
        raise UserError("surveys.error.not_asked", id=survey.id)
    questions = await surveys.questions(ctx.services, survey.id)
    audience = ctx.t(f"surveys.audience.{survey.audience}", scope=survey.audience_scope)
    fields = [
        (ctx.t("surveys.field.status"), ctx.t(f"surveys.status.{survey.status}")),
        (ctx.t("surveys.field.audience"), audience),
        (
            ctx.t("surveys.field.kind"),
            ctx.t("surveys.kind.anonymous" if survey.anonymous else "surveys.kind.named"),
        ),
        (ctx.t("surveys.field.opens"), ctx.when(survey.opens_at)),
        (ctx.t("surveys.field.closes"), ctx.when(survey.closes_at)),
    ]
    items = [f"{q.position}. {q.prompt} · {_hint(ctx, q)}" for q in questions]
    choices = []
    if runner and survey.status == "draft":
        choices.append(Choice(ctx.t("surveys.button.publish"), f"/survey publish {survey.id}"))
    if runner and survey.status in ("open", "closed"):
        choices.append(Choice(ctx.t("surveys.button.results"), f"/survey results {survey.id}"))
    if survey.status == "open" and asked:
        choices.append(Choice(ctx.t("surveys.button.fill"), f"/survey fill {survey.id}"))
    return Reply(
        title=survey.title,
        text=survey.intro,
        fields=fields,
        items=items,
        choices=choices,
    )


@area.command("survey publish", aliases=["问卷 发布"], args=[SURVEY_ID], permission=roles(*RUNNERS))
async def publish(ctx: Ctx) -> Reply:
    survey = await surveys.get(ctx.services, ctx.args["id"])
    require_runner(ctx, survey)
    asked = await surveys.publish(ctx.services, survey)
    if survey.status == "open":
        return Reply(text=ctx.t("surveys.published", title=survey.title, count=asked))
    return Reply(
        text=ctx.t("surveys.scheduled", title=survey.title, when=ctx.when(survey.opens_at))
    )


@area.command("survey close", aliases=["问卷 结束"], args=[SURVEY_ID], permission=roles(*RUNNERS))
async def close(ctx: Ctx) -> Reply:
    survey = await surveys.get(ctx.services, ctx.args["id"])
    require_runner(ctx, survey)
    await surveys.close(ctx.services, survey)
    return Reply(
        text=ctx.t("surveys.closed_now", title=survey.title),
        choices=[Choice(ctx.t("surveys.button.results"), f"/survey results {survey.id}")],
    )


def chart_panels(ctx: Ctx, found: surveys.Results) -> list[chart.Bars]:
    """One panel per choice question (a scale's points are its choices): the same counts
    the text gives."""
    panels = []
    for r in found.questions:
        q = r.question
        if q.kind == "text":
            continue
        labels = list(q.options) if q.kind != "scale" else [str(n) for n in range(1, SCALE + 1)]
        panels.append(
            chart.Bars(
                f"{q.position}. {q.prompt}"[:40],
                [label[:12] for label in labels],
                [(ctx.t("surveys.result.series"), [float(c) for c in r.counts])],
            )
        )
    return panels


def percent(part: int, whole: int) -> str:
    return f"{part / whole:.0%}" if whole else "—"


@area.command(
    "survey results",
    aliases=["问卷 结果"],
    args=[SURVEY_ID],
    permission=roles(*RUNNERS),
    private=True,
)
async def results(ctx: Ctx) -> Reply:
    """Counts and shares per choice, the response rate, a breakdown by sub-union where each
    group is big enough, and the chart; free-text answers are in the export."""
    survey = await surveys.get(ctx.services, ctx.args["id"])
    require_runner(ctx, survey)
    found = await surveys.results(ctx.services, survey)
    sections = []
    for r in found.questions:
        q = r.question
        lines = []
        labels = list(q.options) if q.kind != "scale" else [str(n) for n in range(1, SCALE + 1)]
        if q.kind == "text":
            lines.append(ctx.t("surveys.result.texts", count=len(r.texts)))
        else:
            for label, count in zip(labels, r.counts, strict=True):
                lines.append(
                    ctx.t(
                        "surveys.result.option",
                        label=label,
                        count=count,
                        share=percent(count, r.answered),
                    )
                )
            if r.mean is not None:
                lines.append(ctx.t("surveys.result.mean", mean=f"{r.mean:.2f}"))
            for group, counts in sorted(r.by_group.items()):
                shares = ctx.join([f"{label} {c}" for label, c in zip(labels, counts, strict=True)])
                lines.append(
                    ctx.t("surveys.result.group", group=group, n=found.groups[group], shares=shares)
                )
        sections.append(
            Section(
                ctx.t(
                    "surveys.result.question", n=q.position, prompt=q.prompt, answered=r.answered
                ),
                items=lines,
            )
        )
    panels = chart_panels(ctx, found)
    hidden = found.hidden_groups
    footer = ctx.t("surveys.result.hidden", count=hidden, most=survey.min_group) if hidden else None
    attachment = None
    if panels and found.responded:
        fig = chart.figure(ctx.t("surveys.result.chart_title", title=survey.title), panels[:6])
        content = await asyncio.to_thread(chart.png, fig)
        attachment = Attachment(f"survey-{survey.id}.png", content, "image/png", inline=True)
    return Reply(
        title=ctx.t("surveys.result.title", title=survey.title),
        text=ctx.t(
            "surveys.result.rate",
            responded=found.responded,
            asked=found.asked,
            share=percent(found.responded, found.asked),
            status=ctx.t(f"surveys.status.{survey.status}"),
        ),
        sections=sections,
        footer=footer,
        attachment=attachment,
        private=True,
    )
