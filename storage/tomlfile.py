"""Reading a TOML file that people wrote by hand, so that each mistake can name its line.

`tomllib` says where a syntax error is, but a value that parses and is wrong (an unknown
kind in the third question) comes back without a position: `Lines` finds the line of a key
at the top or inside the n-th `[[table]]`.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Problem:
    """One mistake: its line, and the catalogue key (with params) that says what it is."""

    line: int
    key: str
    params: dict[str, object] = field(default_factory=dict)


class Lines:
    """Where a key, or the n-th `[[table]]`, starts in the source."""

    def __init__(self, source: str, table: str) -> None:
        self.lines = source.splitlines()
        header = f"[[{table}]]"
        self.tables = [n for n, line in enumerate(self.lines, 1) if line.strip().startswith(header)]

    def key(self, name: str, index: int | None = None) -> int:
        """The line of `name = ...`: at the top (index None) or in the index-th table."""
        start, end = 1, len(self.lines)
        if index is not None and index < len(self.tables):
            start = self.tables[index]
            later = self.tables[index + 1 :]
            end = later[0] - 1 if later else len(self.lines)
        elif index is None and self.tables:
            end = self.tables[0] - 1
        pattern = re.compile(rf"\s*{re.escape(name)}\s*=")
        for n in range(start, end + 1):
            if pattern.match(self.lines[n - 1]):
                return n
        return start


def load(source: str, syntax_key: str) -> tuple[dict[str, Any] | None, Problem | None]:
    """The parsed file, or the syntax error as a problem at its line (`syntax_key` says it,
    with the parser's words as `detail`)."""
    try:
        return tomllib.loads(source), None
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"line (\d+)", str(exc))
        detail = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        line = int(found[1]) if found else 1
        return None, Problem(line, syntax_key, {"detail": detail})
