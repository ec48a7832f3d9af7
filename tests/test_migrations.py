"""Migrations from empty on both databases, idempotent, matching the models; behind is explained."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, text

from storage import migrate
from storage.base import Base
from storage.db import sync_url
from tests.cli import unionbot
from tests.dbs import postgres_base_url, with_search_path


@pytest.fixture(params=["sqlite", "postgres"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database with no tables at all: a new SQLite file, or a new PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    base = postgres_base_url()
    if base is None:
        pytest.skip("UNIONBOT_TEST_POSTGRES_URL is not set")
    schema = f"ubmig_{os.getpid()}_{secrets.token_hex(3)}"
    engine = create_engine(sync_url(base))
    with engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    request.addfinalizer(lambda: _drop(base, schema))
    return with_search_path(base, schema)


def _drop(base: str, schema: str) -> None:
    engine = create_engine(sync_url(base))
    with engine.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


def test_upgrade_from_empty_is_idempotent_and_matches_models(empty_url: str) -> None:
    before = migrate.status(empty_url)
    assert before.empty and not before.up_to_date
    after = migrate.upgrade(empty_url)
    assert after.up_to_date and after.current == after.heads
    assert migrate.upgrade(empty_url) == after
    engine = create_engine(sync_url(empty_url))
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_name": migrate.compared})
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert diff == [], f"models and migrations differ: {diff}"


def test_db_commands(empty_url: str) -> None:
    status = unionbot(empty_url, "db", "status")
    assert status.exit_code == 1
    upgraded = unionbot(empty_url, "--lang", "en", "db", "upgrade")
    assert upgraded.exit_code == 0 and "upgraded" in upgraded.output
    again = unionbot(empty_url, "--lang", "en", "db", "upgrade")
    assert "nothing changed" in again.output
    assert unionbot(empty_url, "db", "status").exit_code == 0


def test_a_behind_database_is_refused_with_the_fix(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'other.db'}"  # not the embedded default: no self-migration
    result = unionbot(url, "console", "--as", "T1001", input="/help\n")
    assert result.exit_code != 0
    assert "unionbot db upgrade" in result.output


def test_the_embedded_default_migrates_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("UNIONBOT_DATABASE_URL", raising=False)
    from click.testing import CliRunner

    from bot.cli import main

    runner = CliRunner()
    result = runner.invoke(main, ["--env-file", "/nonexistent", "demo"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "unionbot.db").exists()
    assert migrate.status("sqlite:///unionbot.db").up_to_date
