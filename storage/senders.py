"""The instances that send, as the shared store knows them: who is alive, for which
platforms. Each sender says so every round; one not heard of for a while is gone."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import delete, select, update

from storage.clock import utcnow
from storage.models import SenderInstance
from storage.store import Store
from storage.upsert import insert_ignore

FORGOTTEN_AFTER = timedelta(days=1)  # a crashed instance's row is dropped after this


async def heartbeat(store: Store, holder: str, platforms: list[str]) -> None:
    now = utcnow()
    # Instances that crashed never said goodbye: their rows go after a day.
    await store.session.execute(
        delete(SenderInstance).where(SenderInstance.seen_at < now - FORGOTTEN_AFTER)
    )
    added = await insert_ignore(
        store.session,
        SenderInstance,
        [{"holder": holder, "platforms": sorted(platforms), "seen_at": now}],
        ("holder",),
    )
    if not added:
        await store.session.execute(
            update(SenderInstance)
            .where(SenderInstance.holder == holder)
            .values(platforms=sorted(platforms), seen_at=now)
        )


async def live(store: Store, within: timedelta) -> Counter[str]:
    """How many live instances send on each platform."""
    rows = await store.session.scalars(
        select(SenderInstance.platforms).where(SenderInstance.seen_at >= utcnow() - within)
    )
    return Counter(platform for platforms in rows for platform in platforms)


async def forget(store: Store, holder: str) -> None:
    """An instance stopping cleanly hands its share back at once."""
    await store.session.execute(delete(SenderInstance).where(SenderInstance.holder == holder))
