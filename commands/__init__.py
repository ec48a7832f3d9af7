"""The chat commands, one module per area; each module exposes `area`.

Adding an area is adding a module with an `area = Area("name")` and its
catalogue files under `commands/locales/<lang>/<name>.toml`: nothing else changes.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from bot.registry import Area, Registry

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


def build_registry() -> Registry:
    registry = Registry()
    for area in areas():
        registry.include(area)
    return registry
