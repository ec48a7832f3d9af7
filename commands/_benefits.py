"""What the benefits commands share: the policy pack in force, the caller as a reviewer,
and the words for statuses and reasons."""

from __future__ import annotations

from bot.config import Settings
from commands._backend import Ctx
from storage.benefits.applications import Reviewer
from storage.benefits.policy import Item, Pack, PolicyHolder, holder
from storage.models import BenefitApplication

BENEFITS_FILE = "UNIONBOT_BENEFITS_FILE"


def policy(settings: Settings) -> PolicyHolder:
    """The pack of this deployment (its own file, or the example shipped with the bot)."""
    return holder(settings.value(BENEFITS_FILE) or None)


def pack(ctx: Ctx) -> Pack:
    return policy(ctx.settings).pack


def reviewer(ctx: Ctx) -> Reviewer:
    """The caller as the review rules see them: school level (an unscoped officer, or an
    administrator) and the sub-unions they are officer of."""
    scopes = ctx.user.scopes("officer")
    return Reviewer(
        staff_id=ctx.user.id,
        school=None in scopes or ctx.user.has("admin"),
        sub_unions=frozenset(s for s in scopes if s),
    )


def name(ctx: Ctx, item: Item | None, code: str = "") -> str:
    return item.name(ctx.lang) if item else code


def status(ctx: Ctx, application: BenefitApplication, the_pack: Pack) -> str:
    from storage.benefits.applications import PENDING, level

    label = ctx.t(f"benefits.status.{application.status}")
    if application.status == PENDING and the_pack.item(application.item):
        label += ctx.paren(ctx.t(f"benefits.level.{level(the_pack, application)}"))
    return label


def money(ctx: Ctx, amount: int | None) -> str:
    if amount is None:
        return "—"
    return f"{amount:,} 元" if ctx.lang == "zh" else f"{amount:,} yuan"
