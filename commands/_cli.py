"""Union-specific command-line work: the roster, invite codes, demo data."""

from __future__ import annotations

import asyncio
import csv
import os
import sys
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import click

from bot.render.escape import spreadsheet_cell
from bot.timefmt import format_datetime
from storage import identity, linking, outbox, roster
from storage.db import Database
from storage.demo import DEMO_ROSTER, load_demo
from storage.store import Actor, Store

PROGRESS_THRESHOLD = 200  # rows; shorter files import without a bar
T = TypeVar("T")


def in_store(state: Any, work: Callable[[Store], Awaitable[T]], actor: Actor | None = None) -> T:
    """Run `work` in one unit of work on the configured database, from a CLI command."""

    async def go() -> T:
        database = Database(state.settings.database_url)
        try:
            async with database.session() as session:
                return await work(Store(session, actor or Actor(None, "cli")))
        finally:
            await database.dispose()

    return asyncio.run(go())


async def _actor_for(store: Store, by: str | None) -> Actor:
    if by is None:
        return Actor(None, "cli", os.environ.get("USER", "cli"))
    view = await identity.staff_by_no(store, by)
    if view is None:
        raise click.BadParameter(f"no staff member {by} on the roster", param_hint="--by")
    return Actor(view.id, "cli", view.staff_no)


def _cli_actor() -> Actor:
    return Actor(None, "cli", os.environ.get("USER", "cli"))


async def _preview_text(
    state: Any, store: Store, staff_no: str, language: str | None
) -> str | None:
    """A person's digest preview as plain text, in their language (or `language`)."""
    from bot.app import build_catalog
    from bot.notices import render_notice
    from commands._benefits import policy
    from storage.clock import utcnow
    from storage.digests import readers, service

    view = await identity.staff_by_no(store, staff_no)
    found = await readers.readers(store, [view.id]) if view is not None else []
    if not found:
        return None
    reader = found[0]
    settings = state.settings
    lang = language or reader.language or settings.language
    tz = reader.zone(settings.tz)
    digest = await service.preview(store, reader, utcnow(), settings.tz, policy(settings).pack)
    catalog = build_catalog()
    if digest.empty and digest.first:
        return catalog.get(lang, "digests.preview_empty_first")
    if digest.empty:
        since = format_datetime(digest.window.start, tz, lang)
        return catalog.get(lang, "digests.preview_empty", since=since)
    return render_notice(
        catalog,
        lang,
        service.message_key(digest),
        service.why_key(reader),
        service.message_params(digest, weekly=False),
        tz,
        sections=digest.sections,
    ).plain()


def register(
    main: click.Group, pass_state: Callable[..., Any], prepare: Callable[[Any], None]
) -> None:
    from commands import _directory_cli, _export, _surveys_cli, _votes_cli

    _export.register(main, pass_state, prepare)
    _surveys_cli.register(main, pass_state, prepare)
    _votes_cli.register(main, pass_state, prepare)
    _directory_cli.register(main, pass_state, prepare, _actor_for)

    @main.group("benefits")
    def benefits_group() -> None:
        """The benefits policy pack."""

    @benefits_group.command("check")
    @click.argument("file", type=click.Path(dir_okay=False))
    @pass_state
    def benefits_check(state: Any, file: str) -> None:
        """Validate a benefits policy file (TOML) and list its items."""
        from storage.benefits.policy import PolicyError, load

        try:
            pack = load(file)
        except PolicyError as exc:
            click.echo(state.t("cli.benefits.bad", source=exc.source), err=True)
            for problem in exc.problems:
                click.echo(f"  - {problem}", err=True)
            raise SystemExit(1) from None
        click.echo(state.t("cli.benefits.good", source=pack.source, count=len(pack.items)))
        for item in pack.items:
            click.echo(f"  {item.code:20} {item.name_zh} / {item.name_en}")

    @main.group("privacy")
    def privacy_group() -> None:
        """A person's own data (the right of access)."""

    @privacy_group.command("export")
    @click.argument("staff_no")
    @click.option(
        "--out",
        type=click.Path(dir_okay=False, path_type=Path),
        help="File to write (default: privacy-STAFF_NO.json), readable only by you.",
    )
    @pass_state
    def privacy_export(state: Any, staff_no: str, out: Path | None) -> None:
        """Everything unionbot keeps about STAFF_NO, as JSON, to hand to that person."""
        import json

        from storage import privacy

        prepare(state)

        data = in_store(
            state, lambda store: privacy.export(store, staff_no), Actor(None, "cli", "privacy")
        )
        if data is None:
            raise click.ClickException(state.t("cli.privacy.unknown", staff_no=staff_no))
        target = out or Path(f"privacy-{staff_no}.json")
        target.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
        os.chmod(target, 0o600)
        click.echo(state.t("cli.privacy.done", staff_no=staff_no, file=target))

    @benefits_group.group("exams")
    def exams_group() -> None:
        """The yearly physical exam schedule."""

    def _exam_table(state: Any, file: Path) -> list[tuple[int, dict[str, str]]]:
        from storage.benefits import exams

        try:
            rows, problems = exams.read_schedule(file)
        except (OSError, ValueError, KeyError) as exc:
            raise click.ClickException(
                state.t("cli.roster.unreadable", file=file, error=exc)
            ) from None
        for problem in problems:
            reason = state.t(problem.key, **problem.params)
            click.echo(state.t("cli.roster.problem", line=problem.line, reason=reason), err=True)
        if problems and not rows:
            raise SystemExit(2)
        return rows

    @exams_group.command("import")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @pass_state
    def exams_import(state: Any, file: Path) -> None:
        """Import the exam schedule (CSV or XLSX): staff_no (工号), date (日期), place (地点),
        batch (批次). A re-import updates each person's appointment; bad rows are listed with
        their line numbers and the good rows still go in."""
        from storage.benefits import exams

        prepare(state)
        rows = _exam_table(state, file)

        report = in_store(state, lambda store: exams.import_schedule(store, rows))
        click.echo(
            state.t(
                "cli.exams.done",
                created=report.created,
                updated=report.updated,
                problems=len(report.problems),
            )
        )
        for problem in report.problems:
            reason = state.t(problem.key, **problem.params)
            click.echo(state.t("cli.roster.problem", line=problem.line, reason=reason), err=True)
        if report.problems:
            raise SystemExit(1 if report.created + report.updated else 2)

    @exams_group.command("done")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--year", type=int, required=True, help="The schedule's year.")
    @pass_state
    def exams_done(state: Any, file: Path, year: int) -> None:
        """Mark the people in FILE (a staff_no / 工号 column) as examined in YEAR."""
        from storage.benefits import exams
        from storage.tables import read_table

        prepare(state)
        rows, _ = read_table(file, exams.header, ("staff_no",))
        staff_nos = [values["staff_no"] for _, values in rows if values.get("staff_no")]

        marked = in_store(state, lambda store: exams.mark_done(store, staff_nos, year))
        click.echo(state.t("cli.exams.marked", count=marked, year=year))

    @main.group("digest")
    def digest_group() -> None:
        """Officers' digests: preview one, or queue what is due now."""

    @digest_group.command("preview")
    @click.argument("staff_no")
    @click.option("--lang", "language", type=click.Choice(["zh", "en"]), help="Print in this.")
    @pass_state
    def digest_preview(state: Any, staff_no: str, language: str | None) -> None:
        """Print STAFF_NO's digest as it would be if it came now (its window does not move)."""
        prepare(state)
        text = in_store(
            state, lambda store: _preview_text(state, store, staff_no, language), _cli_actor()
        )
        if text is None:
            raise click.ClickException(state.t("cli.digest.no_digest", staff_no=staff_no))
        click.echo(text)

    @digest_group.command("run")
    @pass_state
    def digest_run(state: Any) -> None:
        """Queue every digest and alert that is due (the running bot's clock does this every
        30 seconds); the running bot sends what is queued."""
        from commands._digests import clock
        from storage.clock import utcnow
        from storage.digests import service

        prepare(state)
        done = in_store(
            state,
            lambda store: service.tick(store, clock(state.settings), utcnow(), state.settings.tz),
            _cli_actor(),
        )
        click.echo(
            state.t("cli.digest.ran", digests=done["digests"], alerts=done["overdue_alerts"])
        )

    @main.command()
    @pass_state
    def demo(state: Any) -> None:
        """Load the demo roster (idempotent); its staff numbers are in the README."""
        prepare(state)

        report = in_store(
            state, lambda store: load_demo(store, tz=state.settings.tz), Actor(None, "cli", "demo")
        )
        click.echo(
            state.t(
                "cli.demo.done",
                created=report.created,
                updated=report.updated,
                unchanged=report.unchanged,
            )
        )
        for row in DEMO_ROSTER:
            click.echo(f"  {row[0]}  {row[1]}  {row[8] or '-'}")

    @main.group("roster")
    def roster_group() -> None:
        """The staff roster."""

    @roster_group.command("import")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--by", metavar="STAFF_NO", help="Record this officer as the one importing.")
    @pass_state
    def roster_import(state: Any, file: Path, by: str | None) -> None:
        """Import staff from a CSV or XLSX file (English or Chinese headers).

        Columns: staff_no, name, department, sub_union, employment_type
        (establishment|agency|non_establishment), union_member (yes|no), delegate
        (yes|no), delegation, roles (committee; head; officer; officer:SUB_UNION;
        handler:DEPARTMENT; admin), birth_date, hire_date, email, phone.
        Existing staff are updated by staff_no; nobody is deleted; bad rows are
        listed with their line numbers and the good rows still go in.
        """
        prepare(state)
        try:
            rows, problems = roster.read_file(file)
        except (OSError, ValueError, KeyError) as exc:
            raise click.ClickException(
                state.t("cli.roster.unreadable", file=file, error=exc)
            ) from None

        async def go() -> roster.ImportReport:
            database = Database(state.settings.database_url)
            try:
                async with database.session() as session:
                    store = Store(session)
                    store.actor = await _actor_for(store, by)
                    if len(rows) >= PROGRESS_THRESHOLD:
                        progress: Any = click.progressbar(
                            length=len(rows),
                            label=state.t("cli.roster.progress"),
                            file=sys.stderr,
                        )
                        with progress as bar:
                            return await roster.import_rows(store, rows, lambda n: bar.update(n))
                    return await roster.import_rows(store, rows)
            finally:
                await database.dispose()

        report = asyncio.run(go())
        report.problems[:0] = problems
        click.echo(
            state.t(
                "cli.roster.done",
                created=report.created,
                updated=report.updated,
                unchanged=report.unchanged,
                problems=len(report.problems),
            )
        )
        for problem in sorted(report.problems, key=lambda p: p.line):
            reason = state.t(problem.key, **problem.params)
            click.echo(state.t("cli.roster.problem", line=problem.line, reason=reason), err=True)
        if report.problems:
            raise SystemExit(2 if report.created + report.updated + report.unchanged == 0 else 1)

    @main.command()
    @click.option(
        "--status",
        type=click.Choice(list(outbox.STATUSES)),
        help="List the deliveries in this state (default: failed and missed).",
    )
    @pass_state
    def deliveries(state: Any, status: str | None) -> None:
        """The delivery queue: counts by status, the oldest pending, the last failures."""
        prepare(state)

        async def go() -> outbox.QueueReport:
            database = Database(state.settings.database_url)
            try:
                async with database.session() as session:
                    return await outbox.report(Store(session), status, limit=20)
            finally:
                await database.dispose()

        report = asyncio.run(go())
        tz, lang = state.settings.tz, state.settings.language
        for name in outbox.STATUSES:
            click.echo(f"{name:<10}{report.counts.get(name, 0):>8}")
        oldest = report.oldest_pending
        click.echo(
            state.t(
                "cli.deliveries.oldest", when=format_datetime(oldest, tz, lang) if oldest else "—"
            )
        )
        for line in report.failures:
            kind, ident, occasion = line.subject
            about = f"{kind} #{ident} {occasion}".strip()
            click.echo(
                f"{format_datetime(line.at, tz, lang)}  {line.status:<9} {line.platform:<9} "
                f"{line.staff_no:<8} {about:<28} {line.error}"
            )
        if report.unlinked_messages:  # as /deliveries says it: the people messages wait for
            counted = state.t(
                "meetings.delivery.unlinked_count",
                count=report.unlinked_messages,
                people=report.unlinked_people,
            )
            click.echo(state.t("cli.deliveries.unlinked", counted=counted))
            for person in report.unlinked:
                line_text = state.t(
                    "meetings.delivery.unlinked_line",
                    name=person.name,
                    staff_no=person.staff_no,
                    count=person.messages,
                )
                click.echo("  " + line_text)

    @main.command()
    @click.argument("staff_nos", nargs=-1, metavar="[STAFF_NO]...")
    @click.option("--all", "everyone", is_flag=True, help="A code for everyone on the roster.")
    @click.option(
        "--out",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Write a CSV (staff_no, name, code, expires, link) instead of printing.",
    )
    @click.option(
        "--ttl-hours",
        type=click.IntRange(1, 24 * 90),
        metavar="HOURS",
        help="How long codes stay valid. Env: UNIONBOT_INVITE_TTL_HOURS.",
    )
    @click.option("--by", metavar="STAFF_NO", help="Record this officer as the one issuing.")
    @pass_state
    def invites(
        state: Any,
        staff_nos: tuple[str, ...],
        everyone: bool,
        out: Path | None,
        ttl_hours: int | None,
        by: str | None,
    ) -> None:
        """Issue one-time invite codes; staff link with /link CODE (or /start CODE).

        A new code replaces any earlier unused one for the same person. With a
        Telegram bot username configured (TELEGRAM_BOT_USERNAME), a deep link is
        printed too.
        """
        if not staff_nos and not everyone:
            raise click.UsageError(state.t("cli.invites.none"))
        prepare(state)
        ttl = timedelta(hours=ttl_hours or state.settings.invite_ttl_hours)

        async def go() -> tuple[list[linking.IssuedCode], list[str]]:
            database = Database(state.settings.database_url)
            try:
                async with database.session() as session:
                    store = Store(session)
                    store.actor = await _actor_for(store, by)
                    wanted = list(staff_nos) or await identity.active_staff_nos(store)
                    return await linking.issue_codes(store, wanted, ttl)
            finally:
                await database.dispose()

        issued, unknown = asyncio.run(go())
        bot_name = state.settings.value("TELEGRAM_BOT_USERNAME")
        tz, lang = state.settings.tz, state.settings.language

        def link(code: str) -> str:
            return (
                f"https://t.me/{bot_name}?start={linking.normalise_code(code)}" if bot_name else ""
            )

        if out is not None:
            fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", newline="", encoding="utf-8-sig") as fh:
                writer = csv.writer(fh)
                writer.writerow(["staff_no", "name", "code", "expires_at", "link"])
                for item in issued:
                    writer.writerow(
                        [
                            spreadsheet_cell(v)
                            for v in (
                                item.staff_no,
                                item.name,
                                item.code,
                                format_datetime(item.expires_at, tz, lang),
                                link(item.code),
                            )
                        ]
                    )
            click.echo(state.t("cli.invites.written", count=len(issued), file=out))
        else:
            for item in issued:
                expires = format_datetime(item.expires_at, tz, lang)
                line = f"{item.staff_no}\t{item.name}\t{item.code}\t{expires}"
                click.echo(line + (f"\t{link(item.code)}" if bot_name else ""))
        for staff_no in unknown:
            click.echo(state.t("cli.invites.unknown", staff_no=staff_no), err=True)
        if unknown:
            raise SystemExit(1)
