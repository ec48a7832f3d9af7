"""Alembic, driven from code: upgrade, and tell whether a database is behind.

Migrations live beside the models (`storage/migrations`) and run the same on
SQLite (batch mode) and PostgreSQL. No alembic.ini is needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from storage.db import install_sqlite_pragmas, is_sqlite, sync_url

MIGRATIONS = Path(__file__).parent / "migrations"


def compared(name: str | None, type_: str, _parents: object) -> bool:
    """What Alembic compares with the models: everything but the search indexes of
    migrations 0010, 0011 and 0015, which the models cannot declare (SQLite's FTS5 tables
    and their shadow tables, PostgreSQL's trigram indexes and the bigrams' generated column
    and its index; the ORM never reads that column)."""
    if type_ == "table" and (name or "").startswith(("proposals_fts", "proposals_grams")):
        return False
    if type_ == "column" and name == "search_grams":
        return False
    return not (type_ == "index" and (name or "").endswith(("_trgm", "_bigrams")))


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", sync_url(url).replace("%", "%%"))
    return config


@dataclass(frozen=True)
class SchemaStatus:
    current: frozenset[str]
    heads: frozenset[str]
    known: frozenset[str] = frozenset()

    @property
    def up_to_date(self) -> bool:
        return self.current == self.heads

    @property
    def empty(self) -> bool:
        return not self.current

    @property
    def ahead(self) -> bool:
        """The database has revisions this code does not know: a newer version migrated it."""
        return bool(self.current - self.known)


def status(url: str) -> SchemaStatus:
    script = ScriptDirectory.from_config(alembic_config(url))
    heads = frozenset(script.get_heads())
    engine = create_engine(sync_url(url))
    if is_sqlite(url):
        install_sqlite_pragmas(engine)
    try:
        with engine.connect() as connection:
            current = frozenset(MigrationContext.configure(connection).get_current_heads())
    finally:
        engine.dispose()
    known = frozenset(rev.revision for rev in script.walk_revisions())
    return SchemaStatus(current=current, heads=heads, known=known)


def upgrade(url: str) -> SchemaStatus:
    """Bring the schema to the newest revision; running it again changes nothing."""
    command.upgrade(alembic_config(url), "heads")
    return status(url)
