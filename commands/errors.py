"""Every error the bot knows, and how each reaches the person who caused it.

    Exception
    ├── bot.errors.UserError              a problem the person can fix: key + params,
    │   │                                 translated in their language by the dispatcher
    │   └── bot.errors.ArgumentError      a wrong argument: the reply adds which one and
    │                                     the command's usage
    ├── bot.permissions.PermissionDenied  the command or form needs a role the person
    │                                     lacks: the reply names the roles needed and held
    ├── storage.errors.DomainError        a rule of the union's data refused: key + params,
    │   │                                 translated by `translate` below (registered once
    │   │                                 with the dispatcher by the composition root); a
    │   │                                 `Term` among its params is a word to translate
    │   ├── ProposalError                 a proposal rule
    │   │   └── InvalidTransition         the life cycle has no such step: the reply names
    │   │                                 the action, the state and what the state allows
    │   ├── MeetingError                  a meeting rule
    │   ├── BenefitError                  a benefits rule (not eligible, too late, not
    │   │                                 your review level, ...)
    │   ├── SurveyError                   a survey rule (not asked, closed, a bad answer)
    │   │   └── DefinitionErrors          a survey file's mistakes, each with its line
    │   ├── ActivityError                 an activity rule (closed, not for you, quota
    │   │                                 full; a full activity is a waiting list, no error)
    │   └── LinkRefused                   a wrong, used, expired or throttled invite code
    ├── bot.args.Invalid (ValueError)     a value that does not parse: a form step asks
    │                                     again, an argument becomes an ArgumentError
    ├── storage.roster.RowError           a bad roster row: listed with its line number in
    │   (ValueError)                      the import report, the other rows go in
    ├── bot.http_edge.Refused             a request the HTTP edge will not serve: its 4xx
    │                                     and one WARNING line, never a traceback
    ├── storage.benefits.policy.PolicyError  a benefits pack that cannot be used: every
    │   (ValueError)                      problem by item and field; start-up stops, and
    │                                     /benefits reload keeps the pack in force
    └── RuntimeError
        ├── bot.adapter.AdapterConfigError    a platform configured but unusable:
        │   ├── SlackConfigError              `unionbot run` stops with the reason
        │   └── TelegramConfigError
        └── bot.app.SchemaError               the database schema does not match: the
                                              message says what to run

Anything else raised while handling a message is a fault: it is logged with an incident
number, the person is told that number, and the unit of work is rolled back. A refusal
(every kind above that reaches a person) keeps what was written before it: a failed
invite code still counts toward the throttle.
"""

from __future__ import annotations

from typing import Any

from bot.replies import Reply
from commands._backend import Ctx
from storage.errors import DomainError, InvalidTransition, Term

PROPOSER_ACTIONS = {"edit", "invite", "submit", "withdraw", "rate_satisfied", "rate_unsatisfied"}
COMMITTEE_ACTIONS = {"accept", "reject", "merge", "convert"}
OVERSEER_ACTIONS = {"assign", "urge"}


def may_take(ctx: Ctx, exc: InvalidTransition, action: str) -> bool:
    """Whether the person refused could take this step themselves: a refusal offers only
    those (a delegate is not told that the proposal may now be answered)."""
    if ctx.principal is None:
        return False
    if action in PROPOSER_ACTIONS:
        return exc.proposer_id == ctx.user.id
    if action in COMMITTEE_ACTIONS:
        return ctx.user.has("committee")
    if action in OVERSEER_ACTIONS:
        return ctx.user.has("committee") or ctx.user.has("officer")
    if action == "reply":
        return ctx.user.has("handler", exc.lead_department or "")
    return False  # seconding is by invitation; a rating's expiry is the clock's


def translate(ctx: Ctx, exc: DomainError) -> Reply:
    """The reply for any refusal of the union's rules, in the person's language."""
    if isinstance(exc, InvalidTransition):
        mine = [a for a in exc.allowed if may_take(ctx, exc, a.value)]
        names = list(dict.fromkeys(ctx.t(f"proposals.action.{a.value}") for a in mine))
        text = ctx.t(
            exc.key if names else "proposals.error.transition_none",
            action=ctx.t(f"proposals.action.{exc.action.value}"),
            status=ctx.t(f"proposals.status.{exc.status.value}"),
            allowed=ctx.join(names),
        )
    else:
        params = {k: _shown(ctx, v) for k, v in exc.params.items()}
        text = ctx.t(exc.key, **params)
    return Reply(text=text, error=True)


def _shown(ctx: Ctx, value: Any) -> Any:
    """A refusal's parameter in the reader's words: a term translated, a list joined."""
    if isinstance(value, Term):
        return ctx.t(value.key)
    if isinstance(value, list | tuple):
        return ctx.join([str(_shown(ctx, item)) for item in value]) or "—"
    return value
