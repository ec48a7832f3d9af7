"""`unionbot directory sync [PLATFORM]` and its shortcut `unionbot wecom sync`: the same sync
as the clock's and the admin's `/wecom sync`, from a terminal or a script.

The directory is read first, with a running count of the members read, and only then is
the database touched, with a bar over the linking (a first sync of a big university
links thousands). `--json` prints the report for scripts; the exit code is 0 when the sync
ran, 1 when it could not (the reason in the reader's language).
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from typing import Any

import click

from bot.directory import Directory, DirectoryUnavailable, Listing
from commands import _directory
from storage.directory import SyncReport, TooManyEnded
from storage.store import Actor, Store

PROGRESS_THRESHOLD = 200  # members; a smaller directory links without a bar


def register(
    main: click.Group,
    pass_state: Callable[..., Any],
    prepare: Callable[[Any], None],
    actor_for: Callable[[Store, str | None], Any],
) -> None:
    def options(command: Callable[..., None]) -> Callable[..., None]:
        command = click.option(
            "--json", "as_json", is_flag=True, help="Print the report as JSON, for scripts."
        )(command)
        command = click.option(
            "--force",
            is_flag=True,
            help="End the links of everyone missing from the directory, however many.",
        )(command)
        return click.option(
            "--by", metavar="STAFF_NO", help="Record this officer as the one syncing."
        )(command)

    @main.group("directory")
    def directory_group() -> None:
        """A chat platform's member directory, linked to the roster."""

    @directory_group.command("sync")
    @click.argument("platform", required=False)
    @options
    @pass_state
    def directory_sync(
        state: Any, platform: str | None, as_json: bool, force: bool, by: str | None
    ) -> None:
        """Link every member of the platform's directory whom the roster names, end the
        links of those who left, and report who is missing on either side and what
        conflicts. Running it again changes nothing; links made with invite codes stay."""
        _run(state, prepare, actor_for, platform, as_json=as_json, force=force, by=by)

    @main.group("wecom")
    def wecom_group() -> None:
        """The WeCom (企业微信) app."""

    @wecom_group.command("sync")
    @options
    @pass_state
    def wecom_sync(state: Any, as_json: bool, force: bool, by: str | None) -> None:
        """Link the WeCom app's members to the roster by WECOM_LINK_BY (same as
        `unionbot directory sync wecom`)."""
        _run(state, prepare, actor_for, "wecom", as_json=as_json, force=force, by=by)


def _run(
    state: Any,
    prepare: Callable[[Any], None],
    actor_for: Callable[[Store, str | None], Any],
    platform: str | None,
    *,
    as_json: bool,
    force: bool,
    by: str | None,
) -> None:
    from bot.adapter import AdapterConfigError
    from bot.app import build, configured_adapters

    prepare(state)
    app = build(state.settings)
    live = _terminal() and not as_json

    async def go() -> tuple[SyncReport, int, str, str]:
        adapters = []
        try:
            adapters = configured_adapters(app)
            found: dict[str, Directory] = {
                d.platform: d for a in adapters if (d := a.directory()) is not None
            }
            directory = _choose(state, found, platform)
            async with app.database.session() as session:
                actor: Actor = await actor_for(Store(session), by)
            name = app.catalog.platform_name(state.settings.language, directory.platform)
            listing = await _read(state, directory, name, live)
            async with app.database.session() as session:
                store = Store(session, actor)
                report = await _link(state, store, directory, listing, force, live)
            return report, listing.calls, directory.platform, name
        finally:
            for adapter in adapters:
                await adapter.stop()
            await app.close()

    try:
        report, calls, chosen, name = asyncio.run(go())
    except AdapterConfigError as exc:
        raise click.ClickException(str(exc)) from None
    except DirectoryUnavailable as exc:
        raise click.ClickException(
            state.t(f"directory.unavailable.{exc.code}", **exc.params)
        ) from None
    except TooManyEnded as exc:
        raise click.ClickException(
            state.t("cli.directory.too_many_ended", gone=exc.gone, linked=exc.linked)
        ) from None
    if as_json:
        click.echo(json.dumps(_directory.as_json(report, chosen, calls), ensure_ascii=False))
        return
    click.echo(state.t("directory.title", platform=name))
    for line in _directory.lines(state.t, report, name):
        click.echo(line)


def _terminal() -> bool:
    """Whether a person watches: a bar in a log file or a pipe is only noise."""
    return sys.stderr.isatty()


def _choose(state: Any, found: dict[str, Directory], wanted: str | None) -> Directory:
    if wanted is None and len(found) == 1:
        return next(iter(found.values()))
    if wanted in found:
        return found[wanted]
    platforms = ", ".join(sorted(found)) or "—"
    key = "cli.directory.which" if found else "cli.directory.none"
    raise click.ClickException(state.t(key, platforms=platforms))


async def _read(state: Any, directory: Directory, name: str, live: bool) -> Listing:
    """The listing, with a count that runs in place on a terminal."""
    read = 0

    def reading(more: int, _total: int | None) -> None:
        nonlocal read
        read += more
        if live:
            counted = state.t("cli.directory.reading", platform=name, count=read)
            click.echo("\r" + counted, nl=False, err=True)

    listing = await directory.listing(reading)
    if live:
        click.echo(err=True)
    return listing


async def _link(
    state: Any, store: Store, directory: Directory, listing: Listing, force: bool, live: bool
) -> SyncReport:
    if not live or len(listing.members) < PROGRESS_THRESHOLD:
        return await _directory.apply(store, directory, listing, force=force)
    bar: Any = click.progressbar(
        length=len(listing.members), label=state.t("cli.directory.linking"), file=sys.stderr
    )
    with bar:
        return await _directory.apply(
            store, directory, listing, force=force, linking=lambda n, _total: bar.update(n)
        )
