"""The proposal rules, as configuration with the defaults the policy suggests.

The services enforce them; the chat forms are built from them, so a deployment's own
categories and title length are what the form offers and checks.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

PREFIX = "UNIONBOT_PROPOSAL_"
CODE = re.compile(r"[a-z][a-z0-9_]{0,31}")

DEFAULT_CATEGORIES = (
    "teaching",
    "personnel",
    "logistics",
    "governance",
    "welfare",
    "campus",
    "other",
)


@dataclass(frozen=True, slots=True)
class ProposalRules:
    seconders_required: int = 2
    reply_days: int = 30  # due date after assignment, unless the committee sets one
    rating_days: int = 15  # after a reply; then it closes as it is
    title_max: int = 60
    alert_overdue_days: int = 14  # overdue longer than this: officers are alerted at once
    urge_every_days: int = 1  # one 督办 per proposal in this many days
    redo_days: int = 15  # a reply rated 不满意: the department's new due date, unless set
    categories: tuple[str, ...] = DEFAULT_CATEGORIES

    @classmethod
    def from_values(cls, get: Mapping[str, str]) -> ProposalRules:
        """From `UNIONBOT_PROPOSAL_*` settings; anything missing keeps its default. A bad
        value raises ValueError naming the setting and what it takes: start-up stops
        with that message rather than run on a rule the deployment did not choose."""
        defaults = cls()

        def number(name: str, default: int, low: int, high: int) -> int:
            raw = get.get(f"UNIONBOT_PROPOSAL_{name}", "").strip()
            if not raw:
                return default
            if not raw.isdigit() or not low <= int(raw) <= high:
                raise ValueError(
                    f"UNIONBOT_PROPOSAL_{name}={raw!r}: give a whole number from {low} to {high}"
                )
            return int(raw)

        raw_categories = get.get("UNIONBOT_PROPOSAL_CATEGORIES", "")
        categories = tuple(dict.fromkeys(c.strip() for c in raw_categories.split(",") if c.strip()))
        for code in categories:
            if not CODE.fullmatch(code):
                raise ValueError(
                    f"UNIONBOT_PROPOSAL_CATEGORIES: {code!r} is not a category code "
                    "(lower-case letters, digits and _, such as teaching,logistics)"
                )
        return cls(
            seconders_required=number("SECONDERS", defaults.seconders_required, 0, 50),
            reply_days=number("REPLY_DAYS", defaults.reply_days, 1, 365),
            rating_days=number("RATING_DAYS", defaults.rating_days, 1, 365),
            title_max=number("TITLE_MAX", defaults.title_max, 10, 200),
            alert_overdue_days=number("ALERT_OVERDUE_DAYS", defaults.alert_overdue_days, 1, 365),
            urge_every_days=number("URGE_EVERY_DAYS", defaults.urge_every_days, 1, 90),
            redo_days=number("REDO_DAYS", defaults.redo_days, 1, 365),
            categories=categories or defaults.categories,
        )

    @classmethod
    def of(cls, env: Mapping[str, str]) -> ProposalRules:
        """The deployment's rules, parsed once per configuration."""
        key = tuple(sorted((k, v) for k, v in env.items() if k.startswith(PREFIX)))
        return _parsed(key)


@lru_cache(maxsize=8)
def _parsed(items: tuple[tuple[str, str], ...]) -> ProposalRules:
    return ProposalRules.from_values(dict(items))
