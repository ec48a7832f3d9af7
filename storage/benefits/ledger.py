"""The year's benefits ledger: every application filed that year, and the totals paid per
item and sub-union, for `unionbot export benefits`."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from storage.benefits.policy import Pack
from storage.models import BenefitApplication, Staff
from storage.store import Store

COLUMNS = (
    "id",
    "staff_no",
    "name",
    "sub_union",
    "item",
    "item_name",
    "status",
    "event_date",
    "filed_on",
    "amount_claimed",
    "amount_approved",
    "amount_paid",
    "paid_on",
)
TOTAL_COLUMNS = ("item", "item_name", "sub_union", "applications", "paid", "amount_paid")


async def rows(store: Store, pack: Pack, year: int) -> list[dict[str, Any]]:
    start = datetime(year, 1, 1, tzinfo=UTC)
    end = datetime(year + 1, 1, 1, tzinfo=UTC)
    found = await store.session.execute(
        select(BenefitApplication, Staff.staff_no, Staff.name, Staff.sub_union)
        .join(Staff, Staff.id == BenefitApplication.staff_id)
        .where(BenefitApplication.created_at >= start, BenefitApplication.created_at < end)
        .order_by(BenefitApplication.id)
    )
    out = []
    for application, staff_no, name, sub_union in found:
        item = pack.item(application.item)
        out.append(
            {
                "id": application.id,
                "staff_no": staff_no,
                "name": name,
                "sub_union": sub_union,
                "item": application.item,
                "item_name": item.name_zh if item else application.item,
                "status": application.status,
                "event_date": application.event_date.isoformat() if application.event_date else "",
                "filed_on": application.created_at.date().isoformat(),
                "amount_claimed": application.amount_claimed,
                "amount_approved": application.amount_approved,
                "amount_paid": application.amount_paid,
                "paid_on": application.paid_on.isoformat() if application.paid_on else "",
            }
        )
    return out


def totals(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    grouped: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in found:
        grouped[(row["item"], row["item_name"], row["sub_union"])].append(row)
    return [
        {
            "item": item,
            "item_name": name,
            "sub_union": sub_union,
            "applications": len(group),
            "paid": sum(1 for r in group if r["status"] == "paid"),
            "amount_paid": sum(r["amount_paid"] or 0 for r in group),
        }
        for (item, name, sub_union), group in sorted(grouped.items())
    ]
