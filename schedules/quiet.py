"""Quiet hours: non-urgent messages wait until the recipient's morning."""

from __future__ import annotations

from datetime import datetime, time, timedelta, tzinfo


def parse_window(text: str) -> tuple[time, time]:
    """'22:00-07:30' -> (22:00, 07:30); raises ValueError with a readable message."""
    try:
        start, end = (time.fromisoformat(part.strip()) for part in text.split("-", 1))
    except ValueError:
        raise ValueError(f"quiet hours {text!r}: write them like 22:00-07:30") from None
    return start, end


def quiet_until(moment: datetime, tz: tzinfo, window: tuple[time, time]) -> datetime | None:
    """If `moment` falls in the quiet window in zone `tz`, when the window ends; else None."""
    start, end = window
    if start == end:
        return None
    local = moment.astimezone(tz)
    now = local.time()
    overnight = start > end
    inside = (now >= start or now < end) if overnight else (start <= now < end)
    if not inside:
        return None
    day = local.date()
    if overnight and now >= start:
        day += timedelta(days=1)
    return datetime.combine(day, end, tzinfo=tz)
