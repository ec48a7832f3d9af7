"""The chat commands, one module per area; each module exposes `area`.

Adding an area is adding a module with an `area = Area("name")` and its
catalogue files under `commands/locales/<lang>/<name>.toml`: nothing else changes.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from bot.config import Settings
from bot.i18n import Catalog
from bot.registry import Area, Registry
from storage.proposals.rules import DEFAULT_CATEGORIES, ProposalRules

LOCALES = Path(__file__).parent / "locales"


def areas() -> list[Area]:
    found = []
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        area = getattr(module, "area", None)
        if isinstance(area, Area):
            found.append(area)
    order = {"help": 0, "identity": 1}
    return sorted(found, key=lambda a: (order.get(a.name, 9), a.name))


def build_registry(settings: Settings | None = None) -> Registry:
    """Every area's commands and forms, the forms built for these settings."""
    registry = Registry()
    for area in areas():
        registry.include(area, settings)
    return registry


def configuration_problems(settings: Settings, catalog: Catalog) -> list[str]:
    """What in the deployment's settings the commands cannot work with: start-up stops."""
    from bot.args import Invalid
    from commands._benefits import policy
    from commands.meetings import offsets
    from storage.benefits.policy import PolicyError

    problems: list[str] = []
    try:
        policy(settings)
    except PolicyError as exc:
        problems.append(f"UNIONBOT_BENEFITS_FILE: {exc}")
    reminders = settings.value("UNIONBOT_MEETING_REMINDERS")
    try:
        if reminders:
            offsets(reminders)
    except Invalid:
        problems.append(f"UNIONBOT_MEETING_REMINDERS={reminders!r}: write offsets like 7d 1d 2h")
    try:
        rules = ProposalRules.of(settings.env)
    except ValueError as exc:
        return [*problems, str(exc)]
    unnamed = [code for code in rules.categories if not catalog.has(f"proposals.category.{code}")]
    problems += [
        f"UNIONBOT_PROPOSAL_CATEGORIES: {code!r} has no name; add proposals.category.{code} "
        f"to commands/locales/zh/proposals.toml and en/proposals.toml, or use one of "
        f"{', '.join(DEFAULT_CATEGORIES)}"
        for code in unnamed
    ]
    return problems
