"""What the database keeps of an uploaded file, wherever it is attached: the content itself
is in the file store (`storage.files`), under its SHA-256."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.types import UTCDateTime


class StoredFileColumns:
    """Name, size, type and SHA-256 of a file, and when it came."""

    name: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(Integer)
    mime_type: Mapped[str] = mapped_column(String(100))
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
