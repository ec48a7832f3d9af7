"""Benefits (福利): what I am entitled to and why, my applications, and their review."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from bot.args import Arg, integer, parse_date, text
from bot.config import Settings
from bot.forms import Form, FormField, StartForm
from bot.permissions import LINKED, roles
from bot.registry import Area
from bot.replies import Choice, Reply
from commands._backend import Ctx, staff_of, today
from commands._benefits import money, name, pack, policy, status
from commands.exams import exam_line
from storage.benefits import applications, exams
from storage.benefits.applications import GRANTED, person_of
from storage.benefits.eligibility import check
from storage.benefits.policy import Item, Pack, PolicyError
from storage.models import BenefitApplication

area = Area("benefits")
EXAM = "exam"  # the item whose appointments come from the imported schedule

FIELD_KINDS = {
    "event_date": (parse_date, "benefits.form.field_event_date", "benefits.form.hint_date"),
    "description": (text(2000), "benefits.form.field_description", None),
    "amount_claimed": (integer(0, 10_000_000), "benefits.form.field_amount", None),
}


def form_name(item: Item) -> str:
    return f"apply:{item.code}"


def rule_line(ctx: Ctx, item: Item) -> str:
    """What an item gives and how often, in one line, with where the rule comes from."""
    every = item.every_years
    parts = [item.benefit(ctx.lang), ctx.t(f"benefits.frequency.{item.frequency}", n=every)]
    line = " · ".join(p for p in parts if p)
    return line + (ctx.paren(item.source(ctx.lang)) if item.source(ctx.lang) else "")


async def _granted(ctx: Ctx) -> dict[str, list[date]]:
    found: dict[str, list[date]] = defaultdict(list)
    for row in await applications.mine(ctx.services, ctx.user.id):
        if row.status in GRANTED:
            found[row.item].append(row.event_date or row.created_at.date())
    return found


@area.command(
    "benefits",
    aliases=["福利", "benefits list", "benefit list", "福利 列表"],
    args=[Arg("item", text(64), required=False, metavar="ITEM", rest=True)],
    permission=LINKED,
    private=True,
)
async def overview(ctx: Ctx) -> Reply:
    if ctx.args["item"]:  # 福利 体检: the same as /benefits show 体检
        return await _rule(ctx, ctx.args["item"])
    the_pack = pack(ctx)
    person = person_of(staff_of(ctx))
    granted = await _granted(ctx)
    year = today(ctx).year
    mine: list[str] = []
    not_mine: list[str] = []
    for item in the_pack.items:
        verdict = check(person, item, today(ctx), granted.get(item.code, []))
        if verdict.eligible:
            apply = ctx.paren(f"/apply {item.code}") if item.apply else ""
            line = f"{item.name(ctx.lang)}: {rule_line(ctx, item)}{apply}"
            if item.code == EXAM:
                line += "; " + exam_line(ctx, await exams.mine(ctx.services, ctx.user.id, year))
            mine.append(line)
        else:
            reason = ctx.t(f"benefits.reason.{verdict.reason}", **verdict.params)
            not_mine.append(f"{item.name(ctx.lang)}: {reason}")
    items = [ctx.t("benefits.for_you"), *mine]
    if not_mine:
        items += [ctx.t("benefits.not_for_you"), *not_mine]
    footer = ctx.t(
        "benefits.footer", pack=the_pack.name_zh if ctx.lang == "zh" else the_pack.name_en
    )
    choices = [Choice(ctx.t("benefits.button.mine"), "/benefits mine")]
    if not person.union_member:
        choices.append(Choice(ctx.t("benefits.button.join"), "/join", "primary"))
    return Reply(title=ctx.t("benefits.title"), items=items, footer=footer, choices=choices)


@area.command(
    "benefits show",
    aliases=["福利 查看"],
    args=[Arg("item", text(64), metavar="ITEM", rest=True)],
    permission=LINKED,
    private=True,
)
async def show(ctx: Ctx) -> Reply:
    return await _rule(ctx, ctx.args["item"])


async def _rule(ctx: Ctx, wanted: str) -> Reply:
    """One item's rule in full, for the caller."""
    the_pack = pack(ctx)
    item = applications.item_of(the_pack, wanted)
    granted = await _granted(ctx)
    verdict = check(person_of(staff_of(ctx)), item, today(ctx), granted.get(item.code, []))
    fields = [
        (ctx.t("benefits.field.benefit"), item.benefit(ctx.lang) or "—"),
        (ctx.t("benefits.field.amount"), money(ctx, item.amount) if item.amount else "—"),
        (
            ctx.t("benefits.field.frequency"),
            ctx.t(f"benefits.frequency.{item.frequency}", n=item.every_years),
        ),
        (ctx.t("benefits.field.source"), item.source(ctx.lang) or "—"),
        (
            ctx.t("benefits.field.for_you"),
            ctx.t("benefits.reason.ok")
            if verdict.eligible
            else ctx.t(f"benefits.reason.{verdict.reason}", **verdict.params),
        ),
    ]
    if item.apply:
        window = (
            ctx.t("benefits.claim_window", days=item.claim_within_days)
            if item.claim_within_days
            else ctx.t("benefits.claim_any_time")
        )
        chain = " → ".join(ctx.t(f"benefits.level.{level}") for level in item.review)
        fields += [
            (ctx.t("benefits.field.claim"), window),
            (ctx.t("benefits.field.evidence"), item.evidence(ctx.lang) or "—"),
            (ctx.t("benefits.field.review"), chain),
        ]
    choices = (
        [Choice(ctx.t("benefits.button.apply"), f"/apply {item.code}", "primary")]
        if item.apply and verdict.eligible
        else []
    )
    return Reply(title=item.name(ctx.lang), fields=fields, choices=choices)


@area.command("benefits mine", aliases=["福利 我的"], permission=LINKED, private=True)
async def mine(ctx: Ctx) -> Reply:
    the_pack = pack(ctx)
    rows = await applications.mine(ctx.services, ctx.user.id)
    exam = await exams.mine(ctx.services, ctx.user.id, today(ctx).year)
    exam_text = ctx.t("benefits.mine_exam", line=exam_line(ctx, exam))
    if not rows:
        return Reply(
            title=ctx.t("benefits.mine_title"), text=f"{exam_text}\n{ctx.t('benefits.mine_none')}"
        )
    return Reply(
        title=ctx.t("benefits.mine_title"),
        text=exam_text,
        items=[line(ctx, row, the_pack) for row in rows],
        footer=ctx.t("benefits.mine_footer"),
    )


def line(ctx: Ctx, row: BenefitApplication, the_pack: Pack, who: str = "") -> str:
    amount = row.amount_paid if row.amount_paid is not None else row.amount_approved
    paid = f" · {money(ctx, amount)}" if amount is not None else ""
    person = f" · {who}" if who else ""
    return (
        f"#{row.id} {name(ctx, the_pack.item(row.item), row.item)}{person} · "
        f"{status(ctx, row, the_pack)}{paid} · {ctx.when(row.created_at)}"
    )


@area.command("benefits reload", aliases=["福利 重新加载"], permission=roles("admin"))
async def reload(ctx: Ctx) -> Reply:
    try:
        the_pack = policy(ctx.settings).reload()
    except PolicyError as exc:
        return Reply(
            text=ctx.t("benefits.reload_failed", source=exc.source), items=exc.problems, error=True
        )
    ctx.registry.refresh_forms(ctx.settings)
    return Reply(text=ctx.t("benefits.reloaded", count=len(the_pack.items), source=the_pack.source))


# ---------------------------------------------------------------- applying


async def submit(ctx: Ctx, values: dict[str, Any], context: dict[str, Any]) -> Reply:
    application = await applications.apply(
        ctx.services,
        pack(ctx),
        staff_of(ctx),
        str(context["item"]),
        today=today(ctx),
        event_date=values.get("event_date"),
        description=values.get("description") or "",
        amount_claimed=values.get("amount_claimed"),
    )
    item = pack(ctx).item(application.item)
    return Reply(
        text=ctx.t("benefits.applied", id=application.id, item=name(ctx, item)),
        footer=ctx.t("benefits.applied_next", evidence=item.evidence(ctx.lang), id=application.id)
        if item and item.evidence(ctx.lang)
        else None,
        choices=[Choice(ctx.t("benefits.button.mine"), "/benefits mine")],
    )


def application_forms(settings: Settings) -> list[Form]:
    """One form per item people apply for, asking only what the pack says it needs."""
    forms = []
    for item in policy(settings).pack.items:
        if not item.apply:
            continue
        fields = tuple(
            FormField(
                field_name,
                FIELD_KINDS[field_name][1],
                FIELD_KINDS[field_name][0],
                required=field_name == "event_date",
                multiline=field_name == "description",
                hint_key=FIELD_KINDS[field_name][2],
            )
            for field_name in item.fields
        ) or (FormField("description", "benefits.form.field_description", text(2000), False),)
        forms.append(
            Form(
                name=form_name(item),
                title_key="benefits.form.title",
                fields=fields,
                on_submit=submit,
            )
        )
    return forms


area.form(application_forms)


@area.command(
    "apply",
    aliases=["申请"],
    args=[Arg("item", text(64), metavar="ITEM", rest=True)],
    permission=LINKED,
    private=True,
)
async def apply(ctx: Ctx) -> StartForm:
    item = await applications.may_apply(
        ctx.services, pack(ctx), staff_of(ctx), ctx.args["item"], today(ctx)
    )
    intro = Reply(
        text=ctx.t(
            "benefits.apply_intro",
            item=item.name(ctx.lang),
            benefit=item.benefit(ctx.lang),
            evidence=item.evidence(ctx.lang) or "—",
        )
    )
    return StartForm(form_name(item), context={"item": item.code}, intro=intro)
