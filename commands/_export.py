"""`unionbot export proposals` (the 提案汇编, with a figures sheet) and `unionbot export
benefits` (the year's ledger, with totals), as XLSX or CSV.

A title that starts with "=" stays text and never becomes a formula: in XLSX every text
is a string cell, kept exactly as typed; in CSV (which has no types) it goes through
`spreadsheet_cell`.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
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

Sheet = tuple[str, tuple[str, ...], list[dict[str, Any]]]  # name, columns, rows


def _xlsx(sheets: list[Sheet]) -> bytes:
    """A workbook, one sheet per table. Text stays exactly as typed and is safe all the
    same: every text cell is stored as a string cell, which Excel never evaluates (openpyxl
    would otherwise store "=..." as a formula)."""
    from openpyxl import Workbook

    book = Workbook()
    first = book.active
    assert first is not None
    book.remove(first)
    for name, columns, rows in sheets:
        sheet = book.create_sheet(name)
        sheet.append(list(columns))
        for line, row in enumerate(rows, start=2):
            for number, column in enumerate(columns, start=1):
                value = row[column]
                cell = sheet.cell(row=line, column=number, value=value)
                if isinstance(value, str):
                    cell.data_type = "s"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _csv(columns: tuple[str, ...], rows: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([spreadsheet_cell(row[column]) for column in columns])
    return out.getvalue().encode("utf-8-sig")


def _figures(figures: statistics.Stats) -> list[dict[str, Any]]:
    """The yearly report's figures, as measure/value rows."""
    out: list[dict[str, Any]] = [
        {"measure": "total", "value": figures.total},
        {"measure": "suggestions", "value": figures.suggestions},
    ]
    rates = {
        "acceptance_rate": figures.acceptance_rate,
        "on_time_reply_rate": figures.on_time_rate,
        "satisfaction_rate": figures.satisfaction_rate,
    }
    for name, value in rates.items():
        out.append({"measure": name, "value": round(value, 4) if value is not None else ""})
    for prefix, table in (
        ("status", figures.by_status),
        ("category", figures.by_category),
        ("department", figures.by_department),
    ):
        for key, count in sorted(table.items()):
            out.append({"measure": f"{prefix}:{key}", "value": count})
    return out


def file_options(default: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`--format xlsx|csv` and `--out FILE`, as every export takes them."""

    def add(command: Callable[..., Any]) -> Callable[..., Any]:
        command = click.option(
            "--out",
            type=click.Path(dir_okay=False, path_type=Path),
            help=f"File to write (default: {default}).",
        )(command)
        return click.option(
            "--format",
            "fmt",
            type=click.Choice(["xlsx", "csv"]),
            default="xlsx",
            show_default=True,
        )(command)

    return add


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
    @file_options("proposals-SESSION.FORMAT")
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
        sheets: list[Sheet] = [
            ("proposals", export.COLUMNS, found),
            ("stats", ("measure", "value"), _figures(figures)),
        ]
        data = _xlsx(sheets) if fmt == "xlsx" else _csv(export.COLUMNS, found)
        target.write_bytes(data)
        click.echo(state.t("cli.export.done", count=len(found), file=target))

    @export_group.command("benefits")
    @click.option("--year", type=int, required=True, help="The year applications were filed in.")
    @file_options("benefits-YEAR.FORMAT")
    @pass_state
    def export_benefits(state: Any, year: int, fmt: str, out: Path | None) -> None:
        """The year's benefits ledger: one row per application, and (xlsx) the totals per
        item and sub-union. The file holds personal data: keep it as such."""
        from commands._benefits import policy
        from commands._cli import in_store
        from storage.benefits import ledger

        prepare(state)

        async def ledger_rows(store: Store) -> list[dict[str, Any]]:
            found = await ledger.rows(store, policy(state.settings).pack, year)
            await audit.record(
                store, "benefit.export", "benefits", year, format=fmt, rows=len(found)
            )
            return found

        found = in_store(state, ledger_rows, Actor(None, "cli", "export"))
        target = out or Path(f"benefits-{year}.{fmt}")
        sheets: list[Sheet] = [
            ("ledger", ledger.COLUMNS, found),
            ("totals", ledger.TOTAL_COLUMNS, ledger.totals(found)),
        ]
        data = _xlsx(sheets) if fmt == "xlsx" else _csv(ledger.COLUMNS, found)
        target.write_bytes(data)
        if hasattr(os, "chmod"):
            os.chmod(target, 0o600)
        click.echo(state.t("cli.export.benefits", count=len(found), file=target))

    @export_group.command("activities")
    @click.option("--year", type=int, required=True, help="The year the activities took place.")
    @file_options("activities-YEAR.FORMAT")
    @pass_state
    def export_activities(state: Any, year: int, fmt: str, out: Path | None) -> None:
        """Participation per activity and sub-union (signed up, confirmed, signed in, with a
        result): the raw numbers of the yearly assessment of sub-unions (article 18)."""
        from commands._cli import in_store
        from storage import activities

        prepare(state)

        async def rows(store: Store) -> list[dict[str, Any]]:
            found = await activities.participation(store, year, state.settings.tz)
            await audit.record(store, "activity.export", "activities", year, rows=len(found))
            return found

        found = in_store(state, rows, Actor(None, "cli", "export"))
        columns = ACTIVITY_COLUMNS
        target = out or Path(f"activities-{year}.{fmt}")
        data = _xlsx([("participation", columns, found)]) if fmt == "xlsx" else _csv(columns, found)
        target.write_bytes(data)
        click.echo(state.t("cli.export.activities", count=len(found), file=target))

    @export_group.command("votes")
    @click.option("--meeting", "meeting_id", type=int, required=True, help="The meeting's number.")
    @file_options("votes-MEETING.FORMAT")
    @pass_state
    def export_votes(state: Any, meeting_id: int, fmt: str, out: Path | None) -> None:
        """A meeting's closed votes: the count of each choice or candidate, the turnout and
        the outcome."""
        from commands._cli import in_store
        from storage.votes import service as votes

        prepare(state)

        async def rows(store: Store) -> list[dict[str, Any]]:
            found = await votes.export_rows(store, meeting_id)
            await audit.record(store, "vote.export", "meeting", meeting_id, rows=len(found))
            return found

        found = in_store(state, rows, Actor(None, "cli", "export"))
        columns = votes.EXPORT_COLUMNS
        target = out or Path(f"votes-{meeting_id}.{fmt}")
        data = _xlsx([("votes", columns, found)]) if fmt == "xlsx" else _csv(columns, found)
        target.write_bytes(data)
        click.echo(state.t("cli.export.votes", count=len(found), file=target))


ACTIVITY_COLUMNS = (
    "activity",
    "title",
    "kind",
    "date",
    "sub_union",
    "signed_up",
    "confirmed",
    "signed_in",
    "with_result",
)
