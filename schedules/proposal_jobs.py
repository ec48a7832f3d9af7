"""Proposal work the clock does: closing answered proposals whose rating window has passed."""

from __future__ import annotations

import logging
from datetime import tzinfo

from storage.clock import utcnow
from storage.db import Database
from storage.proposals import service
from storage.store import SYSTEM, Store

log = logging.getLogger(__name__)


async def close_unrated(database: Database, tz: tzinfo) -> list[int]:
    """No rating within the window: the proposal closes as it is (idempotent, safe to repeat)."""
    async with database.session() as session:
        closed = await service.expire_ratings(
            Store(session, SYSTEM), utcnow().astimezone(tz).date()
        )
    if closed:
        log.info("closed %d proposals whose rating window ended: %s", len(closed), closed)
    return closed
