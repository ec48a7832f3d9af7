"""Many people at once: staff put on the roster in one statement and linked to a platform,
for the tests and benchmarks where dozens or hundreds write together."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import insert, select

from storage.clock import utcnow
from storage.models import Identity, Staff


async def add_people(
    app: Any, count: int, platform: str, user_id: Callable[[str], str] = str, prefix: str = "P"
) -> list[str]:
    """`count` union members, each linked on `platform` under `user_id(staff_no)`."""
    now = utcnow()
    numbers = [f"{prefix}{i:05d}" for i in range(count)]
    async with app.database.session() as session:
        await session.execute(
            insert(Staff),
            [
                {
                    "staff_no": no,
                    "name": f"教职工{no}",
                    "department": "教务处",
                    "sub_union": "机关分工会",
                    "employment_type": "establishment",
                    "union_member": True,
                    "active": True,
                    "created_at": now,
                    "updated_at": now,
                }
                for no in numbers
            ],
        )
        ids = dict(
            (
                await session.execute(
                    select(Staff.staff_no, Staff.id).where(Staff.staff_no.in_(numbers))
                )
            ).all()
        )
        await session.execute(
            insert(Identity),
            [
                {
                    "platform": platform,
                    "platform_user_id": user_id(no),
                    "staff_id": ids[no],
                    "linked_at": now,
                }
                for no in numbers
            ],
        )
    return numbers
