"""Sending as fast as platforms allow, and no faster.

Defaults are the platforms' published limits: Telegram about 30 messages a second
overall, about one a second per chat and 20 a minute per group; Slack about one a
second per channel; WeCom 30 a minute and 1,000 an hour to one member (beyond them it
drops messages without an error), with the app's calls kept to 20 a second (its call
rate answers errcode 45009 when exceeded, which the adapter reports like a 429). Each can
be changed with `UNIONBOT_RATE_<PLATFORM>_GLOBAL` / `_PER_CHAT` / `_PER_GROUP` (per
second) and `_PER_CHAT_HOURLY` (per hour). The limits are the deployment's: instances
sending on one platform divide its budget among them (`share`).

One call that reaches many people (WeCom's `touser` of up to 1,000 ids) takes one slot of
the overall budget and one of each recipient's (`delay_many`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# platform -> (overall, per chat, per group chat), messages per second
DEFAULTS: dict[str, tuple[float, float, float]] = {
    "telegram": (30.0, 1.0, 20 / 60),
    "slack": (20.0, 1.0, 1.0),
    "wecom": (20.0, 30 / 60, 30 / 60),
}
# platform -> messages per hour to one chat, on top of the per-second pace: a budget
# that may be spent in bursts (as fast as the per-chat pace allows) but not exceeded
HOURLY: dict[str, float] = {"wecom": 1000.0}


def is_group(platform: str, chat: str) -> bool:
    """A group chat: Telegram's have negative ids."""
    return platform == "telegram" and chat.startswith("-")


@dataclass
class _Bucket:
    next_at: float = 0.0  # the theoretical time of the next message at an even pace

    def reserve(self, now: float, interval: float, burst: float = 1) -> float:
        """Take the next slot, letting `burst` messages go at once before the pace applies
        (the generic cell rate algorithm); returns how long to wait for it."""
        slot = max(now, self.next_at - (burst - 1) * interval)
        self.next_at = max(now, self.next_at) + interval
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
        self.hourly: dict[str, float] = {}
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
        for platform in self.limits:
            name = f"UNIONBOT_RATE_{platform.upper()}_PER_CHAT_HOURLY"
            hourly = _rate(env, name, HOURLY.get(platform, 0.0))
            if hourly > 0:
                self.hourly[platform] = hourly
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
        return self.delay_many(platform, [chat])

    def delay_many(self, platform: str, chats: Sequence[str]) -> float:
        """Reserve one call that reaches every chat in `chats`: one slot of the overall
        budget, one of each chat's; how long to wait before making it."""
        if platform not in self.limits:
            return 0.0
        overall, per_chat, per_group = self.limits[platform]
        now = time.monotonic()
        waits = [
            self._buckets.setdefault((platform, "*"), _Bucket()).reserve(
                now, self._interval(platform, overall)
            )
        ]
        hourly = self.hourly.get(platform)
        for chat in chats:
            rate = min(per_chat, per_group) if is_group(platform, chat) else per_chat
            waits.append(
                self._buckets.setdefault((platform, chat), _Bucket()).reserve(
                    now, self._interval(platform, rate)
                )
            )
            if hourly:
                waits.append(
                    self._buckets.setdefault((platform, chat + "#hour"), _Bucket()).reserve(
                        now,
                        self._interval(platform, hourly / 3600),
                        burst=max(1.0, hourly / self._instances.get(platform, 1)),
                    )
                )
        return max(waits)

    async def wait(self, platform: str, chat: str) -> None:
        await self.wait_many(platform, [chat])

    async def wait_many(self, platform: str, chats: Sequence[str]) -> None:
        pause = self.delay_many(platform, chats)
        if pause > 0:
            await asyncio.sleep(pause)
