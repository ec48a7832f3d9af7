"""Handling each platform event once, and keeping button commands behind short keys."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import delete, select

from storage.clock import utcnow
from storage.models.events import ChoiceToken, ProcessedEvent
from storage.store import Store
from storage.upsert import insert_ignore


async def first_time(store: Store, platform: str, event_id: str) -> bool:
    """True the first time this event id is seen, by any instance; False for a retry or replay."""
    inserted = await insert_ignore(
        store.session,
        ProcessedEvent,
        [{"platform": platform, "event_id": event_id[:200], "received_at": utcnow()}],
        conflict=("platform", "event_id"),
    )
    return inserted == 1


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
