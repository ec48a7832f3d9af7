"""The layout is the architecture: imports may only run the allowed way.

`bot/` is the framework and knows nothing of unions (only the composition root,
`bot/app.py`, and the CLI that starts it may wire in the rest); `storage/` knows
nothing of chat; `schedules/` is the clock and delivery; `commands/` is what users type.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
COMPOSITION_ROOT = {"bot/app.py", "bot/cli.py"}
FORBIDDEN = {
    "bot": {"commands", "storage", "schedules"},
    "storage": {"bot", "commands", "schedules"},
    "schedules": {"commands"},
    "commands": {"schedules"},
}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def modules() -> list[Path]:
    return sorted(p for package in FORBIDDEN for p in (ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_run_the_allowed_way(path: Path) -> None:
    relative = path.relative_to(ROOT).as_posix()
    if relative in COMPOSITION_ROOT:
        return
    package = relative.split("/")[0]
    wrong = imported_packages(path) & FORBIDDEN[package]
    assert not wrong, f"{relative} imports {sorted(wrong)}, which {package}/ must not know"


def test_the_check_would_catch_a_wrong_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from storage.db import Database\nimport commands.help\n")
    assert imported_packages(bad) >= {"storage", "commands"}
