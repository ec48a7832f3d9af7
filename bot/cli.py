"""The `unionbot` command line: run the bot, chat in a console, manage the database.

The union-specific subcommands (roster, invites, demo) are declared in
`commands._cli` and attached here, where the program is composed.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Coroutine
from typing import Any, TypeVar

import click

from bot.config import Settings, load_settings

T = TypeVar("T")


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def setup_logging(level: str, *, quiet: bool = False) -> None:
    logging.basicConfig(
        level=logging.WARNING if quiet else getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # httpx logs request URLs, and Telegram's carry the bot token.
    for noisy in ("httpx", "httpcore", "apscheduler.executors.default", "aiosqlite"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


class CliState:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def t(self, key: str, **params: Any) -> str:
        from bot.app import build_catalog

        return build_catalog().get(self.settings.language, key, **params)


pass_state = click.make_pass_decorator(CliState)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--db",
    "database_url",
    metavar="URL",
    help="Database URL (sqlite:///FILE or postgresql://...). Env: UNIONBOT_DATABASE_URL.",
)
@click.option(
    "--env-file",
    default=".env",
    show_default=True,
    metavar="PATH",
    help="A .env file to read settings from, if it exists.",
)
@click.option(
    "--lang",
    "language",
    type=click.Choice(["zh", "en"]),
    help="Language of this command's output. Env: UNIONBOT_LANGUAGE.",
)
@click.option(
    "--log-level", metavar="LEVEL", help="DEBUG, INFO, WARNING... Env: UNIONBOT_LOG_LEVEL."
)
@click.version_option(package_name="unionbot")
@click.pass_context
def main(
    ctx: click.Context,
    database_url: str | None,
    env_file: str,
    language: str | None,
    log_level: str | None,
) -> None:
    """unionbot: the staff union's chat bot (proposals, meetings, benefits).

    With nothing configured, `unionbot run` starts a console chat on an embedded
    SQLite database with demo data.
    """
    try:
        settings = load_settings(
            env_file, database_url=database_url, language=language, log_level=log_level
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    from bot.app import configuration_problems

    problems = configuration_problems(settings)
    if problems:
        raise click.UsageError("; ".join(problems))
    ctx.obj = CliState(settings)


def _prepare(state: CliState) -> None:
    from bot.app import SchemaError, ensure_schema

    try:
        done = ensure_schema(state.settings)
    except SchemaError as exc:
        raise click.ClickException(str(exc)) from None
    if done:
        click.echo(state.t(f"cli.db.auto_{done}", url=state.settings.database_url), err=True)


@main.command()
@click.option(
    "--as",
    "staff_no",
    default="D2001",
    show_default=True,
    metavar="STAFF_NO",
    help="Who you are in the console, when no chat platform is configured.",
)
@pass_state
def run(state: CliState, staff_no: str) -> None:
    """Start every configured adapter, the scheduler and the HTTP server.

    With no platform configured (no SLACK_BOT_TOKEN, no TELEGRAM_BOT_TOKEN), a
    console chat starts instead, with demo data loaded on first run.
    """
    from bot.adapter import AdapterConfigError
    from bot.app import SchemaError, build
    from bot.app import run as run_app

    setup_logging(state.settings.log_level, quiet=True)
    _prepare(state)
    app = build(state.settings)

    def say(what: str, **params: Any) -> None:
        click.echo(state.t(f"cli.run.{what}", staff_no=staff_no, **params), err=True)

    async def go() -> None:
        try:
            await run_app(app, console_as=staff_no, say=say)
        finally:
            await app.close()

    try:
        run_async(go())
    except (SchemaError, AdapterConfigError) as exc:
        raise click.ClickException(str(exc)) from None
    except KeyboardInterrupt:
        pass


@main.command()
@click.option("--as", "staff_no", required=True, metavar="STAFF_NO", help="Chat as this person.")
@click.option(
    "--lang",
    "language",
    type=click.Choice(["zh", "en"]),
    help="Talk in this language for this session.",
)
@pass_state
def console(state: CliState, staff_no: str, language: str | None) -> None:
    """Chat with the bot in the terminal as STAFF_NO.

    From a pipe it reads one message per line and exits at the end of input:
    printf '/help\\n/whoami\\n' | unionbot console --as T1001
    """
    from bot.app import build, console_session, link_console

    setup_logging(state.settings.log_level, quiet=True)
    _prepare(state)
    app = build(state.settings)

    async def go() -> bool:
        try:
            if not await link_console(app, staff_no):
                return False
            session = await console_session(app, staff_no, language=language)
            await session.start()
            return True
        finally:
            await app.close()

    if not run_async(go()):
        raise click.ClickException(state.t("cli.console.unknown_staff", staff_no=staff_no))


@main.group()
def db() -> None:
    """The database schema (Alembic migrations)."""


@db.command("upgrade")
@pass_state
def db_upgrade(state: CliState) -> None:
    """Migrate the database to the newest schema; running it again changes nothing."""
    from storage import migrate

    before = migrate.status(state.settings.database_url)
    after = migrate.upgrade(state.settings.database_url)
    key = "cli.db.unchanged" if before == after else "cli.db.upgraded"
    click.echo(state.t(key, revision=", ".join(sorted(after.current))))


@db.command("status")
@pass_state
def db_status(state: CliState) -> None:
    """Show the schema revision of the database and of this code."""
    from storage import migrate

    current = migrate.status(state.settings.database_url)
    click.echo(
        state.t(
            "cli.db.status",
            current=", ".join(sorted(current.current)) or "—",
            heads=", ".join(sorted(current.heads)),
        )
    )
    if not current.up_to_date:
        raise SystemExit(1)


def _attach_union_commands() -> None:
    from commands._cli import register

    register(main, pass_state, _prepare)


_attach_union_commands()
