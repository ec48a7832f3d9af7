"""Who may do what: the one place where permissions are checked.

A command declares a `Requirement`; the dispatcher checks it before the handler
runs. Checks that depend on data (is this person a handler of *that* department?)
call `require()` from the handler with the scope the data names, so every
decision, and every refusal's wording, comes from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any


@dataclass(frozen=True, slots=True)
class Role:
    """A role, optionally limited to a scope (a department, a sub-union, a delegation)."""

    name: str
    scope: str | None = None

    @classmethod
    def parse(cls, text: str) -> Role:
        name, _, scope = text.strip().partition(":")
        return cls(name.strip(), scope.strip() or None)

    def __str__(self) -> str:
        return f"{self.name}:{self.scope}" if self.scope else self.name


SUPERUSER_ROLE = "admin"


@dataclass(frozen=True, slots=True)
class Principal:
    """A linked person as the framework sees them: an id, a name, roles and preferences."""

    id: int
    handle: str
    name: str
    roles: frozenset[Role]
    language: str | None = None
    timezone: tzinfo | None = None
    profile: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def has(self, role: str, scope: str | None = None) -> bool:
        """True if the person holds `role` for `scope`.

        An unscoped role covers every scope (a school-level officer is an officer
        of every sub-union); `admin` covers everything.
        """
        for held in self.roles:
            if held.name == SUPERUSER_ROLE:
                return True
            if held.name != role:
                continue
            if scope is None or held.scope is None or held.scope == scope:
                return True
        return False

    def scopes(self, role: str) -> set[str | None]:
        return {held.scope for held in self.roles if held.name == role}


@dataclass(frozen=True, slots=True)
class Requirement:
    """What a command needs. `any_of` roles; empty means any linked person."""

    any_of: tuple[str, ...] = ()
    public: bool = False  # usable before linking (only /link, /start, /help)

    def allows(self, principal: Principal | None) -> bool:
        if self.public:
            return True
        if principal is None:
            return False
        if not self.any_of:
            return True
        return any(principal.has(role) for role in self.any_of)

    def describe(self) -> tuple[str, ...]:
        return self.any_of


PUBLIC = Requirement(public=True)
LINKED = Requirement()


def roles(*names: str) -> Requirement:
    return Requirement(any_of=names)


class PermissionDenied(Exception):
    """Raised when a check fails; the dispatcher turns it into a reply that says why."""

    def __init__(self, needed: tuple[str, ...], scope: str | None = None) -> None:
        super().__init__(f"needs one of {needed} for {scope}")
        self.needed = needed
        self.scope = scope


def require(principal: Principal, *any_of: str, scope: str | None = None) -> None:
    """Data-dependent check from inside a handler: one of the roles, for this scope."""
    if not any(principal.has(role, scope) for role in any_of):
        raise PermissionDenied(any_of, scope)
