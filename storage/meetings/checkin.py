"""Rotating sign-in codes: a short code that changes every 30 seconds.

The code for a window is derived from the meeting's secret (HMAC), so every instance
computes the same one without storing it; the current and the previous window are
accepted, so a code read off the screen just before it changes still works.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

WINDOW_SECONDS = 30
DIGITS = 6


def window(moment: datetime) -> int:
    return int(moment.timestamp()) // WINDOW_SECONDS


def code_for(secret: str, window_number: int) -> str:
    digest = hmac.new(secret.encode(), str(window_number).encode(), hashlib.sha256).digest()
    return str(int.from_bytes(digest[:8], "big") % 10**DIGITS).zfill(DIGITS)


def current_code(secret: str, moment: datetime) -> tuple[str, int]:
    """The code to show now, and how many seconds it has left."""
    number = window(moment)
    left = WINDOW_SECONDS - int(moment.timestamp()) % WINDOW_SECONDS
    return code_for(secret, number), left


def is_valid(secret: str, code: str, moment: datetime) -> bool:
    given = "".join(ch for ch in code if ch.isdigit())
    number = window(moment)
    return any(hmac.compare_digest(given, code_for(secret, n)) for n in (number, number - 1))
