"""Alembic environment: sync engine from the configured URL, batch mode on SQLite."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

import storage.models  # noqa: F401  (registers every table)
from storage.base import Base
from storage.db import install_sqlite_pragmas
from storage.migrate import compared

config = context.config
_configured = config.get_main_option("sqlalchemy.url")
assert _configured is not None, "storage.migrate.alembic_config sets the URL"
url: str = _configured


def run_offline() -> None:
    context.configure(
        url=url,
        target_metadata=Base.metadata,
        literal_binds=True,
        render_as_batch=url.startswith("sqlite"),
        include_name=compared,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    engine = create_engine(url, poolclass=pool.NullPool)
    if url.startswith("sqlite"):
        install_sqlite_pragmas(engine)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            include_name=compared,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
