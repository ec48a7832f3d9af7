"""A rule of the data refused something; `key` names the catalogue message that says why."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params
