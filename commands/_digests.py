"""What the clock needs for digests and alerts, from the settings."""

from __future__ import annotations

from bot.config import Settings
from commands._benefits import policy
from storage.digests.service import DigestClock
from storage.proposals.rules import ProposalRules


def clock(settings: Settings) -> DigestClock:
    rules = ProposalRules.of(settings.env)
    return DigestClock(alert_overdue_days=rules.alert_overdue_days, policy=policy(settings))
