"""Officers' digests: when mine comes, a preview now, and the defaults per role.

The digest itself is composed and sent by the clock (`storage.digests`); a preview is
rendered by the same renderer as the sent one, so `/digest now` shows exactly what the
next digest would say if it came now, without moving its window.
"""

from __future__ import annotations

from bot.args import Arg, choice, text
from bot.errors import UserError
from bot.notices import render_notice
from bot.permissions import roles
from bot.registry import Area
from bot.replies import Choice, Reply
from commands._backend import Ctx
from commands._benefits import pack
from storage.clock import utcnow
from storage.digests import readers, schedule, service
from storage.digests.readers import Reader
from storage.digests.schedule import DAILY, OFF, WEEKLY, Preference

area = Area("digests")
DIGEST_ROLES = roles(*readers.ROLES)
DAYS = {
    **{name: n for n, name in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))},
    **{
        name: n
        for n, name in enumerate(
            ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        )
    },
    **{f"周{c}": n for n, c in enumerate("一二三四五六日")},
    **{f"星期{c}": n for n, c in enumerate("一二三四五六日")},
    "周天": 6,
    "星期天": 6,
    **{str(n + 1): n for n in range(7)},
}
ROLE_WORDS = {
    **{role: role for role in readers.ROLES},
    "管理员": "admin",
    "工会干部": "officer",
    "提案委员会": "committee",
    "团长": "head",
    "承办人": "handler",
}
WHEN = Arg("when", text(40), required=False, rest=True, metavar="[DAY] [HH:MM]")


async def _reader(ctx: Ctx) -> Reader:
    found = await readers.readers(ctx.services, [ctx.user.id])
    if not found:  # roles changed since the message came in
        raise UserError("digests.error.no_digest")
    return found[0]


def _parse(ctx: Ctx, cadence: str, words: str | None, current: Preference) -> Preference:
    """'weekly fri 17:00', 'daily 7:45': what is not said keeps the current choice
    (and a new weekly one starts on Monday)."""
    at = current.at
    weekday = current.weekday if current.cadence == WEEKLY else 0
    for word in (words or "").replace("：", ":").split():
        if ":" in word:
            try:
                at = schedule.parse_time(word)
            except ValueError:
                raise UserError("digests.error.bad_time", value=word) from None
        elif cadence == WEEKLY and word.casefold() in DAYS:
            weekday = DAYS[word.casefold()]
        else:
            raise UserError(f"digests.error.bad_when_{cadence}", value=word)
    return Preference(cadence, at, weekday)


def describe(ctx: Ctx, preference: Preference) -> str:
    if preference.cadence == OFF:
        return ctx.t("digests.setting.off")
    if preference.cadence == WEEKLY:
        return ctx.t(
            "digests.setting.weekly",
            day=ctx.t(f"digests.day.{preference.weekday}"),
            at=f"{preference.at:%H:%M}",
        )
    return ctx.t("digests.setting.daily", at=f"{preference.at:%H:%M}")


def _choices(ctx: Ctx, preference: Preference) -> list[Choice]:
    offered = [Choice(ctx.t("digests.button.now"), "/digest now")]
    if preference.cadence != DAILY:
        offered.append(Choice(ctx.t("digests.button.daily"), "/digest daily"))
    if preference.cadence != WEEKLY:
        offered.append(Choice(ctx.t("digests.button.weekly"), "/digest weekly"))
    if preference.cadence != OFF:
        offered.append(Choice(ctx.t("digests.button.off"), "/digest off", style="danger"))
    return offered


async def _setting(ctx: Ctx, reader: Reader, changed: bool) -> Reply:
    preference, source = await readers.preference_of(ctx.services, reader)
    source_text = (
        ctx.t("digests.source.own")
        if source == "own"
        else ctx.t("digests.source.role", role=ctx.t(f"digests.role.{source}"))
        if source != "built_in"
        else ctx.t("digests.source.built_in")
    )
    upcoming = schedule.next_moment(preference, ctx.tz, utcnow())
    lines = [
        ctx.t(
            "digests.setting.set" if changed else "digests.setting.now",
            setting=describe(ctx, preference),
            source=source_text,
        )
    ]
    if upcoming is not None:
        lines.append(ctx.t("digests.setting.next", when=ctx.when(upcoming)))
    return Reply(text="\n".join(lines), choices=_choices(ctx, preference), private=True)


@area.command("digest", aliases=["摘要"], permission=DIGEST_ROLES, private=True)
async def show(ctx: Ctx) -> Reply:
    return await _setting(ctx, await _reader(ctx), changed=False)


async def _choose(ctx: Ctx, cadence: str) -> Reply:
    reader = await _reader(ctx)
    current, _source = await readers.preference_of(ctx.services, reader)
    wanted = _parse(ctx, cadence, ctx.args.get("when"), current)
    await readers.set_own(ctx.services, reader.staff_id, wanted)
    return await _setting(ctx, reader, changed=True)


@area.command(
    "digest daily", aliases=["摘要 每天"], args=[WHEN], permission=DIGEST_ROLES, private=True
)
async def daily(ctx: Ctx) -> Reply:
    return await _choose(ctx, DAILY)


@area.command(
    "digest weekly", aliases=["摘要 每周"], args=[WHEN], permission=DIGEST_ROLES, private=True
)
async def weekly(ctx: Ctx) -> Reply:
    return await _choose(ctx, WEEKLY)


@area.command("digest off", aliases=["摘要 关闭"], permission=DIGEST_ROLES, private=True)
async def off(ctx: Ctx) -> Reply:
    return await _choose(ctx, OFF)


@area.command("digest reset", aliases=["摘要 恢复默认"], permission=DIGEST_ROLES, private=True)
async def reset(ctx: Ctx) -> Reply:
    reader = await _reader(ctx)
    await readers.set_own(ctx.services, reader.staff_id, None)
    return await _setting(ctx, reader, changed=True)


@area.command("digest now", aliases=["摘要 预览"], permission=DIGEST_ROLES, private=True)
async def now(ctx: Ctx) -> Reply:
    """What the next digest would say if it came now; its window does not move."""
    reader = await _reader(ctx)
    digest = await service.preview(ctx.services, reader, utcnow(), ctx.settings.tz, pack(ctx))
    if digest.empty:
        if digest.first:
            return Reply(text=ctx.t("digests.preview_empty_first"), private=True)
        return Reply(
            text=ctx.t("digests.preview_empty", since=ctx.when(digest.window.start)),
            private=True,
        )
    reply = render_notice(
        ctx.catalog,
        ctx.lang,
        service.message_key(digest),
        service.why_key(reader),
        service.message_params(digest, weekly=False),
        ctx.tz,
        sections=digest.sections,
    )
    reply.title = ctx.t("digests.preview_title")
    return reply


@area.command(
    "digest default",
    aliases=["摘要 默认"],
    args=[
        Arg("role", choice(ROLE_WORDS, "digests.role.{value}")),
        Arg(
            "cadence",
            choice(
                {
                    DAILY: DAILY,
                    WEEKLY: WEEKLY,
                    OFF: OFF,
                    "每天": DAILY,
                    "每周": WEEKLY,
                    "关闭": OFF,
                },
                "digests.cadence.{value}",
            ),
        ),
        WHEN,
    ],
    permission=roles("admin"),
)
async def default(ctx: Ctx) -> Reply:
    """An administrator's default for everyone holding a role."""
    role, cadence = ctx.args["role"], ctx.args["cadence"]
    wanted = _parse(ctx, cadence, ctx.args.get("when"), schedule.BUILT_IN)
    await readers.set_default(ctx.services, role, wanted)
    return Reply(
        text=ctx.t(
            "digests.default_set",
            role=ctx.t(f"digests.role.{role}"),
            setting=describe(ctx, wanted),
        )
    )
