"""Turning the store's refusals into replies that say what is wrong and what is allowed."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from bot.context import Context
from bot.errors import UserError
from storage.errors import DomainError
from storage.proposals.state import InvalidTransition

P = ParamSpec("P")
T = TypeVar("T")


def domain_errors(handler: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """For command handlers and form submissions alike (their first argument is the context)."""

    @functools.wraps(handler)
    async def run(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await handler(*args, **kwargs)
        except DomainError as exc:
            raise UserError(exc.key, **exc.params) from None
        except InvalidTransition as exc:
            ctx = args[0]
            assert isinstance(ctx, Context)
            allowed = ctx.join([ctx.t(f"proposals.action.{a.value}") for a in exc.allowed]) or "—"
            raise UserError(
                "proposals.error.transition",
                action=ctx.t(f"proposals.action.{exc.action.value}"),
                status=ctx.t(f"proposals.status.{exc.status.value}"),
                allowed=allowed,
            ) from None

    return run
