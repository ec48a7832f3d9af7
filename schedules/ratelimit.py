"""Sending as fast as platforms allow, and no faster.

Defaults are the platforms' published limits: Telegram about 30 messages a second
overall, about one a second per chat and 20 a minute per group; Slack about one a
second per channel. Each can be changed with `UNIONBOT_RATE_<PLATFORM>_GLOBAL` /
`_PER_CHAT` / `_PER_GROUP` (per second). The limits are the deployment's: instances
sending on one platform divide its budget among them (`share`).
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
    next_at: float = 0.0

    def reserve(self, now: float, interval: float) -> float:
        """Take the next slot; returns how long to wait for it."""
        slot = max(now, self.next_at)
        self.next_at = slot + interval
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
        for name in env:  # a platform the defaults do not know, configured by its settings
            if name.startswith("UNIONBOT_RATE_") and name.endswith("_GLOBAL"):
                platform = name.removeprefix("UNIONBOT_RATE_").removesuffix("_GLOBAL").lower()
                if platform not in self.limits:
                    key = f"UNIONBOT_RATE_{platform.upper()}"
                    overall = _rate(env, name, 0.0)
                    per_chat = _rate(env, f"{key}_PER_CHAT", 0.0)
                    self.limits[platform] = (overall, per_chat, _rate(env, f"{key}_PER_GROUP", 0.0))
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._instances: dict[str, int] = {}

    def share(self, instances: Mapping[str, int]) -> None:
        """Several instances send on one platform: each takes its part of the platform's
        budget, so together they stay within it."""
        self._instances = {platform: max(1, n) for platform, n in instances.items()}

    def _interval(self, platform: str, rate: float) -> float:
        return self._instances.get(platform, 1) / rate if rate > 0 else 0.0

    def delay(self, platform: str, chat: str) -> float:
        """Reserve a slot for one message and say how long to wait before sending it."""
        if platform not in self.limits:
            return 0.0
        overall, per_chat, per_group = self.limits[platform]
        rate = min(per_chat, per_group) if is_group(platform, chat) else per_chat
        now = time.monotonic()
        waits = [
            self._buckets.setdefault((platform, "*"), _Bucket()).reserve(
                now, self._interval(platform, overall)
            ),
            self._buckets.setdefault((platform, chat), _Bucket()).reserve(
                now, self._interval(platform, rate)
            ),
        ]
        return max(waits)

    async def wait(self, platform: str, chat: str) -> None:
        pause = self.delay(platform, chat)
        if pause > 0:
            await asyncio.sleep(pause)
