"""Sending as fast as platforms allow, and no faster.

Defaults are the platforms' published limits: Telegram about 30 messages a second
overall, about one a second per chat and 20 a minute per group; Slack about one a
second per channel. Each can be changed with `UNIONBOT_RATE_<PLATFORM>_GLOBAL` /
`_PER_CHAT` / `_PER_GROUP` (per second).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass

# platform -> (overall, per chat, per group chat), messages per second
DEFAULTS: dict[str, tuple[float, float, float]] = {
    "telegram": (30.0, 1.0, 20 / 60),
    "slack": (20.0, 1.0, 1.0),
}


def is_group(platform: str, chat: str) -> bool:
    """A group chat: Telegram's have negative ids."""
    return platform == "telegram" and chat.startswith("-")


@dataclass
class _Bucket:
    interval: float
    next_at: float = 0.0

    def reserve(self, now: float) -> float:
        """Take the next slot; returns how long to wait for it."""
        slot = max(now, self.next_at)
        self.next_at = slot + self.interval
        return slot - now


def _rate(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value < 0:
        raise ValueError(f"{name}={raw!r}: give messages per second, such as 25 or 0.5")
    return value


class RateLimiter:
    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        self.limits: dict[str, tuple[float, float, float]] = {}
        env = env or {}
        for platform, (overall, per_chat, per_group) in DEFAULTS.items():
            key = f"UNIONBOT_RATE_{platform.upper()}"
            self.limits[platform] = (
                _rate(env, f"{key}_GLOBAL", overall),
                _rate(env, f"{key}_PER_CHAT", per_chat),
                _rate(env, f"{key}_PER_GROUP", per_group),
            )
        self._buckets: dict[tuple[str, str], _Bucket] = {}

    def _bucket(self, platform: str, chat: str, rate: float) -> _Bucket:
        key = (platform, chat)
        if key not in self._buckets:
            self._buckets[key] = _Bucket(1.0 / rate if rate > 0 else 0.0)
        return self._buckets[key]

    def delay(self, platform: str, chat: str) -> float:
        """Reserve a slot for one message and say how long to wait before sending it."""
        if platform not in self.limits:
            return 0.0
        overall, per_chat, per_group = self.limits[platform]
        rate = min(per_chat, per_group) if is_group(platform, chat) else per_chat
        now = time.monotonic()
        waits = [
            self._bucket(platform, "*", overall).reserve(now),
            self._bucket(platform, chat, rate).reserve(now),
        ]
        return max(waits)

    async def wait(self, platform: str, chat: str) -> None:
        pause = self.delay(platform, chat)
        if pause > 0:
            await asyncio.sleep(pause)
