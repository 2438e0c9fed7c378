"""Alembic's environment: run the migrations on the connection :mod:`indexer.store.revisions` hands over.

No alembic.ini is needed: :func:`indexer.store.revisions.alembic_config` points Alembic
at this folder and passes the connection in ``config.attributes``.  With the
``alembic`` command line, set ``sqlalchemy.url`` instead (``-x`` is not read).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine, pool, text

from indexer.store.models import Base

# Any fixed number: the PostgreSQL advisory lock that keeps two nodes opening a
# new database at the same moment from both creating the tables.
MIGRATION_LOCK = 0x4A41_5243  # "JARC"


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Held to the end of the transaction; Alembic reads the current
            # revision only after this, so the second node finds nothing to do.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit(
        "offline (--sql) migrations are not supported; run python -m indexer db upgrade"
    )

given = context.config.attributes.get("connection")
if given is not None:
    run_migrations(given)
else:
    engine = create_engine(
        context.config.get_main_option("sqlalchemy.url"), poolclass=pool.NullPool
    )
    with engine.connect() as connection:
        run_migrations(connection)
        connection.commit()
