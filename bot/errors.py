"""Errors a handler raises to tell the user something, in their language."""

from __future__ import annotations

from typing import Any


class UserError(Exception):
    """A problem the user can fix; `key` names the message, `params` fill it."""

    def __init__(self, key: str, /, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


class ArgumentError(UserError):
    """A wrong argument: the dispatcher adds which one and the command's usage."""

    def __init__(self, argument: str | None, key: str, /, **params: Any) -> None:
        super().__init__(key, **params)
        self.arg = argument  # as the usage line shows it; None when the reason names it
