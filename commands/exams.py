"""The yearly physical exam (体检): my appointment, and moving to another batch."""

from __future__ import annotations

from bot.args import Arg, text
from bot.permissions import LINKED, roles
from bot.registry import Area
from bot.replies import Reply
from commands._backend import Ctx, staff_of, today
from storage.benefits import exams
from storage.errors import BenefitError
from storage.models import ExamAppointment

area = Area("exams")

SCHOOL_OFFICERS = roles("officer")


def exam_line(ctx: Ctx, appointment: ExamAppointment | None) -> str:
    """This year's exam in one line: the day, the place, the batch, or that it was missed."""
    if appointment is None:
        return ctx.t("exams.not_scheduled")
    state = exams.status_of(appointment, today(ctx))
    line = ctx.t(
        f"exams.line_{state}",
        day=ctx.day(appointment.day),
        place=appointment.place,
        batch=appointment.batch or "—",
    )
    if appointment.change_status == "pending":
        line += ctx.paren(ctx.t("exams.change_pending", batch=appointment.change_batch or ""))
    return line


@area.command("exam", aliases=["体检"], permission=LINKED, private=True)
async def mine(ctx: Ctx) -> Reply:
    appointment = await exams.mine(ctx.services, ctx.user.id, today(ctx).year)
    open_ = appointment is not None and exams.status_of(appointment, today(ctx)) == "scheduled"
    footer = ctx.t("exams.change_hint") if open_ else None
    return Reply(
        title=ctx.t("exams.title", year=today(ctx).year),
        text=exam_line(ctx, appointment),
        footer=footer,
    )


@area.command(
    "exam change",
    aliases=["体检 改期"],
    args=[
        Arg("batch", text(64), metavar="BATCH"),
        Arg("reason", text(500), rest=True, metavar="REASON"),
    ],
    permission=LINKED,
    private=True,
)
async def change(ctx: Ctx) -> Reply:
    await exams.request_change(
        ctx.services,
        staff_of(ctx),
        today(ctx).year,
        ctx.args["batch"],
        ctx.args["reason"],
        today(ctx),
    )
    return Reply(text=ctx.t("exams.change_sent", batch=ctx.args["batch"]))


async def _decide(ctx: Ctx, approve: bool) -> Reply:
    if None not in ctx.user.scopes("officer") and not ctx.user.has("admin"):
        raise BenefitError("benefits.error.school_only")
    appointment, person = await exams.decide_change(
        ctx.services, ctx.args["staff_no"], today(ctx).year, approve
    )
    key = "exams.approved" if approve else "exams.declined"
    return Reply(
        text=ctx.t(key, name=person.name, day=ctx.day(appointment.day), place=appointment.place)
    )


STAFF_NO = Arg("staff_no", text(32), metavar="STAFF_NO")


@area.command(
    "exam approve", aliases=["体检 同意改期"], args=[STAFF_NO], permission=SCHOOL_OFFICERS
)
async def approve(ctx: Ctx) -> Reply:
    return await _decide(ctx, approve=True)


@area.command(
    "exam decline", aliases=["体检 不同意改期"], args=[STAFF_NO], permission=SCHOOL_OFFICERS
)
async def decline(ctx: Ctx) -> Reply:
    return await _decide(ctx, approve=False)
