"""Platform events already handled, and short keys for buttons, both shared by all instances."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base
from storage.types import UTCDateTime


class ProcessedEvent(Base):
    """Slack retries and replays, Telegram's repeated updates: each event id is handled once."""

    __tablename__ = "processed_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    event_id: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("platform", "event_id"),
        Index("ix_processed_events_received_at", "received_at"),
    )


class ChoiceToken(Base):
    """A button's command behind a short key (Telegram's callback_data holds only 64 bytes)."""

    __tablename__ = "choice_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)
    command: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
