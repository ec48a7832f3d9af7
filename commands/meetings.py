"""Congress meetings in chat: create, change, cancel, answer, leave, sign in, roll, deliveries."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from bot.args import Arg, Invalid, Option, choice, integer, local_datetime, text
from bot.errors import UserError
from bot.forms import Form, FormField, StartForm
from bot.permissions import LINKED, require, roles
from bot.registry import Area
from bot.replies import Choice, Reply, Section
from commands._backend import Ctx, catalogue_words
from storage import outbox
from storage.clock import utcnow
from storage.meetings import checkin
from storage.meetings import service as meetings
from storage.models import Attendance, Meeting
from storage.outbox import Button
from storage.votes import service as votes

area = Area("meetings")
# A delivery state by its code or its name in either language ("待发送", "pending").
DELIVERY_STATUS_WORDS = {s: s for s in outbox.STATUSES} | {
    word: value
    for word, value in catalogue_words("meetings", "delivery").items()
    if value in outbox.STATUSES
}

MEETING_ID = Arg("id", integer(1), metavar="ID")
FORM = "meeting"


_OFFSET = re.compile(r"(\d+)\s*(d|h|m|天|小时|分钟?)", re.IGNORECASE)
_UNIT = {"d": 1440, "天": 1440, "h": 60, "小时": 60, "m": 1, "分": 1, "分钟": 1}


def offsets(value: str) -> list[int]:
    """'7d 1d 2h' (or 7天 1天 2小时): reminder offsets before the start, in minutes."""
    found = _OFFSET.findall(value)
    if not found or _OFFSET.sub("", value).strip(" ,，;；"):
        raise Invalid("meetings.error.offsets", value=value)
    return sorted({int(n) * _UNIT[unit.lower()] for n, unit in found}, reverse=True)


def links(value: str) -> list[str]:
    found = [part for part in re.split(r"[\s,，]+", value.strip()) if part]
    if not all(part.startswith(("http://", "https://")) for part in found):
        raise Invalid("meetings.error.links")
    return found


def default_reminders(ctx: Ctx) -> list[int]:
    """`UNIONBOT_MEETING_REMINDERS` (like '7d 1d 2h', checked at start-up), else 7 days,
    1 day and 2 hours."""
    configured = ctx.settings.value("UNIONBOT_MEETING_REMINDERS")
    return offsets(configured) if configured else list(meetings.DEFAULT_REMINDERS)


def aware(ctx: Ctx, wall: datetime) -> datetime:
    return wall.replace(tzinfo=ctx.tz)


def school_level(ctx: Ctx) -> bool:
    return None in ctx.user.scopes("officer") or ctx.user.has("admin")


def own_sub_unions(ctx: Ctx) -> list[str]:
    return sorted(s for s in ctx.user.scopes("officer") if s)


def may_invite(ctx: Ctx, audience: str, _earlier: dict[str, Any]) -> None:
    """The first step: a sub-union's officer may call only their own sub-union."""
    if audience != "sub_union" and not school_level(ctx):
        raise Invalid("meetings.error.sub_union_only", mine=ctx.join(own_sub_unions(ctx)))


def may_call_for(ctx: Ctx, scope: str | None, earlier: dict[str, Any]) -> None:
    """The second step: which sub-union; an officer of another one is told at once."""
    if earlier.get("audience") != "sub_union" or school_level(ctx):
        return
    if (scope or "") not in own_sub_unions(ctx):
        raise Invalid(
            "meetings.error.not_your_sub_union",
            mine=ctx.join(own_sub_unions(ctx)),
            scope=scope or "—",
        )


async def save(ctx: Ctx, values: dict[str, Any], _context: dict[str, Any]) -> Reply:
    # A sub-union's officer calls its own college congress; the rest is for school-level officers.
    if values["audience"] == "sub_union":
        require(ctx.user, "officer", scope=values.get("scope") or "")
    elif None not in ctx.user.scopes("officer") and not ctx.user.has("admin"):
        raise UserError("meetings.error.school_level_only")
    starts = aware(ctx, values["starts"])
    ends = aware(ctx, values["ends"])
    meeting = await meetings.create(
        ctx.services,
        title=values["title"],
        kind=values["kind"],
        starts_at=starts,
        ends_at=ends,
        place=values["place"],
        agenda=values.get("agenda") or "",
        audience=values["audience"],
        scope=values.get("scope") or "",
        documents=values.get("documents") or [],
        reminder_minutes=values.get("reminders") or default_reminders(ctx),
    )
    invited = [i.staff_id for i in await meetings.invitees(ctx.services, meeting.id)]
    await meetings.announce(ctx.services, meeting, "announced")
    await meetings.tell(
        ctx.services,
        meeting,
        "invited",
        invited,
        "invited",
        "invited",
        buttons=meetings.answer_buttons(meeting),
    )
    return Reply(
        text=ctx.t("meetings.created", id=meeting.id, title=meeting.title, count=len(invited))
    )


area.form(
    Form(
        name=FORM,
        title_key="meetings.form.title",
        fields=(
            FormField(
                "audience",
                "meetings.form.field_audience",
                choices=tuple((a, f"meetings.audience.{a}") for a in meetings.AUDIENCES),
                check=may_invite,
            ),
            FormField(
                "scope",
                "meetings.form.field_scope",
                text(500),
                required=False,
                hint_key="meetings.form.hint_scope",
                check=may_call_for,
            ),
            FormField("title", "meetings.form.field_title", text(100)),
            FormField(
                "kind",
                "meetings.form.field_kind",
                choices=tuple((k, f"meetings.kind.{k}") for k in meetings.KINDS),
            ),
            FormField(
                "starts",
                "meetings.form.field_starts",
                local_datetime,
                hint_key="meetings.form.hint_time",
            ),
            FormField(
                "ends",
                "meetings.form.field_ends",
                local_datetime,
                hint_key="meetings.form.hint_time",
            ),
            FormField("place", "meetings.form.field_place", text(200)),
            FormField(
                "agenda", "meetings.form.field_agenda", text(4000), required=False, multiline=True
            ),
            FormField("documents", "meetings.form.field_documents", links, required=False),
            FormField(
                "reminders",
                "meetings.form.field_reminders",
                offsets,
                required=False,
                hint_key="meetings.form.hint_reminders",
            ),
        ),
        on_submit=save,
        permission=roles("officer"),
    )
)


@area.command("meeting create", aliases=["会议 新建"], permission=roles("officer"))
async def create(ctx: Ctx) -> StartForm:
    return StartForm(FORM)


def status_text(ctx: Ctx, row: Any) -> str:
    if row.checked_in_at:
        return ctx.t("meetings.status.checked_in") + (
            ctx.paren(ctx.t("meetings.status.late")) if row.late else ""
        )
    if row.answer == "leave":
        return ctx.t(f"meetings.status.leave_{row.leave_status or 'pending'}")
    return ctx.t(f"meetings.status.{row.answer}")


@area.command(
    "meetings", aliases=["会议", "我的会议", "meeting list", "会议 列表"], permission=LINKED
)
async def mine(ctx: Ctx) -> Reply:
    found = await meetings.my_meetings(ctx.services, ctx.user.id, utcnow())
    if not found:
        return Reply(text=ctx.t("meetings.none"))
    items = []
    for meeting, row in found:
        state = (
            ctx.t("meetings.cancelled_mark")
            if meeting.status == "cancelled"
            else status_text(ctx, row)
        )
        items.append(
            f"#{meeting.id} {ctx.when(meeting.starts_at)} {meeting.title} · "
            f"{meeting.place} · {state}"
        )
    return Reply(
        title=ctx.t("meetings.mine_title"), items=items, footer=ctx.t("meetings.mine_footer")
    )


@area.command("meeting show", aliases=["会议 查看"], args=[MEETING_ID], permission=LINKED)
async def show(ctx: Ctx) -> Reply:
    meeting = await meetings.get(ctx.services, ctx.args["id"])
    invited = {i.staff_id: i for i in await meetings.invitees(ctx.services, meeting.id)}
    if ctx.user.id not in invited and not ctx.user.has("officer"):
        raise UserError("meetings.error.not_found", id=meeting.id)
    fields = [
        (ctx.t("meetings.field.kind"), ctx.t(f"meetings.kind.{meeting.kind}")),
        (
            ctx.t("meetings.field.when"),
            f"{ctx.when(meeting.starts_at)} – {ctx.when(meeting.ends_at)}",
        ),
        (ctx.t("meetings.field.place"), meeting.place),
        (ctx.t("meetings.field.invited"), str(len(invited))),
        (
            ctx.t("meetings.field.reminders"),
            ctx.join([_offset_text(ctx, m) for m in meeting.reminder_minutes]) or "—",
        ),
    ]
    if meeting.documents:
        fields.append((ctx.t("meetings.field.documents"), "\n".join(meeting.documents)))
    if ctx.user.id in invited:
        fields.append(
            (ctx.t("meetings.field.mine"), status_text(ctx, invited[ctx.user.id].attendance))
        )
    if meeting.status == "cancelled":
        fields.insert(
            0,
            (
                ctx.t("meetings.field.status"),
                ctx.t("meetings.cancelled_mark") + ctx.paren(meeting.cancel_reason or ""),
            ),
        )
    choices = []
    if meeting.status == "scheduled" and ctx.user.id in invited and utcnow() < meeting.ends_at:
        choices = _answer_choices(ctx, meeting, invited[ctx.user.id].attendance)
    return Reply(
        title=f"#{meeting.id} {meeting.title}",
        text=meeting.agenda or "",
        fields=fields,
        choices=choices,
    )


def _answer_choices(ctx: Ctx, meeting: Meeting, row: Attendance) -> list[Choice]:
    """Only what fits the person's state: nothing once it has started (signing in takes
    the code shown in the room); else attend unless they said so, and ask for leave unless
    it is asked or granted."""
    if row.checked_in_at is not None or utcnow() >= meeting.starts_at:
        return []
    offered = []
    if row.answer != "attend":
        offered.append(
            Choice(ctx.t("meetings.button.attend"), f"/meeting attend {meeting.id}", "primary")
        )
    if row.answer != "leave" or row.leave_status == "declined":
        offered.append(Choice(ctx.t("meetings.button.leave"), f"/meeting leave {meeting.id}"))
    return offered


def _offset_text(ctx: Ctx, minutes: int) -> str:
    if minutes % 1440 == 0:
        return ctx.t("meetings.offset.days", n=minutes // 1440)
    if minutes % 60 == 0:
        return ctx.t("meetings.offset.hours", n=minutes // 60)
    return ctx.t("meetings.offset.minutes", n=minutes)


@area.command("meeting attend", aliases=["会议 参加", "参会"], args=[MEETING_ID], permission=LINKED)
async def attend(ctx: Ctx) -> Reply:
    meeting = await meetings.get(ctx.services, ctx.args["id"])
    await meetings.answer(ctx.services, meeting, ctx.user.id, attend=True)
    return Reply(
        text=ctx.t(
            "meetings.attending",
            title=meeting.title,
            when=ctx.when(meeting.starts_at),
            place=meeting.place,
        )
    )


@area.command(
    "meeting leave",
    aliases=["会议 请假", "请假"],
    permission=LINKED,
    args=[MEETING_ID, Arg("reason", text(500), required=False, rest=True, metavar="REASON")],
)
async def leave(ctx: Ctx) -> Reply:
    meeting = await meetings.get(ctx.services, ctx.args["id"])
    reason = ctx.args["reason"]
    if not reason:
        raise UserError("meetings.error.reason_needed", id=meeting.id)
    row = await meetings.answer(ctx.services, meeting, ctx.user.id, attend=False, reason=reason)
    if row.leave_status == "approved":
        return Reply(text=ctx.t("meetings.leave_noted", title=meeting.title))
    deciders = await meetings.leave_approvers(ctx.services, row)
    await meetings.tell(
        ctx.services,
        meeting,
        f"leave:{ctx.user.id}:{row.answered_at}",
        deciders.staff_ids,
        "leave_request",
        "head" if deciders.why == "head" else "officer",
        who=ctx.user.name,
        staff_no=ctx.user.handle,
        reason=reason,
        buttons=[
            Button("meetings.button.approve", f"/meeting approve {meeting.id} {ctx.user.handle}"),
            Button("meetings.button.decline", f"/meeting decline {meeting.id} {ctx.user.handle}"),
        ],
    )
    if deciders.why == "head":
        names = ctx.join(deciders.names)
        return Reply(text=ctx.t("meetings.leave_asked", title=meeting.title, heads=names))
    return Reply(text=ctx.t(f"meetings.leave_asked_{deciders.why}", title=meeting.title))


async def _decide(ctx: Ctx, approve: bool) -> Reply:
    meeting = await meetings.get(ctx.services, ctx.args["id"])
    staff_no: str = ctx.args["staff_no"]
    invitee = next(
        (i for i in await meetings.invitees(ctx.services, meeting.id) if i.staff_no == staff_no),
        None,
    )
    if invitee is None:
        raise UserError("meetings.error.unknown_staff", staff_no=staff_no)
    require(ctx.user, "head", "officer", scope=invitee.attendance.delegation)
    row, staff_id = await meetings.decide_leave(ctx.services, meeting, staff_no, approve)
    outcome = "approved" if approve else "declined"
    await meetings.tell(
        ctx.services,
        meeting,
        f"leave_{outcome}:{staff_id}:{row.answered_at}",
        [staff_id],
        f"leave_{outcome}",
        "asked_leave",
        by=ctx.user.name,
    )
    return Reply(text=ctx.t(f"meetings.leave_{outcome}", name=invitee.name, title=meeting.title))


DECIDE_ARGS = [MEETING_ID, Arg("staff_no", text(32), metavar="STAFF_NO")]


@area.command(
    "meeting approve",
    aliases=["会议 准假", "准假"],
    args=DECIDE_ARGS,
    permission=roles("head", "officer"),
)
async def approve(ctx: Ctx) -> Reply:
    return await _decide(ctx, True)


@area.command(
    "meeting decline",
    aliases=["会议 不准假"],
    args=DECIDE_ARGS,
    permission=roles("head", "officer"),
)
async def decline(ctx: Ctx) -> Reply:
    return await _decide(ctx, False)


@area.command(
    "meeting cancel",
    aliases=["会议 取消"],
    permission=roles("officer"),
    args=[MEETING_ID, Arg("reason", text(500), rest=True, metavar="REASON")],
)
async def cancel(ctx: Ctx) -> Reply:
    meeting = await meetings.get(ctx.services, ctx.args["id"])
    invited = await meetings.cancel(ctx.services, meeting, ctx.args["reason"])
    await meetings.announce(ctx.services, meeting, "cancelled")
    await meetings.tell(
        ctx.services,
        meeting,
        "cancelled",
        invited,
        "cancelled",
        "invited",
        reason=ctx.args["reason"],
    )
    return Reply(text=ctx.t("meetings.cancelled", title=meeting.title, count=len(invited)))


AUDIENCE_WORDS = {a: a for a in meetings.AUDIENCES} | {
    word: value
    for word, value in catalogue_words("meetings", "audience").items()
    if value in meetings.AUDIENCES
}


@area.command(
    "meeting edit",
    aliases=["会议 修改"],
    permission=roles("officer"),
    args=[MEETING_ID],
    options=[
        Option("start", local_datetime, metavar="DATETIME"),
        Option("end", local_datetime, metavar="DATETIME"),
        Option("place", text(200), metavar="PLACE"),
        Option("agenda", text(4000), metavar="TEXT"),
        Option("audience", choice(AUDIENCE_WORDS, "meetings.audience.{value}"), metavar="AUDIENCE"),
        Option("scope", text(500), metavar="SCOPE"),
    ],
)
async def edit(ctx: Ctx) -> Reply:
    """Time, place, agenda and who is invited; everyone affected is told what changed."""
    start, end, place = ctx.args["start"], ctx.args["end"], ctx.args["place"]
    agenda, audience, scope = ctx.args["agenda"], ctx.args["audience"], ctx.args["scope"]
    if not (start or end or place or agenda or audience):
        raise UserError("meetings.error.nothing_to_change")
    meeting = await meetings.get(ctx.services, ctx.args["id"])
    done: list[str] = []
    if audience:
        try:  # the same rule as at the first steps of /meeting create
            may_invite(ctx, audience, {})
            may_call_for(ctx, scope, {"audience": audience})
        except Invalid as exc:
            raise UserError(exc.key, **exc.params) from None
        added, removed = await meetings.set_audience(ctx.services, meeting, audience, scope or "")
        await meetings.tell(
            ctx.services,
            meeting,
            f"invited:{meeting.updated_at.isoformat()}",
            added,
            "invited",
            "invited",
            buttons=meetings.answer_buttons(meeting),
        )
        await meetings.tell(
            ctx.services,
            meeting,
            f"uninvited:{meeting.updated_at.isoformat()}",
            removed,
            "uninvited",
            "was_invited",
        )
        done.append(ctx.t("meetings.audience_changed", added=len(added), removed=len(removed)))
    invited = [i.staff_id for i in await meetings.invitees(ctx.services, meeting.id)]
    if start or end or place:
        old = await meetings.change(
            ctx.services,
            meeting,
            starts_at=aware(ctx, start) if start else None,
            ends_at=aware(ctx, end) if end else None,
            place=place,
        )
        await meetings.tell(
            ctx.services,
            meeting,
            f"changed:{meeting.updated_at.isoformat()}",
            invited,
            "changed",
            "invited",
            old_place=old["place"],
            _old_at=old["starts_at"].isoformat(),
        )
        await meetings.announce(ctx.services, meeting, "changed")
        done.append(
            ctx.t(
                "meetings.changed",
                title=meeting.title,
                when=ctx.when(meeting.starts_at),
                place=meeting.place,
                count=len(invited),
            )
        )
    if agenda:
        await meetings.set_agenda(ctx.services, meeting, agenda.replace("\\n", "\n"))
        await meetings.tell(
            ctx.services,
            meeting,
            f"agenda:{meeting.updated_at.isoformat()}",
            invited,
            "agenda_changed",
            "invited",
            buttons=[Button("meetings.button.show", f"/meeting show {meeting.id}")],
        )
        done.append(ctx.t("meetings.agenda_set", count=len(invited)))
    return Reply(text="\n".join(done))


@area.command(
    "meeting checkin-code",
    aliases=["会议 签到码", "签到码"],
    args=[MEETING_ID],
    permission=roles("officer"),
)
async def checkin_code(ctx: Ctx) -> Reply:
    meeting = await meetings.get(ctx.services, ctx.args["id"])
    code, left = checkin.current_code(meeting.checkin_secret, utcnow())
    return Reply(
        title=ctx.t("meetings.code_title", title=meeting.title),
        text=code,
        footer=ctx.t("meetings.code_footer", seconds=left, id=meeting.id),
    )


@area.command(
    "meeting checkin",
    aliases=["会议 签到", "签到"],
    permission=LINKED,
    args=[MEETING_ID, Arg("code", text(12), metavar="CODE")],
)
async def check_in(ctx: Ctx) -> Reply:
    meeting = await meetings.get(ctx.services, ctx.args["id"])
    row = await meetings.check_in(ctx.services, meeting, ctx.user.id, ctx.args["code"])
    key = "meetings.checked_in_late" if row.late else "meetings.checked_in"
    # A delegate who signs in while votes are open gets their ballots.
    open_ballots = await votes.offer_open(ctx.services, meeting, ctx.user.id)
    reply = Reply(text=ctx.t(key, title=meeting.title))
    if open_ballots:
        reply.choices = [Choice(ctx.t("votes.button.my_ballots"), "/votes")]
    return reply


@area.command(
    "meeting roll",
    aliases=["会议 点名", "点名"],
    args=[MEETING_ID],
    permission=roles("officer", "head"),
)
async def roll(ctx: Ctx) -> Reply:
    meeting = await meetings.get(ctx.services, ctx.args["id"])
    figures = await meetings.roll(ctx.services, meeting)

    def line(name: str, f: meetings.RollLine) -> str:
        return ctx.t(
            "meetings.roll_line",
            name=name,
            expected=f.expected,
            confirmed=f.confirmed,
            leave=f.on_leave,
            checked_in=f.checked_in,
            absent=f.absent,
            unanswered=f.unanswered,
        )

    items = [line(name, f) for name, f in sorted(figures.by_delegation.items())]
    items.append(line(ctx.t("meetings.roll_total"), figures.total))
    state = (
        "reached"
        if figures.checked_in_reaches_quorum
        else ("confirmed" if figures.confirmed_reaches_quorum else "short")
    )
    return Reply(
        title=ctx.t("meetings.roll_title", title=meeting.title),
        items=items,
        footer=ctx.t(
            f"meetings.quorum.{state}", needed=figures.needed, expected=figures.total.expected
        ),
        private=True,
    )


@area.command(
    "deliveries",
    aliases=["投递状态"],
    permission=roles("officer"),
    options=[
        Option(
            "status",
            choice(
                DELIVERY_STATUS_WORDS,
                "meetings.delivery.{value}",
            ),
            metavar="STATUS",
        )
    ],
)
async def deliveries(ctx: Ctx) -> Reply:
    report = await outbox.report(ctx.services, ctx.args["status"])
    fields = [
        (ctx.t(f"meetings.delivery.{s}"), str(report.counts.get(s, 0))) for s in outbox.STATUSES
    ]
    fields.append((ctx.t("meetings.delivery.oldest"), ctx.when(report.oldest_pending)))
    fields.append(
        (
            ctx.t("meetings.delivery.unlinked"),
            ctx.t(
                "meetings.delivery.unlinked_count",
                count=report.unlinked_messages,
                people=report.unlinked_people,
            ),
        )
    )
    items = [
        ctx.t(
            "meetings.delivery.line",
            when=ctx.when(line.at),
            status=ctx.t(f"meetings.delivery.{line.status}"),
            platform=line.platform,
            who=line.staff_no,
            subject=subject_text(ctx, line),
            why=line.error or "—",
        )
        for line in report.failures
    ]
    heading = (
        ctx.t("meetings.delivery.listed", status=ctx.t(f"meetings.delivery.{ctx.args['status']}"))
        if ctx.args["status"]
        else ctx.t("meetings.delivery.listed_failures")
    )
    sections = [Section(heading, items or [ctx.t("meetings.delivery.none")])]
    if report.unlinked and not ctx.args["status"]:
        waiting = [
            ctx.t(
                "meetings.delivery.unlinked_line",
                name=u.name,
                staff_no=u.staff_no,
                count=u.messages,
            )
            for u in report.unlinked
        ]
        if report.unlinked_people > len(waiting):
            more = report.unlinked_people - len(waiting)
            waiting.append(ctx.t("meetings.delivery.unlinked_more", more=more))
        sections.append(Section(ctx.t("meetings.delivery.unlinked_heading"), waiting))
    return Reply(title=ctx.t("meetings.delivery.title"), fields=fields, sections=sections)


def subject_text(ctx: Ctx, line: outbox.QueueLine) -> str:
    """What a queued message is about, in the reader's words: "会议 #3（remind）"."""
    kind, ident, occasion = line.subject
    key = f"meetings.delivery.subject.{kind}"
    name = ctx.t(key) if ctx.catalog.has(key) else kind
    return f"{name} #{ident}" + (ctx.paren(occasion) if occasion else "")
