"""Votes at a congress in chat: prepare, open with the quorum, a ballot with a confirmation
step, close, the scrutineers' confirmation, the announced result.

The choice travels only in the buttons' commands (`/vote choose`, then `/vote cast`): the
confirmation step is a reply, so no form state, outbox row or token holds what a person
chose.
"""

from __future__ import annotations

import asyncio

from bot.args import Arg, Option, choice, integer, text
from bot.errors import UserError
from bot.forms import Form, FormField, StartForm
from bot.permissions import roles
from bot.registry import Area
from bot.render import chart
from bot.replies import Attachment, Choice, Reply
from commands._backend import Ctx
from storage.meetings import quorum
from storage.meetings import service as meetings
from storage.models import Meeting, Vote, VoteCandidate
from storage.votes import rules
from storage.votes import service as votes

area = Area("votes")
VOTE_ID = Arg("id", integer(1), metavar="ID")
RUNNERS = ("officer", "admin")
CHOICE = Arg("choice", text(200), metavar="CHOICE")
# "on": every delegate invited may vote, signed in or not (the school's rules decide).
INVITED_MAY_VOTE = "UNIONBOT_VOTES_INVITED_MAY_VOTE"


def pairs(given: str | None) -> dict[str, str]:
    """ "D2001:教师代表 D2002:干部代表" as a mapping; refuses a word without its colon."""
    found = {}
    for token in (given or "").split():
        key, _, value = token.partition(":")
        if not key or not value:
            raise UserError("votes.error.pair", token=token)
        found[key] = value
    return found


def weight(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise UserError("votes.error.weight", value=value) from None
    if not 0 < number <= 100:
        raise UserError("votes.error.weight", value=value)
    return number


def require_runner(ctx: Ctx, meeting: Meeting) -> None:
    """The school's officers run a staff congress's votes; a sub-union's officer those of
    their own college congress (二级教代会)."""
    scopes = {None} if ctx.user.has("admin") else ctx.user.scopes("officer")
    if None in scopes:
        return
    if meeting.audience == "sub_union" and meeting.audience_scope in scopes:
        return
    raise UserError(
        "votes.error.not_your_meeting", id=meeting.id, mine=ctx.join(sorted(s for s in scopes if s))
    )


def choice_label(ctx: Ctx, vote: Vote, value: str, names: dict[int, str]) -> str:
    if vote.kind == "resolution":
        return ctx.t(f"votes.choice.{value}")
    if vote.kind == "evaluation":
        graded = votes.evaluation_marks(value)
        return ctx.join(
            [
                ctx.t(
                    "votes.count_line",
                    label=names.get(p, str(p)),
                    count=ctx.t(f"votes.grade.{votes.GRADES[g]}"),
                )
                for p, g in sorted(graded.items())
            ]
        )
    if value == "none":
        return ctx.t("votes.nobody")
    return ctx.join([names.get(int(p), p) for p in value.split(",")])


def rule_text(ctx: Ctx, vote: Vote) -> str:
    if vote.kind == "evaluation":
        return ctx.t("votes.rule.evaluation")
    if vote.kind == "election":
        return ctx.t("votes.rule.election", seats=vote.seats)
    share = ctx.t("votes.share.two_thirds" if vote.share == "2/3" else "votes.share.half")
    return ctx.t("votes.rule.resolution", share=share, base=ctx.t(f"votes.base.{vote.base}"))


# ---------------------------------------------------------------- for officers


@area.command(
    "vote new",
    aliases=["表决 新建", "新建表决"],
    args=[
        Arg("meeting", integer(1), metavar="MEETING_ID"),
        Arg(
            "kind",
            choice({k: k for k in votes.KINDS}),
            required=False,
            metavar="resolution|election|evaluation",
        ),
        Arg("title", text(200), required=False),
    ],
    options=[
        Option("text", text(2000), metavar="TEXT"),
        Option("named", flag=True),
        Option("seats", integer(1, 50), metavar="N", default=1),
        Option("candidates", text(2000), metavar='"STAFF_NO ..."'),
        Option("base", choice({b.value: b.value for b in rules.Base}), metavar="BASE"),
        Option("two-thirds", flag=True),
        Option("scrutineers", text(200), metavar='"STAFF_NO STAFF_NO"'),
        Option("minutes", integer(1, 24 * 60), metavar="N"),
        Option("categories", text(4000), metavar='"STAFF_NO:CATEGORY ..."'),
        Option("weights", text(500), metavar='"CATEGORY:WEIGHT ..."'),
    ],
    permission=roles(*RUNNERS),
)
async def new(ctx: Ctx) -> Reply | StartForm:
    """With a kind and a title, prepared at once; with the meeting alone, a form asks for
    the rest (step by step, or a dialog on Slack)."""
    meeting = await meetings.get(ctx.services, ctx.args["meeting"])
    require_runner(ctx, meeting)
    if not ctx.args.get("kind") or not ctx.args.get("title"):
        if ctx.args.get("kind") or ctx.args.get("title"):
            raise UserError("votes.error.kind_and_title")
        return StartForm(FORM, context={"meeting": meeting.id})
    # "STAFF_NO" for a candidate; "STAFF_NO:POST" for a person evaluated (O4001:工会主席).
    candidates_given = (ctx.args.get("candidates") or "").split()
    vote = await votes.create(
        ctx.services,
        meeting,
        kind=ctx.args["kind"],
        title=ctx.args["title"],
        text=ctx.args.get("text") or "",
        secret=not ctx.args.get("named"),
        seats=ctx.args.get("seats") or 1,
        candidate_nos=[token.split(":", 1)[0] for token in candidates_given] or None,
        posts={no: post for no, _, post in (t.partition(":") for t in candidates_given) if post},
        base=ctx.args.get("base") or rules.Base.EXPECTED,
        share="2/3" if ctx.args.get("two-thirds") else "1/2",
        scrutineer_nos=(ctx.args.get("scrutineers") or "").split() or None,
        signed_in_only=ctx.settings.value(INVITED_MAY_VOTE, "off").lower() != "on",
        minutes=ctx.args.get("minutes"),
        categories=pairs(ctx.args.get("categories")),
        weights={k: weight(v) for k, v in pairs(ctx.args.get("weights")).items()},
    )
    shown = await show_vote(ctx, vote)
    shown.text = ctx.t("votes.created", id=vote.id) + ("\n" + shown.text if shown.text else "")
    return shown


FORM = "vote"


async def from_form(ctx: Ctx, values: dict[str, object], context: dict[str, object]) -> Reply:
    meeting = await meetings.get(ctx.services, int(str(context["meeting"])))
    require_runner(ctx, meeting)
    given = str(values.get("candidates") or "").split()
    vote = await votes.create(
        ctx.services,
        meeting,
        kind=str(values["kind"]),
        title=str(values["title"]),
        text=str(values.get("text") or ""),
        secret=values.get("secret") != "named",
        seats=int(str(values.get("seats") or 1)),
        candidate_nos=[token.split(":", 1)[0] for token in given] or None,
        posts={no: post for no, _, post in (t.partition(":") for t in given) if post},
        share="2/3" if values.get("majority") == "two_thirds" else "1/2",
        scrutineer_nos=str(values.get("scrutineers") or "").split() or None,
        signed_in_only=ctx.settings.value(INVITED_MAY_VOTE, "off").lower() != "on",
    )
    shown = await show_vote(ctx, vote)
    shown.text = ctx.t("votes.created", id=vote.id) + ("\n" + shown.text if shown.text else "")
    return shown


area.form(
    Form(
        name=FORM,
        title_key="votes.form.title",
        fields=(
            FormField(
                "kind",
                "votes.form.kind",
                choices=tuple((k, f"votes.kind.{k}") for k in votes.KINDS),
            ),
            FormField("title", "votes.form.name", text(200)),
            FormField("text", "votes.form.text", text(2000), required=False, multiline=True),
            FormField(
                "candidates",
                "votes.form.candidates",
                text(2000),
                required=False,
                hint_key="votes.form.hint_candidates",
            ),
            FormField("seats", "votes.form.seats", integer(1, 50), required=False),
            FormField(
                "majority",
                "votes.form.majority",
                choices=(("half", "votes.share.half"), ("two_thirds", "votes.share.two_thirds")),
                required=False,
            ),
            FormField(
                "secret",
                "votes.form.secret",
                choices=(("secret", "votes.secret"), ("named", "votes.named")),
                required=False,
            ),
            FormField(
                "scrutineers",
                "votes.form.scrutineers",
                text(200),
                required=False,
                hint_key="votes.form.hint_scrutineers",
            ),
        ),
        on_submit=from_form,
        permission=roles(*RUNNERS),
    )
)


@area.command("vote show", aliases=["表决 查看"], args=[VOTE_ID])
async def show(ctx: Ctx) -> Reply:
    """The vote and its rules, shown before it opens."""
    return await show_vote(ctx, await votes.get(ctx.services, ctx.args["id"]))


async def show_vote(ctx: Ctx, vote: Vote) -> Reply:
    meeting = await meetings.get(ctx.services, vote.meeting_id)
    names = await votes.scrutineer_names(ctx.services, vote)
    figures = await votes.counts(ctx.services, vote, meeting)
    fields = [
        (ctx.t("votes.field.meeting"), meeting.title),
        (ctx.t("votes.field.kind"), ctx.t(f"votes.kind.{vote.kind}")),
        (ctx.t("votes.field.secret"), ctx.t("votes.secret" if vote.secret else "votes.named")),
        (ctx.t("votes.field.rule"), rule_text(ctx, vote)),
        (
            ctx.t("votes.field.voters"),
            ctx.t("votes.voters.signed_in" if vote.signed_in_only else "votes.voters.invited"),
        ),
        (ctx.t("votes.field.status"), ctx.t(f"votes.status.{vote.status}")),
        (
            ctx.t("votes.field.quorum"),
            ctx.t(
                "votes.quorum",
                present=figures.present,
                expected=figures.expected,
                needed=quorum.needed(figures.expected),
            ),
        ),
    ]
    if names:
        fields.append((ctx.t("votes.field.scrutineers"), ctx.join(names)))
    if vote.minutes:
        closes = (
            ctx.when(vote.closes_at)
            if vote.closes_at
            else ctx.t("votes.after", minutes=vote.minutes)
        )
        fields.append((ctx.t("votes.field.closes"), closes))
    items = [f"{c.position}. {c.name}" for c in await votes.candidates(ctx.services, vote.id)]
    choices = []
    if vote.status == "draft":
        choices.append(Choice(ctx.t("votes.button.open"), f"/vote open {vote.id}", "primary"))
    return Reply(title=vote.title, text=vote.text, fields=fields, items=items, choices=choices)


@area.command("vote open", aliases=["表决 开始"], args=[VOTE_ID], permission=roles(*RUNNERS))
async def open_(ctx: Ctx) -> Reply:
    vote = await votes.get(ctx.services, ctx.args["id"])
    require_runner(ctx, await meetings.get(ctx.services, vote.meeting_id))
    sent = await votes.open_vote(ctx.services, vote)
    return Reply(text=ctx.t("votes.opened", title=vote.title, count=sent))


@area.command("vote status", aliases=["表决 进度"], args=[VOTE_ID], permission=roles(*RUNNERS))
async def status(ctx: Ctx) -> Reply:
    """How many have voted and how many have not: never who."""
    vote = await votes.get(ctx.services, ctx.args["id"])
    require_runner(ctx, await meetings.get(ctx.services, vote.meeting_id))
    voted, eligible = await votes.status(ctx.services, vote)
    return Reply(
        text=ctx.t(
            "votes.progress",
            title=vote.title,
            voted=voted,
            waiting=max(0, eligible - voted),
            status=ctx.t(f"votes.status.{vote.status}"),
        )
    )


@area.command("vote close", aliases=["表决 结束"], args=[VOTE_ID], permission=roles(*RUNNERS))
async def close(ctx: Ctx) -> Reply:
    vote = await votes.get(ctx.services, ctx.args["id"])
    require_runner(ctx, await meetings.get(ctx.services, vote.meeting_id))
    await votes.close(ctx.services, vote)
    return Reply(text=ctx.t("votes.closed_now", title=vote.title))


@area.command("vote confirm", aliases=["表决 确认", "监票确认"], args=[VOTE_ID])
async def confirm(ctx: Ctx) -> Reply:
    """A scrutineer (监票人) confirms the tally; the result is announced when both have."""
    vote = await votes.get(ctx.services, ctx.args["id"])
    announced = await votes.confirm(ctx.services, vote, ctx.user.id)
    key = "votes.announced" if announced else "votes.confirmed_wait"
    return Reply(text=ctx.t(key, title=vote.title))


@area.command("vote results", aliases=["表决 结果"], args=[VOTE_ID])
async def results(ctx: Ctx) -> Reply:
    """Before the scrutineers confirm: only they and those who run the meeting."""
    vote = await votes.get(ctx.services, ctx.args["id"])
    meeting = await meetings.get(ctx.services, vote.meeting_id)
    if vote.status in ("draft", "open"):
        raise UserError("votes.error.not_yet", id=vote.id)
    if vote.status == "closed" and ctx.user.id not in vote.scrutineers:
        require_runner(ctx, meeting)
    found = await votes.tally(ctx.services, vote)
    items = []
    lines = [
        ctx.t(
            "votes.turnout",
            cast=found.cast,
            present=vote.present,
            expected=vote.expected,
        )
    ]
    if vote.kind == "resolution":
        for value in votes.RESOLUTION_CHOICES:
            label = ctx.t(f"votes.choice.{value}")
            items.append(ctx.t("votes.count_line", label=label, count=found.of(0, value)))
        verdict = found.verdict
        assert verdict is not None
        lines.append(
            ctx.t(
                "votes.passed" if verdict.passed else "votes.failed",
                needed=verdict.needed,
                rule=rule_text(ctx, vote),
            )
        )
    elif vote.kind == "evaluation":
        for c in await votes.candidates(ctx.services, vote.id):
            counts = [found.of(c.position, grade) for grade in votes.GRADES.values()]
            graded = sum(counts) or 1
            shares = ctx.join(
                [
                    ctx.t("votes.grade_count", label=ctx.t(f"votes.grade.{g}"), count=n)
                    for g, n in zip(votes.GRADES.values(), counts, strict=True)
                ]
            )
            items.append(
                ctx.t(
                    "votes.evaluation_line",
                    name=c.name + (ctx.paren(c.post) if c.post else ""),
                    shares=shares,
                    excellent=f"{counts[0] / graded:.0%}",
                    competent=f"{(counts[0] + counts[1]) / graded:.0%}",
                )
            )
            for category, size in sorted(found.categories.items()):
                items.append(
                    ctx.t(
                        "votes.category_line",
                        category=category,
                        n=size,
                        excellent=f"{found.share(c.position, 1, category):.0%}",
                        competent=f"{found.share(c.position, 2, category):.0%}",
                    )
                )
            weighted = found.weighted(c.position, 1)
            if weighted is not None:
                items.append(
                    ctx.t(
                        "votes.weighted_line",
                        excellent=f"{weighted:.0%}",
                        competent=f"{found.weighted(c.position, 2) or 0:.0%}",
                    )
                )
        if vote.categories and not found.categories:
            lines.append(ctx.t("votes.categories_hidden", most=votes.MIN_GROUP))
    else:
        election = found.election
        assert election is not None
        everyone = await votes.candidates(ctx.services, vote.id)
        names = {c.position: c.name for c in everyone}
        for c in everyone:
            mark = " ✓" if c.position in election.elected else ""
            count = found.of(c.position, "yes")
            items.append(ctx.t("votes.count_line", label=c.name, count=count) + mark)
        lines.append(
            ctx.t(
                "votes.elected",
                names=ctx.join([names[p] for p in election.elected]) or "—",
                needed=election.needed,
            )
        )
        if election.tied:
            lines.append(ctx.t("votes.tied", names=ctx.join([names[p] for p in election.tied])))
        elif election.short:
            lines.append(ctx.t("votes.short", count=election.short))
    if vote.status == "closed":
        lines.append(ctx.t("votes.waiting_scrutineers"))
    choices = []
    if vote.kind == "election" and election_open_seats(found) and vote.status == "announced":
        choices.append(Choice(ctx.t("votes.button.runoff"), f"/vote runoff {vote.id}"))
    bars = chart_bars(ctx, found, await votes.candidates(ctx.services, vote.id))
    figure = chart.figure(ctx.t("votes.results_title", title=vote.title), [bars])
    content = await asyncio.to_thread(chart.png, figure)
    return Reply(
        title=ctx.t("votes.results_title", title=vote.title),
        text="\n".join(lines),
        items=items,
        choices=choices,
        attachment=Attachment(f"vote-{vote.id}.png", content, "image/png", inline=True),
    )


def chart_bars(ctx: Ctx, found: votes.Tally, everyone: list[VoteCandidate]) -> chart.Bars:
    """The counts the text gives, as bars: per choice, or per candidate."""
    if found.vote.kind == "evaluation":
        return chart.Bars(
            found.vote.title[:40],
            [c.name for c in everyone],
            [
                (
                    ctx.t(f"votes.grade.{grade}"),
                    [float(found.of(c.position, grade)) for c in everyone],
                )
                for grade in votes.GRADES.values()
            ],
            stacked=True,
        )
    if found.vote.kind == "resolution":
        labels = [ctx.t(f"votes.choice.{v}") for v in votes.RESOLUTION_CHOICES]
        numbers: list[float | None] = [float(found.of(0, v)) for v in votes.RESOLUTION_CHOICES]
    else:
        labels = [c.name for c in everyone]
        numbers = [float(found.of(c.position, "yes")) for c in everyone]
    return chart.Bars(found.vote.title[:40], labels, [(ctx.t("votes.ballots"), numbers)])


def election_open_seats(found: votes.Tally) -> bool:
    return found.election is not None and not found.election.complete


@area.command("vote runoff", aliases=["另行选举"], args=[VOTE_ID], permission=roles(*RUNNERS))
async def runoff(ctx: Ctx) -> Reply:
    """A further round (另行选举) for the seats left open, among the tied candidates, or
    among those not elected when too few reached the majority."""
    vote = await votes.get(ctx.services, ctx.args["id"])
    meeting = await meetings.get(ctx.services, vote.meeting_id)
    require_runner(ctx, meeting)
    made = await votes.runoff(ctx.services, vote)
    return Reply(text=ctx.t("votes.runoff_made", id=made.id, title=made.title, seats=made.seats))


# ---------------------------------------------------------------- for delegates


@area.command("votes", aliases=["表决", "投票", "vote list", "表决 列表"], private=True)
async def mine(ctx: Ctx) -> Reply:
    found = await votes.open_for(ctx.services, ctx.user.id)
    if not found:
        return Reply(title=ctx.t("votes.mine_title"), text=ctx.t("votes.none_open"))
    return Reply(
        title=ctx.t("votes.mine_title"),
        items=[
            ctx.t(
                "votes.line",
                id=v.id,
                title=v.title,
                meeting=m.title,
                state=ctx.t("votes.state.voted" if done else "votes.state.waiting"),
            )
            for v, m, done in found
        ],
        choices=[
            Choice(ctx.t("votes.button.ballot_id", id=v.id), f"/vote ballot {v.id}")
            for v, _m, done in found
            if not done
        ][:5],
    )


@area.command(
    "vote ballot",
    aliases=["表决 选票", "选票"],
    args=[VOTE_ID, Arg("marked", text(200), required=False, metavar="MARKED")],
    private=True,
)
async def ballot(ctx: Ctx) -> Reply:
    """The ballot: a button per choice; in an election, a checklist (MARKED: the positions
    ticked so far, carried by the buttons) and a button to go on."""
    vote = await votes.get(ctx.services, ctx.args["id"])
    await votes.may_vote(ctx.services, vote, ctx.user.id)
    footer = ctx.t("votes.secret_note" if vote.secret else "votes.named_note")
    if vote.kind == "resolution":
        return Reply(
            title=ctx.t("votes.ballot_title", title=vote.title),
            text=vote.text,
            choices=[
                Choice(ctx.t(f"votes.choice.{c}"), f"/vote choose {vote.id} {c}")
                for c in votes.RESOLUTION_CHOICES
            ],
            footer=footer,
            private=True,
        )
    everyone = await votes.candidates(ctx.services, vote.id)
    raw = ctx.args["marked"] or ""
    if vote.kind == "evaluation":
        return evaluation_ballot(ctx, vote, everyone, raw, footer)
    marked = sorted(
        {int(p) for p in raw.split(",") if p.isdigit() and 1 <= int(p) <= len(everyone)}
    )
    items, choices = [], []
    for c in everyone:
        ticked = c.position in marked
        items.append(("☑ " if ticked else "☐ ") + f"{c.position}. {c.name}")
        after = sorted(set(marked) ^ {c.position})
        if ticked or len(marked) < vote.seats:
            label = ("☑ " if ticked else "☐ ") + c.name
            choices.append(
                Choice(label, f"/vote ballot {vote.id} {','.join(map(str, after))}".rstrip())
            )
    chosen = ",".join(map(str, marked)) or "none"
    choices.append(
        Choice(
            ctx.t("votes.button.go_on", count=len(marked)),
            f"/vote choose {vote.id} {chosen}",
            "primary",
        )
    )
    return Reply(
        title=ctx.t("votes.ballot_title", title=vote.title),
        text=ctx.t("votes.mark_up_to", seats=vote.seats),
        items=items,
        choices=choices,
        footer=footer,
        private=True,
    )


def evaluation_ballot(
    ctx: Ctx, vote: Vote, everyone: list[VoteCandidate], raw: str, footer: str
) -> Reply:
    """One person at a time: the grades as buttons; the grades given so far ride along in
    the buttons' commands, so nothing is stored until the ballot is cast."""
    graded = votes.evaluation_marks(raw) if raw else {}
    items = []
    for c in everyone:
        line = f"{c.position}. {c.name}" + (ctx.paren(c.post) if c.post else "")
        if c.position in graded:
            line += " · " + ctx.t(f"votes.grade.{votes.GRADES[graded[c.position]]}")
        items.append(line)
    so_far = ",".join(f"{p}{g}" for p, g in sorted(graded.items()))
    waiting = [c for c in everyone if c.position not in graded]
    if waiting:
        person = waiting[0]
        choices = [
            Choice(
                ctx.t(f"votes.grade.{grade}"),
                f"/vote ballot {vote.id} "
                + ",".join(filter(None, [so_far, f"{person.position}{letter}"])),
            )
            for letter, grade in votes.GRADES.items()
        ]
        shown = ctx.t("votes.grade_whom", name=person.name, n=person.position, count=len(everyone))
    else:
        go_on = ctx.t("votes.button.go_on", count=len(graded))
        choices = [Choice(go_on, f"/vote choose {vote.id} {so_far}", "primary")]
        shown = ctx.t("votes.graded_all")
    if graded:
        choices.append(Choice(ctx.t("votes.button.again"), f"/vote ballot {vote.id}"))
    return Reply(
        title=ctx.t("votes.ballot_title", title=vote.title),
        text=shown,
        items=items,
        choices=choices,
        footer=footer,
        private=True,
    )


@area.command(
    "vote choose", aliases=["表决 选择"], args=[VOTE_ID, CHOICE], private=True, hidden=True
)
async def choose(ctx: Ctx) -> Reply:
    """The confirmation step: what I chose, and the button that casts it."""
    vote = await votes.get(ctx.services, ctx.args["id"])
    await votes.may_vote(ctx.services, vote, ctx.user.id)
    names = {c.position: c.name for c in await votes.candidates(ctx.services, vote.id)}
    value = ctx.args["choice"].strip()
    votes.marks_for(vote, value, len(names))  # refuses what the ballot cannot say
    return Reply(
        title=ctx.t("votes.confirm_title", title=vote.title),
        text=ctx.t("votes.you_chose", choice=choice_label(ctx, vote, value, names)),
        footer=ctx.t("votes.final_like_paper"),
        choices=[
            Choice(ctx.t("votes.button.cast"), f"/vote cast {vote.id} {value}", "primary"),
            Choice(ctx.t("votes.button.again"), f"/vote ballot {vote.id}"),
        ],
        private=True,
    )


@area.command("vote cast", aliases=["表决 投出"], args=[VOTE_ID, CHOICE], private=True, hidden=True)
async def cast(ctx: Ctx) -> Reply:
    vote = await votes.get(ctx.services, ctx.args["id"])
    value = ctx.args["choice"].strip()
    await votes.cast(ctx.services, vote, ctx.user.id, value)
    names = (
        {}
        if vote.kind == "resolution"
        else {c.position: c.name for c in await votes.candidates(ctx.services, vote.id)}
    )
    return Reply(
        text=ctx.t(
            "votes.cast_done", title=vote.title, choice=choice_label(ctx, vote, value, names)
        ),
        private=True,
    )
