"""Test databases: SQLite always, PostgreSQL when UNIONBOT_TEST_POSTGRES_URL is set.

Each test gets an empty, fully migrated database: a copied SQLite file, or a
PostgreSQL schema of this test session whose tables are emptied between tests.
"""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import create_engine, text

from storage import migrate
from storage.base import Base
from storage.db import sync_url

POSTGRES_ENV = "UNIONBOT_TEST_POSTGRES_URL"


def postgres_base_url() -> str | None:
    return os.environ.get(POSTGRES_ENV) or None


def with_search_path(url: str, schema: str) -> str:
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}options={quote('-csearch_path=' + schema)}"


class SqliteTemplate:
    def __init__(self, directory: Path) -> None:
        self.template = directory / "template.db"
        migrate.upgrade(f"sqlite:///{self.template}")

    def fresh(self, directory: Path) -> str:
        target = directory / "unionbot.db"
        shutil.copyfile(self.template, target)
        return f"sqlite:///{target}"


class PostgresSchema:
    """One schema per test session, migrated once, emptied before each test."""

    def __init__(self, base_url: str) -> None:
        self.schema = f"ubtest_{os.getpid()}_{secrets.token_hex(3)}"
        self.base_url = base_url
        engine = create_engine(sync_url(base_url))
        with engine.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{self.schema}"'))
        engine.dispose()
        self.url = with_search_path(base_url, self.schema)
        migrate.upgrade(self.url)
        # Pre-ping: a dropped connection (a fault test, a restart) is replaced, not fatal.
        self.engine = create_engine(sync_url(self.url), pool_pre_ping=True)

    def fresh(self) -> str:
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        with self.engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        return self.url

    def drop(self) -> None:
        self.engine.dispose()
        engine = create_engine(sync_url(self.base_url))
        with engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))
        engine.dispose()
