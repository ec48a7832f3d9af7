"""`/help` and `/help COMMAND`, generated from the registry so they can never drift from it."""

from __future__ import annotations

from bot.args import Arg, text
from bot.errors import UserError
from bot.registry import Area, Command
from bot.replies import Reply, Section
from commands._backend import Ctx

area = Area("help")


def _summary(ctx: Ctx, command: Command) -> str:
    return ctx.t(command.help_key + ".summary")


@area.command(
    "help",
    aliases=["帮助", "?", "？"],
    args=[Arg("command", text(60), required=False, rest=True, metavar="COMMAND")],
)
async def help_command(ctx: Ctx) -> Reply:
    wanted: str | None = ctx.args["command"]
    if wanted:
        return _command_help(ctx, wanted.lstrip("/／"))
    sections = []
    for registered_area in ctx.registry.areas:
        usable = _usable(ctx, registered_area.commands)
        if usable:
            sections.append(
                Section(ctx.t(f"{registered_area.name}.area"), pairs=_pairs(ctx, usable))
            )
    return Reply(
        title=ctx.t("help.title"),
        text=ctx.t("help.intro"),
        sections=sections,
        footer=ctx.t("help.footer"),
    )


def _usable(ctx: Ctx, commands: list[Command]) -> list[Command]:
    """What this person may run: the one rule for /help and /help GROUP."""
    return [c for c in commands if not c.hidden and c.permission.allows(ctx.principal)]


def _pairs(ctx: Ctx, commands: list[Command]) -> list[tuple[str, str]]:
    return [(c.usage(), _summary(ctx, c)) for c in commands]


def _command_help(ctx: Ctx, wanted: str) -> Reply:
    command = ctx.registry.find(wanted)
    if command is None:
        members, depth = ctx.registry.group(wanted.split())
        usable = _usable(ctx, members)
        if usable and depth == len(wanted.split()):
            return Reply(
                title="/" + wanted,
                sections=[Section(ctx.t(f"{usable[0].area}.area"), pairs=_pairs(ctx, usable))],
            )
        if members and depth == len(wanted.split()):
            raise UserError("help.none_for_you", command=wanted[:60])
        raise UserError("help.unknown", command=wanted[:60])
    fields = [(ctx.t("help.usage"), command.usage())]
    if command.aliases:
        fields.append((ctx.t("help.aliases"), ctx.join(["/" + a for a in command.aliases])))
    needed = command.permission.describe()
    who = (
        ctx.t("help.anyone")
        if command.permission.public
        else ctx.join([ctx.t(f"role.{r}") for r in needed])
        if needed
        else ctx.t("help.linked")
    )
    fields.append((ctx.t("help.who"), who))
    details_key = command.help_key + ".details"
    details = ctx.t(details_key) if ctx.catalog.has(details_key) else ""
    return Reply(
        title="/" + command.name, text=_summary(ctx, command), fields=fields, footer=details or None
    )
