"""Congress sessions (届次) and their proposal collection window (征集)."""

from __future__ import annotations

from bot.args import Arg, Option, parse_date, text
from bot.errors import UserError
from bot.permissions import LINKED, roles
from bot.registry import Area
from bot.replies import Reply
from commands._backend import Ctx, today
from storage.proposals import congress

area = Area("sessions")


@area.command(
    "session open",
    aliases=["届次 开启", "征集 开启"],
    permission=roles("officer"),
    args=[Arg("name", text(100), rest=True, metavar="NAME")],
    options=[Option("from", parse_date, metavar="DATE"), Option("to", parse_date, metavar="DATE")],
)
async def open_(ctx: Ctx) -> Reply:
    opens_on = ctx.args["from"] or today(ctx)
    closes_on = ctx.args["to"]
    if closes_on is None:
        raise UserError("bot.arg.missing", arg="--to DATE")
    session = await congress.open_session(ctx.services, ctx.args["name"], opens_on, closes_on)
    return Reply(
        text=ctx.t(
            "sessions.opened", name=session.name, opens=ctx.day(opens_on), closes=ctx.day(closes_on)
        )
    )


@area.command("session close", aliases=["届次 关闭", "征集 关闭"], permission=roles("officer"))
async def close(ctx: Ctx) -> Reply:
    session = await congress.close_session(ctx.services)
    return Reply(text=ctx.t("sessions.closed", name=session.name))


@area.command("session", aliases=["届次"], permission=LINKED)
async def current(ctx: Ctx) -> Reply:
    session = await congress.current_session(ctx.services)
    if session is None:
        return Reply(text=ctx.t("sessions.none"))
    state = "open" if congress.window_open(session, today(ctx)) else "closed"
    return Reply(
        title=session.name,
        text=ctx.t(
            f"sessions.window_{state}",
            opens=ctx.day(session.opens_on),
            closes=ctx.day(session.closes_on),
        ),
    )
