"""Showing moments in the reader's zone; everything is stored in UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_WEEKDAYS = {
    "zh": ("周一", "周二", "周三", "周四", "周五", "周六", "周日"),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def zone(name: str) -> tzinfo:
    """A zone by IANA name; raises ValueError with a readable message for an unknown one."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r} (use an IANA name like Asia/Shanghai)"
        ) from None


def format_datetime(moment: datetime, tz: tzinfo, lang: str) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetime reached the display layer")
    local = moment.astimezone(tz)
    weekday = _WEEKDAYS.get(lang, _WEEKDAYS["en"])[local.weekday()]
    abbrev = local.tzname() or ""
    return f"{local:%Y-%m-%d} ({weekday}) {local:%H:%M} {abbrev}".rstrip()


def format_date(value: date, lang: str) -> str:
    weekday = _WEEKDAYS.get(lang, _WEEKDAYS["en"])[value.weekday()]
    return f"{value:%Y-%m-%d} ({weekday})"
