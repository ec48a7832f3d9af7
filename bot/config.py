"""Configuration from flags, the environment (`UNIONBOT_` prefix) and a `.env` file, in that order.

Secrets are wrapped in `Secret`, whose repr and str never show the value, so a
settings object can be logged safely.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import time, tzinfo
from pathlib import Path
from typing import Any

from dotenv import dotenv_values

from bot.i18n import DEFAULT_LANGUAGE, normalize_language
from bot.timefmt import zone

DEFAULT_DATABASE_URL = "sqlite:///unionbot.db"


class Secret:
    """A value that must not reach logs: `repr` and `str` mask it; `.value` reveals it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    @property
    def value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class Settings:
    """Every setting, its environment variable and its default (the README's table is this)."""

    database_url: str = DEFAULT_DATABASE_URL
    timezone: str = "Asia/Shanghai"
    language: str = DEFAULT_LANGUAGE
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    # The public edge: a request's headers, then its body, must arrive within these;
    # an idle keep-alive connection is closed after the last.
    http_header_timeout: float = 10.0
    http_body_timeout: float = 10.0
    http_idle_timeout: float = 75.0
    log_level: str = "INFO"
    invite_ttl_hours: int = 168
    link_max_failures: int = 5
    link_window_minutes: int = 15
    delivery_interval_seconds: float = 5.0
    # How long a sender's claim on a delivery lasts (renewed while it works): after a crash,
    # another instance takes the work over this soon.
    delivery_lease_seconds: float = 30.0
    # A delivery for a platform no running instance sends on goes to another of the
    # person's platforms (or is recorded as missed) after this long.
    delivery_unserved_minutes: float = 60.0
    quiet_hours: str = "22:00-07:30"  # in each recipient's zone; urgent messages ignore it
    # When platforms' member directories are synced each day (in the deployment's zone),
    # besides at start-up; "off" for never on the clock.
    directory_sync_at: str = "03:30"
    # Database connections each pool of this process keeps (PostgreSQL has two: transactions
    # and autocommit reads), how many more a burst may open, and how long a message waits
    # for one. Several instances: keep instances x 2 x (size + overflow) under the server's
    # max_connections, with room for the CLI and migrations.
    db_pool_size: int = 10
    db_pool_overflow: int = 0
    db_pool_timeout: float = 30.0
    # Everything the environment holds, for adapters' own variables (SLACK_BOT_TOKEN ...).
    env: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    @property
    def tz(self) -> tzinfo:
        return zone(self.timezone)

    def secret(self, name: str) -> Secret:
        return Secret(self.env.get(name, ""))

    def value(self, name: str, default: str = "") -> str:
        return self.env.get(name, default)

    @property
    def is_default_database(self) -> bool:
        return self.database_url == DEFAULT_DATABASE_URL

    def validate(self) -> list[str]:
        problems = []
        try:
            zone(self.timezone)
        except ValueError as exc:
            problems.append(f"UNIONBOT_TIMEZONE: {exc}")
        if normalize_language(self.language) is None:
            problems.append(f"UNIONBOT_LANGUAGE: {self.language!r} is not zh or en")
        try:
            start, _, end = self.quiet_hours.partition("-")
            time.fromisoformat(start.strip()), time.fromisoformat(end.strip())
        except ValueError:
            problems.append(
                f"UNIONBOT_QUIET_HOURS: {self.quiet_hours!r}, write it like 22:00-07:30"
            )
        if self.directory_sync_at != "off":
            try:
                time.fromisoformat(self.directory_sync_at)
            except ValueError:
                problems.append(
                    f"UNIONBOT_DIRECTORY_SYNC_AT: {self.directory_sync_at!r}, write a time "
                    "like 03:30, or off"
                )
        for name in ("http_header_timeout", "http_body_timeout", "http_idle_timeout"):
            if not 0 < getattr(self, name) <= 3600:
                problems.append(f"UNIONBOT_{name.upper()}: give seconds between 0 and 3600")
        if not 1 <= self.db_pool_size <= 500:
            problems.append("UNIONBOT_DB_POOL_SIZE: give connections between 1 and 500")
        if not 0 <= self.db_pool_overflow <= 500:
            problems.append("UNIONBOT_DB_POOL_OVERFLOW: give connections between 0 and 500")
        if not 0 < self.db_pool_timeout <= 3600:
            problems.append("UNIONBOT_DB_POOL_TIMEOUT: give seconds between 0 and 3600")
        if not self.database_url.startswith(("sqlite", "postgresql", "postgres")):
            problems.append("UNIONBOT_DATABASE_URL: use sqlite:///FILE or postgresql://...")
        return problems

    def with_overrides(self, **overrides: Any) -> Settings:
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


def load_settings(env_file: str | os.PathLike[str] | None = ".env", **overrides: Any) -> Settings:
    """Flags (`overrides`) beat the environment, which beats `.env`, which beats defaults."""
    merged: dict[str, str] = {}
    if env_file and Path(env_file).is_file():
        merged.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    merged.update(os.environ)
    values: dict[str, Any] = {}
    for spec in fields(Settings):
        if spec.name == "env":
            continue
        raw = merged.get("UNIONBOT_" + spec.name.upper())
        if raw is None or raw == "":
            continue
        kind = type(spec.default)
        try:
            values[spec.name] = kind(raw) if kind in (int, float) else raw
        except ValueError:
            raise ValueError(
                f"UNIONBOT_{spec.name.upper()}={raw!r} is not a {kind.__name__}"
            ) from None
    settings = Settings(env=merged, **values).with_overrides(**overrides)
    language = normalize_language(settings.language)
    if language:
        settings = replace(settings, language=language)
    return settings
