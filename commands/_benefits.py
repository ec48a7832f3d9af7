"""What the benefits commands share: the policy pack in force, the caller as a reviewer,
and the words for statuses and reasons."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url

from bot.config import Settings
from commands._backend import Ctx
from storage.benefits.applications import Reviewer
from storage.benefits.policy import Item, Pack, PolicyHolder, holder
from storage.benefits.reminders import BenefitsClock
from storage.files import DiskFileStore, FileStore
from storage.models import BenefitApplication

BENEFITS_FILE = "UNIONBOT_BENEFITS_FILE"
FILES_DIR = "UNIONBOT_FILES_DIR"
RETENTION_YEARS = "UNIONBOT_EVIDENCE_RETENTION_YEARS"


def file_store(settings: Settings) -> FileStore:
    """Where evidence files are kept: UNIONBOT_FILES_DIR, else `unionbot-files` beside an
    SQLite database file, else in the working directory."""
    configured = settings.value(FILES_DIR)
    if configured:
        return DiskFileStore(configured)
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database:
        return DiskFileStore(Path(url.database).resolve().parent / "unionbot-files")
    return DiskFileStore("unionbot-files")


def retention_years(settings: Settings) -> int:
    """How long decided applications keep their evidence files (checked at start-up)."""
    raw = settings.value(RETENTION_YEARS) or "3"
    if not raw.isdigit() or not 1 <= int(raw) <= 50:
        raise ValueError(f"{RETENTION_YEARS}={raw!r}: give a whole number of years, 1 to 50")
    return int(raw)


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


def clock(settings: Settings) -> BenefitsClock:
    """What the scheduling tick needs of the benefits, from the settings."""
    return BenefitsClock(policy(settings), file_store(settings), retention_years(settings))
