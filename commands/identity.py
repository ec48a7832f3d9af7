"""Who am I, linking a chat account to the roster, and my language."""

from __future__ import annotations

from datetime import timedelta

from bot.args import Arg, choice, text
from bot.errors import UserError
from bot.i18n import normalize_language
from bot.permissions import LINKED, PUBLIC
from bot.registry import Area
from bot.replies import Reply
from bot.timefmt import utcnow, zone
from commands._backend import Ctx, principal_for, staff_of
from storage import identity, linking

area = Area("identity")


@area.command("whoami", aliases=["我的信息", "我是谁"], private=True)
async def whoami(ctx: Ctx) -> Reply:
    staff = staff_of(ctx)
    yes, no = ctx.t("identity.yes"), ctx.t("identity.no")
    roles = [r for r in ctx.user.roles if r.name not in ("staff",)]
    role_text = ctx.join(
        [
            ctx.t(f"role.{r.name}") + (ctx.paren(r.scope) if r.scope else "")
            for r in sorted(roles, key=lambda r: (r.name, r.scope or ""))
        ]
    ) or ctx.t("role.staff")
    fields = [
        (ctx.t("identity.field.staff_no"), staff.staff_no),
        (ctx.t("identity.field.name"), staff.name),
        (ctx.t("identity.field.department"), staff.department or "—"),
        (ctx.t("identity.field.sub_union"), staff.sub_union or "—"),
        (ctx.t("identity.field.employment"), ctx.t(f"identity.employment.{staff.employment_type}")),
        (ctx.t("identity.field.member"), yes if staff.union_member else no),
        (
            ctx.t("identity.field.delegate"),
            yes + ctx.paren(staff.delegation) if staff.delegate and staff.delegation else no,
        ),
        (ctx.t("identity.field.roles"), role_text),
        (ctx.t("identity.field.email"), staff.email or "—"),
        (ctx.t("identity.field.phone"), staff.phone or "—"),
        (
            ctx.t("identity.field.platforms"),
            ctx.join([ctx.platform_name(p) for p in staff.platforms]) or "—",
        ),
        (ctx.t("identity.field.language"), ctx.t(f"identity.language.{ctx.lang}")),
    ]
    return Reply(
        title=ctx.t("identity.whoami_title"), fields=fields, footer=ctx.t("identity.whoami_footer")
    )


async def _link(ctx: Ctx, code: str | None) -> Reply:
    sender = ctx.message.sender
    if ctx.message.in_group:
        raise UserError("identity.link_in_group")
    if not code:
        if ctx.principal is not None:
            return Reply(text=ctx.t("identity.welcome_back", name=ctx.principal.name))
        return Reply(text=ctx.t("identity.welcome"))
    settings = ctx.settings
    view = await linking.link_with_code(
        ctx.services,
        sender.platform,
        sender.user_id,
        code,
        display_name=sender.display_name,
        max_failures=settings.link_max_failures,
        window=timedelta(minutes=settings.link_window_minutes),
    )
    ctx.principal = principal_for(view)
    ctx.lang = view.language or ctx.lang
    return Reply(
        text=ctx.t("identity.link.done", name=view.name, staff_no=view.staff_no),
        footer=ctx.t("identity.link.next"),
    )


@area.command(
    "link",
    aliases=["绑定"],
    permission=PUBLIC,
    args=[Arg("code", text(40), metavar="CODE", rest=True)],
)
async def link(ctx: Ctx) -> Reply:
    code: str = ctx.args["code"]
    return await _link(ctx, code)


@area.command(
    "start",
    aliases=["开始"],
    permission=PUBLIC,
    hidden=True,
    args=[Arg("code", text(64), required=False, metavar="CODE", rest=True)],
)
async def start(ctx: Ctx) -> Reply:
    code: str | None = ctx.args["code"]
    return await _link(ctx, code)


LANGUAGE_WORDS = {
    "zh": "zh",
    "中文": "zh",
    "cn": "zh",
    "zh-cn": "zh",
    "en": "en",
    "english": "en",
    "英文": "en",
    "英语": "en",
}


@area.command(
    "lang",
    aliases=["语言", "language"],
    permission=LINKED,
    args=[Arg("language", choice(LANGUAGE_WORDS, "identity.language.{value}"), required=False)],
)
async def lang(ctx: Ctx) -> Reply:
    wanted: str | None = ctx.args["language"]
    if wanted is None:
        return Reply(
            text=ctx.t("identity.language_now", language=ctx.t(f"identity.language.{ctx.lang}"))
        )
    language = normalize_language(wanted) or "zh"
    await identity.set_language(ctx.services, ctx.user.id, language)
    ctx.lang = language
    return Reply(
        text=ctx.t("identity.language_set", language=ctx.t(f"identity.language.{language}"))
    )


@area.command(
    "timezone",
    aliases=["时区", "tz"],
    permission=LINKED,
    args=[Arg("zone", text(64), required=False, metavar="ZONE")],
)
async def timezone(ctx: Ctx) -> Reply:
    """Times are shown in each person's zone; staff abroad (visiting scholars) can set theirs."""
    wanted: str | None = ctx.args["zone"]
    if wanted is None:
        return Reply(text=ctx.t("identity.timezone_now", zone=str(ctx.tz), now=ctx.when(utcnow())))
    try:
        tz = zone(wanted)
    except ValueError:
        raise UserError("identity.timezone_unknown", zone=wanted) from None
    await identity.set_timezone(ctx.services, ctx.user.id, wanted)
    ctx.tz = tz
    return Reply(text=ctx.t("identity.timezone_set", zone=wanted, now=ctx.when(utcnow())))
