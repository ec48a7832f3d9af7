"""The confidential side of the union: the hardship register (困难职工档案), labour-dispute
mediation (劳动争议调解) and joining the union (入会). Every reply is private."""

from __future__ import annotations

from bot.args import Arg, Option, choice, integer, parse_date, text
from bot.permissions import LINKED, roles
from bot.registry import Area
from bot.replies import Choice, Reply
from commands._backend import Ctx, staff_of, today
from commands._benefits import money, reviewer
from storage.benefits import confidential
from storage.benefits.confidential import CATEGORIES, MEDIATION, MEMBERSHIP, HardshipEntry

area = Area("hardship")

ID = Arg("id", integer(1), metavar="ID")
OFFICERS = roles("officer")
MEDIATORS = roles("mediator")
CATEGORY_WORDS = {c: c for c in CATEGORIES} | {
    "低保": "dibao",
    "低保边缘": "near_dibao",
    "意外致困": "accident",
    "其他": "other",
}


def entry_line(ctx: Ctx, entry: HardshipEntry) -> str:
    record = entry.record
    review = f" · {ctx.t('hardship.next_review')} {ctx.day(record.next_review)}"
    return (
        f"#{record.id} {entry.name} {entry.staff_no} · {entry.sub_union or '—'} · "
        f"{ctx.t(f'hardship.category.{record.category}')} · "
        f"{ctx.t(f'hardship.status.{record.status}')}{review if record.next_review else ''}"
    )


@area.command(
    "hardship report",
    aliases=["困难 报告"],
    args=[Arg("text", text(2000), rest=True, metavar="WHAT")],
    permission=LINKED,
    private=True,
)
async def report(ctx: Ctx) -> Reply:
    if ctx.message.in_group:
        return Reply(text=ctx.t("hardship.private_only"), error=True)
    await confidential.report_self(ctx.services, staff_of(ctx), ctx.args["text"])
    return Reply(text=ctx.t("hardship.reported"))


@area.command("hardship list", aliases=["困难 列表"], permission=OFFICERS, private=True)
async def listing(ctx: Ctx) -> Reply:
    found = await confidential.register_for(ctx.services, reviewer(ctx))
    if not found:
        return Reply(title=ctx.t("hardship.list_title"), text=ctx.t("hardship.none"))
    return Reply(
        title=ctx.t("hardship.list_title"),
        items=[entry_line(ctx, e) for e in found],
        footer=ctx.t("hardship.confidential"),
    )


@area.command("hardship show", aliases=["困难 查看"], args=[ID], permission=OFFICERS, private=True)
async def show(ctx: Ctx) -> Reply:
    entry = await confidential.show(ctx.services, reviewer(ctx), ctx.args["id"])
    record = entry.record
    fields = [
        (ctx.t("hardship.field.person"), f"{entry.name} {entry.staff_no}"),
        (ctx.t("hardship.field.sub_union"), entry.sub_union or "—"),
        (ctx.t("hardship.field.category"), ctx.t(f"hardship.category.{record.category}")),
        (ctx.t("hardship.field.household"), str(record.household_size or "—")),
        (ctx.t("hardship.field.income"), money(ctx, record.income_per_head)),
        (ctx.t("hardship.field.causes"), record.causes or "—"),
        (ctx.t("hardship.field.support"), record.support or "—"),
        (ctx.t("hardship.field.next_review"), ctx.day(record.next_review)),
        (ctx.t("hardship.field.status"), ctx.t(f"hardship.status.{record.status}")),
    ]
    return Reply(
        title=ctx.t("hardship.show_title", id=record.id),
        fields=fields,
        footer=ctx.t("hardship.confidential"),
    )


@area.command(
    "hardship add",
    aliases=["困难 登记"],
    args=[
        Arg("staff_no", text(32), metavar="STAFF_NO"),
        Arg("category", choice(CATEGORY_WORDS, "hardship.category.{value}")),
    ],
    options=[
        Option("household", integer(1, 30), metavar="N"),
        Option("income", integer(0, 1_000_000), metavar="YUAN"),
        Option("causes", text(2000), metavar="TEXT"),
        Option("support", text(2000), metavar="TEXT"),
        Option("review", parse_date, metavar="DATE"),
    ],
    permission=OFFICERS,
    private=True,
)
async def add(ctx: Ctx) -> Reply:
    record = await confidential.register(
        ctx.services,
        reviewer(ctx),
        ctx.args["staff_no"],
        category=ctx.args["category"],
        household_size=ctx.args["household"],
        income_per_head=ctx.args["income"],
        causes=ctx.args["causes"] or "",
        support=ctx.args["support"] or "",
        next_review=ctx.args["review"],
        today=today(ctx),
    )
    return Reply(text=ctx.t("hardship.registered", id=record.id, staff_no=ctx.args["staff_no"]))


@area.command("hardship visits", aliases=["送温暖"], permission=OFFICERS, private=True)
async def visits(ctx: Ctx) -> Reply:
    """The 送温暖 visiting list for the coming festival, most in need first."""
    found = await confidential.register_for(ctx.services, reviewer(ctx))
    if not found:
        return Reply(title=ctx.t("hardship.visits_title"), text=ctx.t("hardship.none"))
    return Reply(
        title=ctx.t("hardship.visits_title"),
        items=[
            f"☐ {e.name} {e.staff_no} · {e.sub_union or '—'} · "
            f"{ctx.t(f'hardship.category.{e.record.category}')}"
            + (f" · {e.record.support}" if e.record.support else "")
            for e in found
        ],
        footer=ctx.t("hardship.visits_footer", count=len(found)),
    )


# ---------------------------------------------------------------- mediation


@area.command(
    "mediation request",
    aliases=["调解 申请"],
    args=[Arg("text", text(2000), rest=True, metavar="WHAT")],
    permission=LINKED,
    private=True,
)
async def mediation_request(ctx: Ctx) -> Reply:
    if ctx.message.in_group:
        return Reply(text=ctx.t("hardship.private_only"), error=True)
    row = await confidential.request(ctx.services, staff_of(ctx), MEDIATION, ctx.args["text"])
    return Reply(text=ctx.t("hardship.mediation_sent", id=row.id))


@area.command("mediation list", aliases=["调解 列表"], permission=MEDIATORS, private=True)
async def mediation_list(ctx: Ctx) -> Reply:
    found = await confidential.requests(ctx.services, MEDIATION, reviewer(ctx))
    if not found:
        return Reply(title=ctx.t("hardship.mediation_title"), text=ctx.t("hardship.none"))
    return Reply(
        title=ctx.t("hardship.mediation_title"),
        items=[f"#{row.id} {who} · {ctx.when(row.created_at)}" for row, who in found],
        footer=ctx.t("hardship.confidential"),
    )


@area.command(
    "mediation show", aliases=["调解 查看"], args=[ID], permission=MEDIATORS, private=True
)
async def mediation_show(ctx: Ctx) -> Reply:
    row, person = await confidential.read_request(ctx.services, MEDIATION, ctx.args["id"])
    return Reply(
        title=ctx.t("hardship.mediation_show", id=row.id),
        text=row.text,
        fields=[
            (ctx.t("hardship.field.person"), f"{person.name} {person.staff_no}"),
            (ctx.t("hardship.field.contact"), person.phone or person.email or "—"),
            (ctx.t("hardship.field.status"), ctx.t(f"hardship.request.{row.status}")),
        ],
        choices=[Choice(ctx.t("hardship.button.close"), f"/mediation close {row.id}")]
        if row.status == "open"
        else [],
        footer=ctx.t("hardship.confidential"),
    )


@area.command(
    "mediation close", aliases=["调解 结案"], args=[ID], permission=MEDIATORS, private=True
)
async def mediation_close(ctx: Ctx) -> Reply:
    row, _ = await confidential.decide(
        ctx.services, MEDIATION, reviewer(ctx), ctx.args["id"], approve=True
    )
    return Reply(text=ctx.t("hardship.mediation_closed", id=row.id))


# ---------------------------------------------------------------- joining the union


@area.command(
    "join",
    aliases=["入会"],
    args=[Arg("text", text(500), required=False, rest=True, metavar="NOTE")],
    permission=LINKED,
    private=True,
)
async def join(ctx: Ctx) -> Reply:
    row = await confidential.request(
        ctx.services, staff_of(ctx), MEMBERSHIP, ctx.args["text"] or ""
    )
    return Reply(text=ctx.t("hardship.join_sent", id=row.id))


@area.command("join list", aliases=["入会 列表"], permission=OFFICERS, private=True)
async def join_list(ctx: Ctx) -> Reply:
    found = await confidential.requests(ctx.services, MEMBERSHIP, reviewer(ctx))
    if not found:
        return Reply(title=ctx.t("hardship.join_title"), text=ctx.t("hardship.none"))
    return Reply(
        title=ctx.t("hardship.join_title"),
        items=[f"#{row.id} {who} · {ctx.when(row.created_at)}" for row, who in found],
        choices=[
            Choice(ctx.t("hardship.button.approve", id=row.id), f"/join approve {row.id}")
            for row, _ in found[:5]
        ],
    )


async def _decide(ctx: Ctx, approve: bool) -> Reply:
    row, person = await confidential.decide(
        ctx.services, MEMBERSHIP, reviewer(ctx), ctx.args["id"], approve=approve
    )
    return Reply(text=ctx.t(f"hardship.join_{row.status}", name=person.name, id=row.id))


@area.command("join approve", aliases=["入会 批准"], args=[ID], permission=OFFICERS)
async def join_approve(ctx: Ctx) -> Reply:
    return await _decide(ctx, approve=True)


@area.command("join reject", aliases=["入会 不批准"], args=[ID], permission=OFFICERS)
async def join_reject(ctx: Ctx) -> Reply:
    return await _decide(ctx, approve=False)
