"""Handling each platform event once, and keeping button commands behind short keys."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import delete, select

from storage.clock import utcnow
from storage.models.events import ChoiceToken, ProcessedEvent
from storage.store import Store
from storage.upsert import insert_ignore


async def first_time(store: Store, platform: str, *event_ids: str) -> bool:
    """True the first time an event is seen, by any instance, under any of its ids; False
    for a retry or a replay (one id already seen is enough)."""
    now = utcnow()
    keys = dict.fromkeys(event_id[:200] for event_id in event_ids)
    inserted = await insert_ignore(
        store.session,
        ProcessedEvent,
        [{"platform": platform, "event_id": key, "received_at": now} for key in keys],
        conflict=("platform", "event_id"),
    )
    return inserted == len(keys)


async def forget_events_before(store: Store, age: timedelta) -> None:
    await store.session.execute(
        delete(ProcessedEvent).where(ProcessedEvent.received_at < utcnow() - age)
    )


async def token_for(store: Store, command: str) -> str:
    token = secrets.token_urlsafe(12)
    store.session.add(ChoiceToken(token=token, command=command, created_at=utcnow()))
    await store.session.flush()
    return token


async def command_for(store: Store, token: str) -> str | None:
    return await store.session.scalar(select(ChoiceToken.command).where(ChoiceToken.token == token))
