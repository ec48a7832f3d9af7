"""The proposal rules, as configuration with the defaults the policy suggests."""

from __future__ import annotations

from dataclasses import dataclass

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
    categories: tuple[str, ...] = DEFAULT_CATEGORIES

    @classmethod
    def from_values(cls, get: dict[str, str]) -> ProposalRules:
        """From `UNIONBOT_PROPOSAL_*` settings; anything missing keeps its default."""
        defaults = cls()
        categories = tuple(
            c.strip() for c in get.get("UNIONBOT_PROPOSAL_CATEGORIES", "").split(",") if c.strip()
        )
        return cls(
            seconders_required=int(
                get.get("UNIONBOT_PROPOSAL_SECONDERS", defaults.seconders_required)
            ),
            reply_days=int(get.get("UNIONBOT_PROPOSAL_REPLY_DAYS", defaults.reply_days)),
            rating_days=int(get.get("UNIONBOT_PROPOSAL_RATING_DAYS", defaults.rating_days)),
            title_max=int(get.get("UNIONBOT_PROPOSAL_TITLE_MAX", defaults.title_max)),
            categories=categories or defaults.categories,
        )
