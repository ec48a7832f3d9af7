"""Linking a platform's member directory to the roster: `/directory sync` (`/wecom sync`),
for administrators, with the same report as `unionbot wecom sync`."""

from __future__ import annotations

from bot.args import Arg, Option, text
from bot.directory import DirectoryUnavailable
from bot.errors import UserError
from bot.permissions import roles
from bot.registry import Area
from bot.replies import Reply
from commands import _directory
from commands._backend import Ctx
from storage.directory import TooManyEnded

area = Area("directory")


@area.command(
    "directory sync",
    aliases=["wecom sync", "通讯录 同步"],
    args=[Arg("platform", text(32), required=False)],
    options=[Option("force", flag=True)],
    permission=roles("admin"),
    private=True,
)
async def sync(ctx: Ctx) -> Reply:
    """Link everyone in the platform's directory whom the roster names; end the links of
    those who left; report who is missing on either side."""
    wanted = ctx.args.get("platform")
    found = ctx.directories
    if wanted is None and len(found) == 1:
        wanted = next(iter(found))
    directory = found.get(wanted or "")
    if directory is None:
        raise UserError(
            "directory.none" if not found else "directory.which",
            platforms=", ".join(sorted(found)) or "—",
        )
    try:
        report, _calls = await _directory.sync(ctx.services, directory, force=ctx.args["force"])
    except DirectoryUnavailable as exc:
        raise UserError(f"directory.unavailable.{exc.code}", **exc.params) from None
    except TooManyEnded as exc:
        raise UserError(
            "directory.too_many_ended",
            gone=exc.gone,
            linked=exc.linked,
            platform=directory.platform,
        ) from None
    return Reply(
        title=ctx.t("directory.title", platform=ctx.platform_name(directory.platform)),
        items=_directory.lines(ctx.t, report, directory.platform),
    )
