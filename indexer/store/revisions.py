"""The database's schema version, kept up to date by the Alembic migrations in ``migrations/``.

What happens when an archive is opened (:func:`prepare`):

- a new, empty database is migrated to the newest revision, on SQLite and PostgreSQL alike;
- an archive made before there were migrations (an ``articles`` table but no
  ``alembic_version``) is recognised and stamped at the first revision, never recreated;
- a database at an older revision is upgraded at once when it is SQLite: an embedded
  archive has one program using it.  Any other database (PostgreSQL) is refused with a
  message naming ``python -m indexer db upgrade``: several search nodes may share it,
  each running its own copy of the program, so the upgrade is a step someone takes on
  purpose (update the program on every node, then upgrade once);
- a revision this program does not know (a newer program migrated it) is refused.

Alembic runs from code (:func:`alembic_config`); no alembic.ini is needed.  It is
imported only when there is something to migrate: it adds ~0.2 s to every command's start.
"""

from __future__ import annotations

import functools
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text

from indexer.errors import SchemaMismatch

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# The revision that creates the schema archives had before migrations.
FIRST_REVISION = "0001"
# The newest revision, so that opening an up-to-date archive needs no Alembic;
# a test checks it against the migrations (a new migration must change it).
HEAD = "0005"
# Alembic keeps the running migration's context in module globals: two threads
# of one process must not migrate at the same time (other processes wait on a
# database lock instead, see migrations/env.py).
_ALEMBIC = threading.Lock()
# The columns that archives made before migrations kept as naive UTC on PostgreSQL.
_TIME_COLUMNS = ("published_at", "imported_at", "updated_at")


@dataclass(frozen=True)
class Revision:
    id: str
    down: str | None
    message: str


@dataclass(frozen=True)
class SchemaStatus:
    """Where a database stands: its revision (None when it has none) and the newest one."""

    current: str | None
    head: str
    pre_migration: bool = False  # an archive made before migrations, not yet stamped

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head

    @property
    def known(self) -> bool:
        return self.current is None or self.current in {r.id for r in history()}


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration, pointing into this package; it migrates ``connection``."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


@functools.cache
def _scripts() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


def history() -> list[Revision]:
    """Every revision, oldest first."""
    revisions = [
        Revision(script.revision, script.down_revision, (script.doc or "").strip())
        for script in _scripts().walk_revisions()
    ]
    return revisions[::-1]


def _status(connection: Connection) -> SchemaStatus:
    tables = set(inspect(connection).get_table_names())
    if "alembic_version" in tables:
        versions = connection.execute(text("SELECT version_num FROM alembic_version")).scalars()
        current = ",".join(sorted(versions)) or None
        return SchemaStatus(current, HEAD)
    return SchemaStatus(None, HEAD, pre_migration="articles" in tables)


def status(engine: Engine) -> SchemaStatus:
    with engine.connect() as connection:
        return _status(connection)


def upgrade(engine: Engine) -> tuple[SchemaStatus, SchemaStatus]:
    """Bring the database to the newest revision; the status before and after."""
    with engine.begin() as connection:
        before = _status(connection)
        _upgrade(connection, before)
        after = _status(connection)
    return before, after


def _upgrade(connection: Connection, before: SchemaStatus) -> None:
    if not before.known:
        raise SchemaMismatch(_too_new(before))
    with _ALEMBIC:
        if before.pre_migration:
            _adopt(connection)
        if before.current != before.head or before.pre_migration:
            from alembic import command

            log.info("upgrading the database from %s to %s", before.current, before.head)
            command.upgrade(alembic_config(connection), "head")


def _adopt(connection: Connection) -> None:
    """Stamp an archive made before migrations at the revision that describes it."""
    if connection.dialect.name == "postgresql":
        # Made then, its times were naive UTC in `timestamp` columns; the first
        # revision keeps instants in `timestamp with time zone`.
        columns = {c["name"]: c["type"] for c in inspect(connection).get_columns("articles")}
        for name in _TIME_COLUMNS:
            if not getattr(columns[name], "timezone", False):
                connection.execute(
                    text(
                        f"ALTER TABLE articles ALTER COLUMN {name} "
                        f"TYPE timestamp with time zone USING {name} AT TIME ZONE 'UTC'"
                    )
                )
    from alembic import command

    log.info("stamping an archive made before migrations at revision %s", FIRST_REVISION)
    command.stamp(alembic_config(connection), FIRST_REVISION)


def prepare(engine: Engine, auto_upgrade: bool) -> SchemaStatus:
    """Make sure the database has the schema this program uses (see the module's notes)."""
    with engine.begin() as connection:
        found = _status(connection)
        if found.up_to_date:
            return found
    # Work to do: hold SQLite's write lock from the start and look again, so that two
    # processes opening a new archive at once take turns instead of one failing.
    with engine.execution_options(sqlite_immediate=True).begin() as connection:
        found = _status(connection)
        if found.up_to_date:
            return found
        if not found.known:
            raise SchemaMismatch(_too_new(found))
        empty = found.current is None and not found.pre_migration
        if not (empty or auto_upgrade):
            raise SchemaMismatch(
                f"データベースの形式が古いままです（{_revision_name(found)}、"
                f"この版は {found.head}）。すべてのノードのプログラムを更新してから、"
                "python -m indexer db upgrade を一度実行してください。"
            )
        _upgrade(connection, found)
        return _status(connection)


def _revision_name(found: SchemaStatus) -> str:
    if found.pre_migration:
        return "マイグレーション導入前の形式"
    return f"リビジョン {found.current}"


def _too_new(found: SchemaStatus) -> str:
    return (
        f"データベースはこの版の知らない形式です（リビジョン {found.current}）。"
        "より新しい版のプログラムで作られたか更新されたデータベースです。プログラムを更新してください。"
    )
