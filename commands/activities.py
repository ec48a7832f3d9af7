"""Activities, competitions and clubs in chat: publish, join, leave, the waiting list,
quotas confirmed by sub-union officers, sign-in, results, and my year's record."""

from __future__ import annotations

from datetime import timedelta

from bot.args import Arg, Option, choice, integer, local_datetime, text
from bot.errors import UserError
from bot.permissions import LINKED, roles
from bot.registry import Area
from bot.replies import Choice, Reply
from commands._backend import Ctx
from storage import activities, clubs
from storage.clock import utcnow
from storage.meetings import checkin
from storage.models import Activity

area = Area("activities")
ACTIVITY_ID = Arg("id", integer(1), metavar="ID")
STAFF_NO = Arg("staff_no", text(20), metavar="STAFF_NO")
ORGANISERS = ("officer", "admin")


def _officer_scopes(ctx: Ctx) -> set[str | None]:
    return {None} if ctx.user.has("admin") else ctx.user.scopes("officer")


def organises(ctx: Ctx, activity: Activity) -> bool:
    """The school's officers run every activity; a sub-union's officer their own; a club's
    leader the club's."""
    scopes = _officer_scopes(ctx)
    if None in scopes or (activity.organiser_scope and activity.organiser_scope in scopes):
        return True
    return activity.club_id is not None and activity.created_by == ctx.user.id


def require_organiser(ctx: Ctx, activity: Activity) -> None:
    if not organises(ctx, activity):
        raise UserError("activities.error.not_organiser", id=activity.id)


def status_word(ctx: Ctx, status: str | None) -> str:
    return ctx.t(f"activities.status.{status}") if status else ""


@area.command("activities", aliases=["活动", "活动列表", "activity list", "活动 列表"])
async def listing(ctx: Ctx) -> Reply:
    found = await activities.open_for(ctx.services, ctx.user.id, utcnow())
    if not found:
        return Reply(title=ctx.t("activities.list_title"), text=ctx.t("activities.none"))
    items, choices = [], []
    for listed in found:
        a = listed.activity
        if a.quota:
            room = ctx.t("activities.quota", quota=a.quota)
        elif a.capacity:
            room = ctx.t("activities.room", taken=listed.confirmed, capacity=a.capacity)
        else:
            room = ctx.t("activities.no_limit", taken=listed.confirmed)
        mine = ctx.paren(status_word(ctx, listed.mine)) if listed.mine in activities.ACTIVE else ""
        items.append(
            ctx.t(
                "activities.line",
                id=a.id,
                title=a.title,
                kind=ctx.t(f"activities.kind.{a.kind}"),
                when=ctx.when(a.starts_at),
                place=a.place,
                room=room,
            )
            + mine
        )
        if listed.mine not in activities.ACTIVE and utcnow() <= a.signup_deadline:
            choices.append(
                Choice(ctx.t("activities.button.join_id", id=a.id), f"/activity join {a.id}")
            )
    return Reply(
        title=ctx.t("activities.list_title"),
        items=items,
        choices=choices[:5],
        footer=ctx.t("activities.list_footer"),
    )


@area.command("activity show", aliases=["活动 查看"], args=[ACTIVITY_ID])
async def show(ctx: Ctx) -> Reply:
    a = await activities.get(ctx.services, ctx.args["id"])
    people = await activities.signups(ctx.services, a.id)
    confirmed = [p for p in people if p.status == activities.CONFIRMED]
    waiting = [p for p in people if p.status == activities.WAITING]
    proposed = [p for p in people if p.status == activities.PROPOSED]
    mine = next((p for p in people if p.staff_no == ctx.user.handle), None)
    fields = [
        (ctx.t("activities.field.kind"), ctx.t(f"activities.kind.{a.kind}")),
        (ctx.t("activities.field.when"), ctx.when(a.starts_at)),
        (ctx.t("activities.field.place"), a.place),
        (ctx.t("activities.field.deadline"), ctx.when(a.signup_deadline)),
        (
            ctx.t("activities.field.places"),
            ctx.t("activities.room", taken=len(confirmed), capacity=a.capacity)
            if a.capacity
            else ctx.t("activities.no_limit", taken=len(confirmed)),
        ),
        (ctx.t("activities.field.waiting"), str(len(waiting))),
    ]
    if a.quota:
        fields.append((ctx.t("activities.field.quota"), ctx.t("activities.quota", quota=a.quota)))
    if mine is not None:
        fields.append((ctx.t("activities.field.mine"), status_word(ctx, mine.status)))
    # Names only in a private chat, and only for those who run the activity, or a
    # sub-union's officer for their own sub-union's people (whom they confirm).
    organiser = organises(ctx, a)
    own = _officer_scopes(ctx)
    shown_people = [p for p in [*confirmed, *proposed, *waiting] if organiser or p.sub_union in own]
    items = [
        ctx.t(
            "activities.person_line",
            name=p.name,
            staff_no=p.staff_no,
            sub_union=p.sub_union,
            status=status_word(ctx, p.status),
        )
        + (f" · {p.team}" if p.team else "")
        + (f" · {p.result}" if p.result else "")
        for p in shown_people
    ]
    choices = []
    if mine is None and utcnow() <= a.signup_deadline:
        choices.append(Choice(ctx.t("activities.button.join"), f"/activity join {a.id}"))
    elif mine is not None and utcnow() <= a.signup_deadline:
        choices.append(Choice(ctx.t("activities.button.leave"), f"/activity leave {a.id}"))
    return Reply(
        title=a.title,
        text=a.details,
        fields=fields,
        items=items,
        choices=choices,
        private=bool(items),  # names: only to the person
    )


@area.command(
    "activity join",
    aliases=["活动 报名", "报名"],
    args=[ACTIVITY_ID, Arg("team", text(100), required=False, rest=True, metavar="TEAM")],
)
async def join(ctx: Ctx) -> Reply:
    a = await activities.get(ctx.services, ctx.args["id"])
    signup = await activities.join(ctx.services, a.id, ctx.user.id, ctx.args["team"])
    key = f"activities.joined_{signup.status}"
    return Reply(
        text=ctx.t(key, title=a.title, when=ctx.when(a.starts_at), place=a.place, quota=a.quota),
        footer=ctx.t("activities.leave_hint", id=a.id, deadline=ctx.when(a.signup_deadline)),
    )


@area.command("activity leave", aliases=["活动 取消报名", "取消报名"], args=[ACTIVITY_ID])
async def leave(ctx: Ctx) -> Reply:
    a = await activities.get(ctx.services, ctx.args["id"])
    moved = await activities.leave(ctx.services, a.id, ctx.user.id)
    moved_up = ctx.t("activities.someone_moved_up") if moved is not None else ""
    return Reply(text=ctx.sentences(ctx.t("activities.left", title=a.title), moved_up))


@area.command(
    "activity new",
    aliases=["活动 发布", "发布活动"],
    args=[Arg("title", text(200))],
    options=[
        Option("kind", choice({k: k for k in activities.KINDS}), metavar="KIND", default="sports"),
        Option("start", local_datetime, metavar='"YYYY-MM-DD HH:MM"'),
        Option("end", local_datetime, metavar='"YYYY-MM-DD HH:MM"'),
        Option("place", text(200), metavar="PLACE"),
        Option("deadline", local_datetime, metavar='"YYYY-MM-DD HH:MM"'),
        Option("capacity", integer(1, 100_000), metavar="N"),
        Option("quota", integer(1, 1000), metavar="N"),
        Option("teams", flag=True),
        Option("sub-union", text(100), metavar="NAME"),
        Option("club", integer(1), metavar="CLUB_ID"),
        Option("details", text(2000), metavar="TEXT"),
    ],
)
async def new(ctx: Ctx) -> Reply:
    """An officer publishes to everyone (the school's) or their sub-union; a club's leader
    to the club's members."""
    missing = [name for name in ("start", "end", "place") if not ctx.args.get(name)]
    if missing:
        raise UserError("activities.error.missing", options=" ".join("--" + m for m in missing))
    scopes = _officer_scopes(ctx)
    audience, scope, organiser, club_id = "everyone", "", "", None
    if ctx.args.get("club"):
        led = {c.id for c in await clubs.led_by(ctx.services, ctx.user.id)}
        if ctx.args["club"] not in led and None not in scopes:
            raise UserError("activities.error.not_leader", id=ctx.args["club"])
        audience, club_id = "club", ctx.args["club"]
    elif ctx.args.get("sub-union"):
        wanted = ctx.args["sub-union"]
        if None not in scopes and wanted not in scopes:
            raise UserError("activities.error.not_your_sub_union", sub_union=wanted)
        audience, scope, organiser = "sub_union", wanted, wanted
    elif None not in scopes:
        if not scopes:
            raise UserError("activities.error.organisers_only")
        raise UserError(
            "activities.error.school_level_only", mine=ctx.join(sorted(s for s in scopes if s))
        )
    starts = ctx.args["start"].replace(tzinfo=ctx.tz)
    deadline = (
        ctx.args["deadline"].replace(tzinfo=ctx.tz)
        if ctx.args.get("deadline")
        else starts - timedelta(days=1)
    )
    activity, told = await activities.publish(
        ctx.services,
        activities.Draft(
            title=ctx.args["title"],
            kind=ctx.args["kind"],
            starts_at=starts,
            ends_at=ctx.args["end"].replace(tzinfo=ctx.tz),
            place=ctx.args["place"],
            signup_deadline=deadline,
            audience=audience,
            audience_scope=scope,
            organiser_scope=organiser,
            club_id=club_id,
            capacity=ctx.args.get("capacity"),
            teams=bool(ctx.args.get("teams")),
            quota=ctx.args.get("quota"),
            details=ctx.args.get("details") or "",
        ),
    )
    return Reply(
        text=ctx.t("activities.published", id=activity.id, title=activity.title, count=told)
    )


@area.command(
    "activity confirm",
    aliases=["活动 确认"],
    args=[ACTIVITY_ID, STAFF_NO],
    permission=roles(*ORGANISERS),
)
async def confirm(ctx: Ctx) -> Reply:
    """A sub-union's officer picks who goes under the quota."""
    a = await activities.get(ctx.services, ctx.args["id"])
    await activities.confirm(ctx.services, a.id, ctx.args["staff_no"], _officer_scopes(ctx))
    return Reply(
        text=ctx.t("activities.confirmed_by_officer", staff_no=ctx.args["staff_no"], title=a.title)
    )


@area.command(
    "activity checkin-code",
    aliases=["活动 签到码"],
    args=[ACTIVITY_ID],
    permission=LINKED,
)
async def checkin_code(ctx: Ctx) -> Reply:
    a = await activities.get(ctx.services, ctx.args["id"])
    require_organiser(ctx, a)
    code, left = checkin.current_code(a.checkin_secret, utcnow())
    return Reply(
        title=ctx.t("activities.code_title", title=a.title),
        text=code,
        footer=ctx.t("activities.code_footer", seconds=left, id=a.id),
    )


@area.command("activity checkin", aliases=["活动 签到"], args=[ACTIVITY_ID, Arg("code", text(12))])
async def check_in(ctx: Ctx) -> Reply:
    a = await activities.get(ctx.services, ctx.args["id"])
    await activities.check_in(ctx.services, a, ctx.user.id, ctx.args["code"])
    return Reply(text=ctx.t("activities.checked_in", title=a.title))


@area.command(
    "activity results",
    aliases=["活动 成绩"],
    args=[
        ACTIVITY_ID,
        Arg("staff_no", text(20), required=False),
        Arg("result", text(200), required=False, rest=True),
    ],
)
async def results(ctx: Ctx) -> Reply:
    """With STAFF_NO and RESULT, the organiser records an award; without, the results so far."""
    a = await activities.get(ctx.services, ctx.args["id"])
    if ctx.args["staff_no"]:
        require_organiser(ctx, a)
        if not ctx.args["result"]:
            raise UserError("activities.error.result_needed")
        await activities.record_result(ctx.services, a, ctx.args["staff_no"], ctx.args["result"])
        return Reply(
            text=ctx.t(
                "activities.result_saved", staff_no=ctx.args["staff_no"], result=ctx.args["result"]
            )
        )
    people = [p for p in await activities.signups(ctx.services, a.id) if p.result]
    if not people:
        return Reply(
            title=ctx.t("activities.results_title", title=a.title),
            text=ctx.t("activities.no_results"),
        )
    return Reply(
        title=ctx.t("activities.results_title", title=a.title),
        items=[
            ctx.t("activities.result_line", name=p.name, sub_union=p.sub_union, result=p.result)
            for p in people
        ],
    )


@area.command("activity announce", aliases=["活动 公布成绩"], args=[ACTIVITY_ID])
async def announce(ctx: Ctx) -> Reply:
    """The organiser sends every recorded result to everyone who took part."""
    a = await activities.get(ctx.services, ctx.args["id"])
    require_organiser(ctx, a)
    told = await activities.announce_results(ctx.services, a)
    return Reply(text=ctx.t("activities.announced", title=a.title, count=told))


@area.command("me", aliases=["我的记录", "我"], private=True)
async def me(ctx: Ctx) -> Reply:
    """What I took part in this year."""
    year = utcnow().astimezone(ctx.tz).year
    taken = await activities.record_of(ctx.services, ctx.user.id, year, ctx.tz)
    if not taken:
        return Reply(
            title=ctx.t("activities.me_title", year=year), text=ctx.t("activities.me_none")
        )
    return Reply(
        title=ctx.t("activities.me_title", year=year),
        items=[
            ctx.t(
                "activities.me_line",
                title=t.activity.title,
                when=ctx.day(t.activity.starts_at.astimezone(ctx.tz).date()),
                kind=ctx.t(f"activities.kind.{t.activity.kind}"),
            )
            + (ctx.paren(t.result) if t.result else "")
            + (
                ""
                if t.checked_in or t.activity.starts_at > utcnow()
                else ctx.paren(ctx.t("activities.not_signed_in"))
            )
            for t in taken
        ],
        private=True,
    )


# ---------------------------------------------------------------- clubs


@area.command("clubs", aliases=["社团", "协会", "club list", "社团 列表"])
async def club_list(ctx: Ctx) -> Reply:
    found = await clubs.clubs(ctx.services, ctx.user.id)
    if not found:
        return Reply(title=ctx.t("activities.clubs_title"), text=ctx.t("activities.no_clubs"))
    items = []
    for line in found:
        text_ = ctx.t(
            "activities.club_line",
            id=line.club.id,
            name=line.club.name,
            count=line.members,
            leader=line.leader,
        )
        items.append(text_ + (ctx.t("activities.club_mine") if line.joined else ""))
    open_to_me = [line for line in found if not line.joined]
    return Reply(
        title=ctx.t("activities.clubs_title"),
        items=items,
        footer=ctx.t("activities.clubs_footer") if open_to_me else None,
    )


@area.command(
    "club new",
    aliases=["社团 新建"],
    args=[Arg("name", text(100)), STAFF_NO],
    permission=roles(*ORGANISERS),
)
async def club_new(ctx: Ctx) -> Reply:
    from storage import identity

    leader = await identity.staff_by_no(ctx.services, ctx.args["staff_no"])
    if leader is None:
        raise UserError("activities.error.no_staff", staff_no=ctx.args["staff_no"])
    club = await clubs.create_club(ctx.services, ctx.args["name"], leader.id)
    return Reply(text=ctx.t("activities.club_made", id=club.id, name=club.name, leader=leader.name))


@area.command("club join", aliases=["社团 加入"], args=[Arg("id", integer(1), metavar="CLUB_ID")])
async def club_join(ctx: Ctx) -> Reply:
    club = await clubs.join_club(ctx.services, ctx.args["id"], ctx.user.id)
    return Reply(text=ctx.t("activities.club_joined", name=club.name))
