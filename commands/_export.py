"""`unionbot export proposals`: the 提案汇编 as XLSX (with a figures sheet) or CSV.

Every cell that came from a person goes through `spreadsheet_cell`, so a title that
starts with "=" stays text and never becomes a formula.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from bot.render.escape import spreadsheet_cell
from storage import audit
from storage.db import Database
from storage.proposals import congress, export, statistics
from storage.store import Actor, Store


def _xlsx(rows: list[dict[str, Any]], figures: statistics.Stats) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "proposals"
    sheet.append(list(export.COLUMNS))
    for row in rows:
        sheet.append([spreadsheet_cell(row[column]) for column in export.COLUMNS])
    stats = book.create_sheet("stats")
    stats.append(["measure", "value"])
    rates = {
        "acceptance_rate": figures.acceptance_rate,
        "on_time_reply_rate": figures.on_time_rate,
        "satisfaction_rate": figures.satisfaction_rate,
    }
    stats.append(["total", figures.total])
    for name, value in rates.items():
        stats.append([name, round(value, 4) if value is not None else ""])
    for prefix, table in (
        ("status", figures.by_status),
        ("category", figures.by_category),
        ("department", figures.by_department),
    ):
        for key, count in sorted(table.items()):
            stats.append([spreadsheet_cell(f"{prefix}:{key}"), count])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _csv(rows: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(export.COLUMNS)
    for row in rows:
        writer.writerow([spreadsheet_cell(row[column]) for column in export.COLUMNS])
    return out.getvalue().encode("utf-8-sig")


def register(
    main: click.Group, pass_state: Callable[..., Any], prepare: Callable[[Any], None]
) -> None:
    @main.group("export")
    def export_group() -> None:
        """Export data for reports."""

    @export_group.command("proposals")
    @click.option(
        "--session",
        "session_name",
        required=True,
        metavar="NAME",
        help="The congress session (届次), e.g. 第五届第三次.",
    )
    @click.option(
        "--format", "fmt", type=click.Choice(["xlsx", "csv"]), default="xlsx", show_default=True
    )
    @click.option(
        "--out",
        type=click.Path(dir_okay=False, path_type=Path),
        help="File to write (default: proposals-SESSION.FORMAT).",
    )
    @pass_state
    def export_proposals(state: Any, session_name: str, fmt: str, out: Path | None) -> None:
        """The 提案汇编: one row per proposal, status as a stable English code, and the
        figures for the yearly report (in the xlsx's second sheet)."""
        prepare(state)
        tz = state.settings.tz

        async def go() -> tuple[list[dict[str, Any]], statistics.Stats] | None:
            database = Database(state.settings.database_url)
            try:
                async with database.session() as session:
                    store = Store(session, Actor(None, "cli", "export"))
                    chosen = await congress.session_by_name(store, session_name)
                    if chosen is None:
                        return None
                    today = datetime.now(tz).date()
                    found = await export.rows(store, chosen, today, tz)
                    figures = await statistics.stats(store, chosen.id, today, tz)
                    await audit.record(
                        store,
                        "proposal.export",
                        "congress_session",
                        chosen.id,
                        format=fmt,
                        rows=len(found),
                    )
                    return found, figures
            finally:
                await database.dispose()

        result = asyncio.run(go())
        if result is None:
            raise click.ClickException(state.t("proposals.error.no_session", name=session_name))
        found, figures = result
        target = out or Path(f"proposals-{session_name}.{fmt}")
        target.write_bytes(_xlsx(found, figures) if fmt == "xlsx" else _csv(found))
        click.echo(state.t("cli.export.done", count=len(found), file=target))
