"""Registering a group chat as a sub-union's or a delegation's group, for its announcements."""

from __future__ import annotations

from bot.args import Arg, choice, text
from bot.errors import UserError
from bot.permissions import require, roles
from bot.registry import Area
from bot.replies import Reply
from commands._backend import Ctx
from storage import groups

area = Area("groups")

KINDS = {
    "sub_union": "sub_union",
    "分工会": "sub_union",
    "delegation": "delegation",
    "代表团": "delegation",
}


def _in_group(ctx: Ctx) -> None:
    if not ctx.message.in_group:
        raise UserError("groups.only_in_group")


@area.command(
    "group register",
    aliases=["群 登记"],
    permission=roles("officer", "head"),
    args=[
        Arg("kind", choice(KINDS, "groups.kind.{value}")),
        Arg("name", text(100), rest=True, metavar="NAME"),
    ],
)
async def register(ctx: Ctx) -> Reply:
    _in_group(ctx)
    kind, name = ctx.args["kind"], ctx.args["name"]
    if kind == "sub_union":
        require(ctx.user, "officer", scope=name)
    else:
        require(ctx.user, "officer", "head", scope=name)
    await groups.register(ctx.services, ctx.message.platform, ctx.message.chat_id, kind, name)
    return Reply(text=ctx.t("groups.registered", kind=ctx.t(f"groups.kind.{kind}"), name=name))


@area.command("group unregister", aliases=["群 取消登记"], permission=roles("officer", "head"))
async def unregister(ctx: Ctx) -> Reply:
    _in_group(ctx)
    removed = await groups.unregister(ctx.services, ctx.message.platform, ctx.message.chat_id)
    return Reply(text=ctx.t("groups.unregistered" if removed else "groups.not_registered"))


@area.command("group list", aliases=["群 列表"], permission=roles("officer"))
async def list_groups(ctx: Ctx) -> Reply:
    found = await groups.all_groups(ctx.services)
    if not found:
        return Reply(text=ctx.t("groups.none"))
    return Reply(
        title=ctx.t("groups.title"),
        items=[
            f"{g.platform} {g.chat_id}: {ctx.t(f'groups.kind.{g.kind}')} {g.scope}" for g in found
        ],
    )
