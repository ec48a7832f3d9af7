"""Reading tables people keep in spreadsheets (CSV in UTF-8 or GBK, or XLSX), for every
import: the roster, the exam schedule. Rows come back with their line numbers, so every
problem can say where it is."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")


def day_of(raw: str) -> date:
    """A date as people type it in spreadsheets (2026-05-12, 2026/5/12, 2026年5月12日, or a
    date-time); ValueError if it is none."""
    text = raw.strip()
    match = _DATE.fullmatch(text[:10] if "T" in text or " " in text else text)
    if not match:
        raise ValueError(raw)
    return date(int(match[1]), int(match[2]), int(match[3]))


@dataclass(frozen=True, slots=True)
class RowProblem:
    """A problem with one line of a file (line 1 is the header): a catalogue key and its
    parameters."""

    line: int
    key: str
    params: dict[str, Any]


def read_table(
    path: Path, header_of: Callable[[str], str | None], required: Sequence[str]
) -> tuple[list[tuple[int, dict[str, str]]], list[RowProblem]]:
    """Rows as (line number, column -> text), the columns named by `header_of` (English or
    Chinese headers); problems with the header itself."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        table = _xlsx_rows(path)
    else:
        table = _csv_rows(path.read_bytes())
    if not table:
        return [], [RowProblem(1, "roster.problem.empty_file", {})]
    header = [header_of(str(cell or "")) for cell in table[0]]
    problems: list[RowProblem] = []
    unknown = [
        str(cell) for cell, name in zip(table[0], header, strict=True) if name is None and cell
    ]
    if unknown:
        problems.append(
            RowProblem(1, "roster.problem.unknown_columns", {"columns": ", ".join(unknown)})
        )
    missing = [col for col in required if col not in header]
    if missing:
        problems.append(
            RowProblem(1, "roster.problem.missing_columns", {"columns": ", ".join(missing)})
        )
        return [], problems
    rows = []
    for offset, cells in enumerate(table[1:], start=2):
        if not any(str(cell or "").strip() for cell in cells):
            continue
        values = {
            name: _cell_text(cell)
            for name, cell in zip(header, cells, strict=False)
            if name is not None
        }
        rows.append((offset, values))
    return rows, problems


def _cell_text(cell: object) -> str:
    if cell is None:
        return ""
    if isinstance(cell, date):
        return cell.isoformat()[:10]
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()


def _csv_rows(data: bytes) -> list[list[str]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte string
        text = data.decode("utf-8", errors="replace")
    sample = text[:4096]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return [row for row in csv.reader(io.StringIO(text), dialect)]


def _xlsx_rows(path: Path) -> list[list[Any]]:
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        return [list(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()
