"""Proposal search by index: SQLite FTS5 with the trigram tokenizer, PostgreSQL pg_trgm GIN

Both find a word of three or more characters anywhere in the title, reasons, measures or case
number, Chinese included (neither needs a word segmenter), without reading every row.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from alembic import op
from sqlalchemy.exc import DBAPIError

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("title", "reasons", "measures", "case_no")
log = logging.getLogger("alembic.runtime.migration")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_up()
    else:
        _postgres_up()


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER IF EXISTS proposals_fts_{name}")
        op.execute("DROP TABLE IF EXISTS proposals_fts")
    else:
        for column in COLUMNS:
            op.execute(f"DROP INDEX IF EXISTS ix_proposals_{column}_trgm")


def _sqlite_up() -> None:
    columns = ", ".join(COLUMNS)
    new = ", ".join(f"new.{c}" for c in COLUMNS)
    old = ", ".join(f"old.{c}" for c in COLUMNS)
    op.execute(
        f"CREATE VIRTUAL TABLE proposals_fts USING fts5({columns}, content='proposals', "
        "content_rowid='id', tokenize='trigram')"
    )
    op.execute(
        "CREATE TRIGGER proposals_fts_ai AFTER INSERT ON proposals BEGIN "
        f"INSERT INTO proposals_fts(rowid, {columns}) VALUES (new.id, {new}); END"
    )
    op.execute(
        "CREATE TRIGGER proposals_fts_ad AFTER DELETE ON proposals BEGIN "
        f"INSERT INTO proposals_fts(proposals_fts, rowid, {columns}) "
        f"VALUES ('delete', old.id, {old}); END"
    )
    op.execute(
        f"CREATE TRIGGER proposals_fts_au AFTER UPDATE OF {columns} ON proposals BEGIN "
        f"INSERT INTO proposals_fts(proposals_fts, rowid, {columns}) "
        f"VALUES ('delete', old.id, {old}); "
        f"INSERT INTO proposals_fts(rowid, {columns}) VALUES (new.id, {new}); END"
    )
    op.execute("INSERT INTO proposals_fts(proposals_fts) VALUES ('rebuild')")


def _postgres_up() -> None:
    # pg_trgm ships with PostgreSQL and is a trusted extension (13+): a user who may create
    # in the database may create it. It goes to `public`, which outlives any one schema of
    # the database; its operator class is named with that schema, which need not be on the
    # search path. Without the right to create it, search still works, reading every row.
    bind = op.get_bind()
    try:
        with bind.begin_nested():
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
    except DBAPIError as exc:
        log.warning(
            "pg_trgm could not be created (%s): proposal search reads every row until the "
            "database owner runs CREATE EXTENSION pg_trgm and this migration is run again",
            str(exc.orig).splitlines()[0] if exc.orig else exc,
        )
        return
    schema = bind.exec_driver_sql(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n "
        "ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'"
    ).scalar_one()
    for column in COLUMNS:
        op.execute(
            f"CREATE INDEX IF NOT EXISTS ix_proposals_{column}_trgm ON proposals "
            f'USING gin ({column} "{schema}".gin_trgm_ops)'
        )
