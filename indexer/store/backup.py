"""Backing up the SQLite database while the archive is in use, and restoring it.

A backup is made with SQLite's online backup API in one step, which reads
one snapshot of the database: imports in other processes go on writing (WAL
mode lets readers and writers pass), and the copy holds every article
committed before it began and none of any later one.  The copy is written
beside the target under a temporary name, checked, turned into a single file
(no ``-wal``) and only then renamed into place; what a backup killed
halfway leaves is removed by the next one.

Restoring copies a backup into the archive's database with the same API, so
a server reading the database meanwhile sees the old articles or the new,
never a half-written file.  The index is not part of a backup: it is rebuilt
from the database afterwards.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from indexer.errors import ArchiveError
from indexer.space import disk_full

log = logging.getLogger(__name__)


def sqlite_path(database_url: str, action: str) -> Path:
    """The file an SQLite URL names; an :class:`ArchiveError` for any other database."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        raise ArchiveError(
            f"{action}できるのは SQLite のデータベースだけです（このアーカイブは "
            f"{url.get_backend_name()}）。そのデータベースの道具を使ってください"
            "（PostgreSQL なら pg_dump と pg_restore）。"
        )
    if not url.database or url.database == ":memory:":
        raise ArchiveError(f"メモリー上のデータベースは{action}できません。")
    return Path(url.database).absolute()


def _checked(connection: sqlite3.Connection, path: Path) -> int:
    """How many articles the database holds; an :class:`ArchiveError` if it is not an archive."""
    try:
        [(verdict,)] = connection.execute("PRAGMA quick_check(1)").fetchall()
        if verdict != "ok":
            raise ArchiveError(f"{path} は壊れています（{verdict}）。")
        return connection.execute("SELECT count(*) FROM articles").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise ArchiveError(
            f"{path} は記事アーカイブのバックアップではありません（{exc}）。"
            "python -m indexer backup で作ったファイルを指定してください。"
        ) from None


def backup_sqlite(engine: Engine, database: Path, destination: Path) -> int:
    """Copy the database ``engine`` reads to ``destination``; how many articles the copy holds."""
    destination = destination.absolute()
    if destination.exists() and destination.resolve() == database.resolve():
        raise ArchiveError(
            f"{destination} はアーカイブのデータベースそのものです。別のファイル名にしてください。"
        )
    if destination.is_dir():
        raise ArchiveError(
            f"{destination} はフォルダーです。バックアップのファイル名を指定してください。"
        )
    destination.parent.mkdir(parents=True, exist_ok=True)
    _remove_left_behind(destination)
    partial = destination.with_name(f".{destination.name}.{os.getpid()}.part")
    journal = partial.with_name(partial.name + "-journal")
    partial.unlink(missing_ok=True)
    try:
        with contextlib.closing(sqlite3.connect(partial)) as target:
            source = engine.raw_connection()
            try:
                # One step (pages=-1): one read transaction, so one consistent snapshot.
                source.driver_connection.backup(target)
            finally:
                source.close()
            # The copy says WAL, as its source does: make it one self-contained file.
            target.execute("PRAGMA journal_mode=DELETE")
            count = _checked(target, destination)
        os.replace(partial, destination)
    except sqlite3.Error as exc:
        if disk_full(exc):
            raise  # the caller says how much room a backup needs
        raise ArchiveError(f"{destination} にバックアップできませんでした（{exc}）。") from None
    finally:
        partial.unlink(missing_ok=True)
        journal.unlink(missing_ok=True)
    log.info("backed up %d articles to %s", count, destination)
    return count


def _remove_left_behind(destination: Path) -> None:
    """Remove the partial copies of backups to ``destination`` that were killed (kill -9,
    a power cut) before they could clean up: their process is gone."""
    for left in destination.parent.glob(f".{destination.name}.*.part*"):
        pid = left.name.removeprefix(f".{destination.name}.").split(".")[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _running(int(pid)):
            left.unlink(missing_ok=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's
    return True


def backup_article_count(source: Path) -> int:
    """How many articles the backup ``source`` holds; an :class:`ArchiveError` if it is none."""
    if not source.is_file():
        raise ArchiveError(f"{source} というファイルはありません。")
    try:
        with contextlib.closing(
            sqlite3.connect(f"{source.absolute().as_uri()}?mode=ro", uri=True)
        ) as connection:
            return _checked(connection, source)
    except sqlite3.Error as exc:
        raise ArchiveError(f"{source} を読めません（{exc}）。") from None


def restore_sqlite(source: Path, engine: Engine) -> int:
    """Replace the database ``engine`` writes with the backup ``source``; its article count."""
    count = backup_article_count(source)
    target = engine.raw_connection()
    try:
        with contextlib.closing(
            sqlite3.connect(f"{source.absolute().as_uri()}?mode=ro", uri=True)
        ) as backup:
            backup.backup(target.driver_connection)
    except sqlite3.Error as exc:
        if disk_full(exc):
            raise  # rolled back: the caller says how much room a restore needs
        raise ArchiveError(f"{source} から戻せませんでした（{exc}）。") from None
    finally:
        target.close()
    # Pooled connections may hold pages of the replaced database.
    engine.dispose()
    log.info("restored %d articles from %s", count, source)
    return count
