"""A unit of work: one session and the actor on whose behalf it writes.

Every service takes a `Store`, so every change it makes can be audited with who
did it and through which platform, without passing those around separately.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(slots=True)
class Actor:
    staff_id: int | None
    platform: str  # "slack", "telegram", "console", "cli", "system"
    label: str = ""


SYSTEM = Actor(staff_id=None, platform="system", label="system")


@dataclass(slots=True)
class Store:
    session: AsyncSession
    actor: Actor = field(default_factory=lambda: SYSTEM)
