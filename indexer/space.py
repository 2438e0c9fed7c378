"""Disk space: what an operation needs, what the filesystem has, and one message when it fails.

Every operation that writes (import, reindex, follow, backup, restore) keeps
what was stored safe when a write fails: the database commits a transaction
whole or not at all, an index update or rebuild is switched to only once it
is complete, and a backup is renamed into place only once it is checked.
What a user needs on a full disk (or a disk that fails otherwise) is
therefore a message, not a traceback: what could not be done, how much space
it needs and how much there is, that nothing stored was lost, and the command
to run once space is freed.  :class:`Operation` says that, from an exception
anywhere in the chain that means the disk is full (``ENOSPC``, SQLite's
``database or disk is full``, PostgreSQL's ``disk_full``) or failed.

How much an operation needs is estimated from what the archive holds; the
ratios were measured on the livedoor corpus (26 MB of article files: a 57 MB
database and a 125 MB index, and a rebuild of it that wrote 125 MB beside
the old one).
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from indexer.errors import ArchiveError, DiskFull, WriteFailed

# Bytes of database and of index per byte of the article files imported.
DATABASE_PER_SOURCE_BYTE = 2.2
INDEX_PER_SOURCE_BYTE = 4.8
# Bytes of index per byte of database (125 MB for 57 MB), and per article (7,367).
INDEX_PER_DATABASE_BYTE = 2.2
INDEX_BYTES_PER_ARTICLE = 17_000
# What a rebuild writes beside the index it replaces, per byte of the new one: the
# segments (polled during a rebuild of livedoor: 1.0), and room for Whoosh's sort
# runs, which a larger archive writes to disk while the segments are written.
REBUILD_PEAK = 1.3
# Changes applied to an index write their documents and may merge the small
# segments into one, which is written before the old ones go.
UPDATE_PEAK = 2.0
# Below this much free space a write of any size may fail.
MIN_FREE_BYTES = 1_048_576

_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_POSTGRES_DISK_FULL = "53100"


def free_bytes(path: Path) -> int:
    """The bytes this process may still write on the filesystem holding ``path``."""
    for folder in (path, *path.parents):
        if folder.exists():
            return shutil.disk_usage(folder).free
    return 0


def size_of(path: Path) -> int:
    """The bytes a file, or a folder's files, take (0 when there is nothing)."""
    if path.is_file():
        return path.stat().st_size
    if not path.is_dir():
        return 0
    total = 0
    for item in path.rglob("*"):
        try:
            total += item.stat().st_size if item.is_file() else 0
        except OSError:
            continue  # removed meanwhile
    return total


def mebibytes(count: float) -> str:
    """A size for people: ``0.4 MiB``, ``125.3 MiB``, ``2.1 GiB``."""
    if count >= 1024**3:
        return f"{count / 1024**3:.1f} GiB"
    return f"{count / 1024**2:.1f} MiB"


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc``, what it was raised from or during, and what a wrapper holds (SQLAlchemy's ``orig``)."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo += [current.__cause__, current.__context__, getattr(current, "orig", None)]


def disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` (or anything it came from) says that the disk is full."""
    for cause in _chain(exc):
        if isinstance(cause, OSError) and cause.errno in _FULL_ERRNOS:
            return True
        if isinstance(cause, sqlite3.Error) and (
            getattr(cause, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
            or "database or disk is full" in str(cause)
        ):
            return True
        if getattr(cause, "sqlstate", None) == _POSTGRES_DISK_FULL:
            return True
    return False


def _read_only(path: Path) -> bool:
    """Whether the filesystem holding ``path`` is mounted read-only."""
    for folder in (path, *path.parents):
        if folder.exists():
            return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    return False


def _sqlite_full(exc: BaseException) -> bool:
    return any(isinstance(cause, sqlite3.Error) for cause in _chain(exc))


# SQLite's codes for a file it cannot write: read-only, an I/O error, cannot open it.
_SQLITE_FILE_ERRORS = {sqlite3.SQLITE_READONLY, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN}
# What the common failures are, for people (the system says it in English).
_REASONS = {
    errno.EROFS: "読み取り専用のファイルシステムです",
    errno.EACCES: "書き込む権限がありません",
    errno.EPERM: "書き込む権限がありません",
    errno.EIO: "ディスクの読み書きに失敗しました",
}


def write_failure(exc: BaseException) -> OSError | sqlite3.Error | None:
    """The failed read or write of a file behind ``exc``, if that is what it is."""
    for cause in _chain(exc):
        if isinstance(cause, OSError) and not isinstance(cause, TimeoutError | ConnectionError):
            return cause
        if isinstance(cause, sqlite3.Error) and (
            getattr(cause, "sqlite_errorcode", None) in _SQLITE_FILE_ERRORS
            or getattr(cause, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
        ):
            return cause
    return None


def failing_disk(exc: BaseException) -> bool:
    """Whether ``exc`` is the disk failing (full, read-only, an I/O error), not the data."""
    return disk_full(exc) or write_failure(exc) is not None


@dataclass(frozen=True)
class Operation:
    """One writing operation, as a user sees it when the disk fails under it.

    ``doing``: what it is (取り込み); ``where``: a path on the filesystem it
    writes to; ``needed``: the bytes it needs there, and ``how`` that was
    estimated; ``kept``: what is safe (in a sentence ending in 。);
    ``retry``: the command to run once space is freed (``None``: the same again).
    """

    doing: str
    where: Path
    needed: int
    how: str
    kept: str
    retry: str | None  # None: the same command again
    # The SQLite database it writes to, if any: the place to name when SQLite is full.
    database: Path | None = None

    def _then(self, first: str) -> str:
        if self.retry is None:
            return f"{first}、もう一度同じコマンドを実行してください。"
        return f"{first} {self.retry} を実行してください。"

    def space(self) -> str:
        return (
            f"{self.where} の空き {mebibytes(free_bytes(self.where))}、"
            f"必要な空きは約 {mebibytes(self.needed)}（{self.how}）"
        )

    def check(self) -> None:
        """Refuse to start, with the figures, when the filesystem has less than ``needed``."""
        if free_bytes(self.where) < self.needed:
            raise DiskFull(
                f"ディスクの空きが足りないため、{self.doing}を始めませんでした（{self.space()}）。"
                f"何も変えていません。{self._then('空きを作ってから')}"
            )

    def failed(self, exc: BaseException) -> ArchiveError | None:
        """The message for ``exc`` if it is the disk failing; ``None`` if it is something else."""
        failure = write_failure(exc)
        if disk_full(exc):
            # Where the write failed, when the error says (the database and the
            # index may be on different disks).
            name = getattr(failure, "filename", None)
            if name:
                here = replace(self, where=Path(name).parent)
            elif self.database is not None and _sqlite_full(exc):
                here = replace(self, where=self.database.parent)
            else:
                here = self
            return DiskFull(
                f"ディスクの空きが足りなくなったため、{self.doing}を続けられませんでした"
                f"（{here.space()}）。{self.kept}{self._then('空きを作ってから')}"
            )
        if failure is None:
            return None
        number = getattr(failure, "errno", None)
        if getattr(failure, "sqlite_errorcode", None) in _SQLITE_FILE_ERRORS and _read_only(
            self.database or self.where
        ):
            number = errno.EROFS  # SQLite says only that it cannot open or write the file
        what = _REASONS.get(number) or getattr(failure, "strerror", None) or str(failure)
        name = getattr(failure, "filename", None)
        return WriteFailed(
            f"{self.doing}の途中でファイルを読み書きできませんでした（{what}"
            f"{f': {name}' if name else ''}）。{self.kept}"
            + self._then("ディスクの故障、読み取り専用、権限のどれかを直してから")
        )


@contextmanager
def reported(operation: Callable[[], Operation]) -> Iterator[None]:
    """Turn a failing disk under the block into the message of ``operation()`` (made
    when it fails, so that it can say how far the work got); anything else passes."""
    try:
        yield
    except ArchiveError:
        raise
    except Exception as exc:
        message = operation().failed(exc)
        if message is None:
            raise
        raise message from exc


def rebuild_needs(
    articles: int, index_bytes: int, documents: int, database_bytes: int = 0
) -> tuple[int, str]:
    """What rebuilding an index of ``articles`` needs beside the old one, and how that was
    estimated: from the current index when it holds most of them (a small index is
    mostly the fixed cost of its segments), else from the database, else per article."""
    if documents and index_bytes and documents * 2 >= articles:
        size = index_bytes / documents * articles
        how = f"いまの索引 {mebibytes(index_bytes)}（{documents:,}件）から"
    elif database_bytes:
        size = database_bytes * INDEX_PER_DATABASE_BYTE
        how = f"データベース {mebibytes(database_bytes)} の{INDEX_PER_DATABASE_BYTE:g}倍"
    else:
        size = articles * INDEX_BYTES_PER_ARTICLE
        how = f"記事{articles:,}件 × 1件あたり約{INDEX_BYTES_PER_ARTICLE // 1000}KBから"
    return max(MIN_FREE_BYTES, int(size * REBUILD_PEAK)), how


def update_needs(changes: int, index_bytes: int, documents: int) -> tuple[int, str]:
    """What applying ``changes`` to an index needs, and how that was estimated."""
    per_document = index_bytes / documents if documents else INDEX_BYTES_PER_ARTICLE
    size = changes * per_document * UPDATE_PEAK
    return max(MIN_FREE_BYTES, int(size)), f"変更{changes:,}件 × 索引の1件あたりの大きさから"


def import_needs(source_bytes: int) -> tuple[int, str]:
    """What importing files of ``source_bytes`` needs, and how that was estimated."""
    ratio = DATABASE_PER_SOURCE_BYTE + INDEX_PER_SOURCE_BYTE
    how = (
        f"取り込むファイル {mebibytes(source_bytes)} の約{ratio:g}倍: データベースに"
        f"{DATABASE_PER_SOURCE_BYTE:g}倍、索引に{INDEX_PER_SOURCE_BYTE:g}倍"
    )
    return max(MIN_FREE_BYTES, int(source_bytes * ratio)), how
