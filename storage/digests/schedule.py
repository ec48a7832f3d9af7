"""When a digest is due: the latest scheduled moment in the person's own zone.

Wall-clock arithmetic in their zone (08:30 is 08:30 also across a daylight-saving change);
the window itself is kept as UTC instants in the digest rows, so a clock change or a
new time can neither leave a gap nor cover a moment twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

DAILY, WEEKLY, OFF = "daily", "weekly", "off"
CADENCES = (DAILY, WEEKLY, OFF)
DEFAULT_AT = time(8, 30)
LENGTH = {DAILY: timedelta(days=1), WEEKLY: timedelta(days=7)}


@dataclass(frozen=True, slots=True)
class Preference:
    """How often, at what local time and (weekly) on which day; Monday is 0."""

    cadence: str = DAILY
    at: time = DEFAULT_AT
    weekday: int = 0

    @property
    def label(self) -> str:
        return f"{self.cadence} {self.at:%H:%M}"


BUILT_IN = Preference()


def parse_time(text: str) -> time:
    """'8:30' or '08:30' -> 08:30; raises ValueError."""
    hours, _, minutes = text.strip().partition(":")
    if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
        raise ValueError(text)
    return time(int(hours), int(minutes))


def _at(day: date, at: time, tz: tzinfo) -> datetime:
    return datetime.combine(day, at, tzinfo=tz)


def due(preference: Preference, tz: tzinfo, now: datetime) -> tuple[str, datetime] | None:
    """The period whose moment came last (its key and its moment), or None when off."""
    if preference.cadence not in LENGTH:
        return None
    local = now.astimezone(tz)
    day = local.date()
    step = LENGTH[preference.cadence]
    if preference.cadence == WEEKLY:
        day -= timedelta(days=(day.weekday() - preference.weekday) % 7)
    if _at(day, preference.at, tz) > now:
        day -= step
    return f"{preference.cadence}:{day.isoformat()}", _at(day, preference.at, tz)


def next_moment(preference: Preference, tz: tzinfo, now: datetime) -> datetime | None:
    """When the next digest is due (for `/digest` to say), or None when off."""
    found = due(preference, tz, now)
    if found is None:
        return None
    _period, moment = found
    day = moment.astimezone(tz).date() + LENGTH[preference.cadence]
    return _at(day, preference.at, tz)
