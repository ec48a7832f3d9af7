"""Proposal search by bigrams: two-character words (most Chinese words) through an index

Trigram indexes (migration 0010) cannot look up a word shorter than three characters, and
on PostgreSQL the planner read every row rather than use them at 10,000 proposals. This
adds an index of each proposal's two-character grams (`storage.grams`): SQLite, a
contentless FTS5 table kept by triggers that call the `unionbot_bigrams` function each
connection registers; PostgreSQL, a GIN index on the same function over the four columns.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from storage.grams import POSTGRES_FUNCTION

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _text(row: str) -> str:
    """The four searched columns as one text, a line apart (no gram spans two columns)."""
    parts = [
        f"coalesce({row}{column}, '')" for column in ("title", "reasons", "measures", "case_no")
    ]
    return " || char(10) || ".join(parts)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_up()
    else:
        op.execute(POSTGRES_FUNCTION)
        op.execute(
            "CREATE INDEX IF NOT EXISTS ix_proposals_bigrams ON proposals USING gin "
            "(unionbot_bigrams(coalesce(title, '') || chr(10) || coalesce(reasons, '') "
            "|| chr(10) || coalesce(measures, '') || chr(10) || coalesce(case_no, '')))"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER IF EXISTS proposals_grams_{name}")
        op.execute("DROP TABLE IF EXISTS proposals_grams")
    else:
        op.execute("DROP INDEX IF EXISTS ix_proposals_bigrams")
        op.execute("DROP FUNCTION IF EXISTS unionbot_bigrams(text)")


def _sqlite_up() -> None:
    op.execute(
        "CREATE VIRTUAL TABLE proposals_grams USING fts5(grams, content='', tokenize='unicode61')"
    )
    # A contentless table forgets a row by being told the words it was given: the same
    # function of the old values gives them again.
    insert = (
        "INSERT INTO proposals_grams(rowid, grams) "
        f"VALUES (new.id, unionbot_bigrams({_text('new.')}))"
    )
    forget = (
        "INSERT INTO proposals_grams(proposals_grams, rowid, grams) "
        f"VALUES ('delete', old.id, unionbot_bigrams({_text('old.')}))"
    )
    op.execute(f"CREATE TRIGGER proposals_grams_ai AFTER INSERT ON proposals BEGIN {insert}; END")
    op.execute(f"CREATE TRIGGER proposals_grams_ad AFTER DELETE ON proposals BEGIN {forget}; END")
    op.execute(
        "CREATE TRIGGER proposals_grams_au AFTER UPDATE OF title, reasons, measures, case_no "
        f"ON proposals BEGIN {forget}; {insert}; END"
    )
    op.execute(
        "INSERT INTO proposals_grams(rowid, grams) "
        f"SELECT id, unionbot_bigrams({_text('')}) FROM proposals"
    )
