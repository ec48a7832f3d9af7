from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.app import App, build
from bot.config import Settings
from storage.demo import load_demo
from storage.store import Actor, Store
from tests.dbs import PostgresSchema, SqliteTemplate, postgres_base_url
from tests.drivers.slack import slack_driver
from tests.drivers.telegram import telegram_driver
from tests.drivers.wecom import wecom_driver
from tests.harness import Chat, ConsoleChat, DriverFactory, console_driver


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplate:
    return SqliteTemplate(tmp_path_factory.mktemp("template"))


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[PostgresSchema | None]:
    base = postgres_base_url()
    if base is None:
        yield None
        return
    schema = PostgresSchema(base)
    yield schema
    schema.drop()


BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(params=BACKENDS)
def db_url(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    sqlite_template: SqliteTemplate,
    postgres_schema: PostgresSchema | None,
) -> str:
    """A fresh migrated database, on each backend (PostgreSQL only when configured)."""
    if request.param == "postgres":
        if postgres_schema is None:
            pytest.skip("UNIONBOT_TEST_POSTGRES_URL is not set")
        return postgres_schema.fresh()
    return sqlite_template.fresh(tmp_path)


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: SqliteTemplate) -> str:
    return sqlite_template.fresh(tmp_path)


def make_settings(url: str, **overrides: object) -> Settings:
    """Quiet hours off: a test's outcome must not depend on the hour it runs at."""
    return Settings(database_url=url, env={}, quiet_hours="00:00-00:00").with_overrides(**overrides)


async def _demo_app(url: str) -> App:
    app = build(make_settings(url))
    async with app.database.session() as session:
        await load_demo(Store(session, Actor(None, "cli", "test")), congress=False)
    return app


@pytest.fixture
async def app(sqlite_url: str) -> AsyncIterator[App]:
    """The whole bot on SQLite with the demo roster."""
    application = await _demo_app(sqlite_url)
    yield application
    await application.close()


@pytest.fixture
async def any_app(db_url: str) -> AsyncIterator[App]:
    """The whole bot with the demo roster, on SQLite and on PostgreSQL."""
    application = await _demo_app(db_url)
    yield application
    await application.close()


@pytest.fixture
def chat(app: App) -> ConsoleChat:
    return ConsoleChat(app)


# Conversation tests that must pass on every adapter take the `conversation` fixture.
# An adapter's tests register a driver here: name -> async context manager factory
# that, given the App, yields an object with the `tests.harness.Chat` methods.
DRIVERS: dict[str, DriverFactory] = {
    "console": console_driver,
    "slack": slack_driver,
    "telegram": telegram_driver,
    "wecom": wecom_driver,
}


@pytest.fixture(params=sorted(DRIVERS))
async def conversation(request: pytest.FixtureRequest, app: App) -> AsyncIterator[Chat]:
    async with DRIVERS[request.param](app) as driver:
        yield driver


@pytest.fixture
def any_chat(any_app: App) -> ConsoleChat:
    return ConsoleChat(any_app)
