"""The index on disk: its generations, the atomic switch between them, and writing to it.

The index lives under ``ARCHIVE_HOME/index`` as numbered generations
(``gen-…`` folders) and a ``CURRENT`` file naming the one in use.  An import
updates the current generation in place; a rebuild writes a whole new
generation and then replaces ``CURRENT`` in one atomic rename, so a search
never sees a half-built index.  Each generation records the analyzer and
dictionary that built it, and a stale one is refused with a clear message.
It also records the last change of the database's change log it has applied
(``APPLIED_FILE``), so that a search node knows where to follow on from
(:mod:`indexer.indexing`).  Writers are Whoosh's, with the project's codec
(:mod:`indexer.engine.segments`); one writes at a time, under Whoosh's lock.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import time
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh.filedb.filestore import FileStorage
from whoosh.index import TOC, Index, LockError, clean_files
from whoosh.writing import IndexWriter

from indexer.engine.documents import article_document, index_meta, make_schema
from indexer.engine.segments import Codec, ParallelWriter
from indexer.errors import ArchiveError, IndexDamaged, IndexMissing, IndexOutdated
from indexer.store.models import Article

log = logging.getLogger(__name__)

META_FILE = "archive-index.json"
CURRENT_FILE = "CURRENT"
# Held by a rebuild, in the index root, from its new generation to the cleanup after.
REBUILD_LOCK = "REBUILD"
# The lock a Whoosh writer takes in its index folder (index name "MAIN"): a rebuild
# holds the old generation's, so imports wait for it and then write to the new one.
WHOOSH_WRITE_LOCK = "MAIN_WRITELOCK"
# The last change (indexer.store.changes) the generation has applied, written after each commit.
APPLIED_FILE = "applied-changes.json"
# How long an import waits for a rebuild (or another import) to finish writing.
WRITE_TIMEOUT_SECONDS = 600.0
# Segments are written as separate files, not one compound file: Whoosh copies
# a compound file's parts into memory every time a searcher opens them, which
# cost ~50 ms a search on the livedoor corpus.
COMPOUND_SEGMENTS = False
# Writers use both cores of the machine this was tuned on, once a batch is big
# enough to share (PARALLEL_BATCH articles); each sub-writer may buffer this much.
WRITER_PROCS = 2
PARALLEL_BATCH = 200
WRITER_MEMORY_MB = 256


@dataclass(frozen=True)
class IndexInfo:
    path: Path
    documents: int
    meta: dict[str, str]
    applied_seq: int = 0  # the last change of the database this index has applied


@dataclass(frozen=True)
class ChangeBatch:
    """Changes to bring into the index: the current rows of the articles they name,
    the ids no longer in the database, and the last change they cover."""

    articles: list[Article]
    removed: list[int]
    seq: int
    changes: int


class IndexStore:
    """The index generations under one folder."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def current_path(self) -> Path | None:
        """The generation in use; ``None`` before the first; IndexDamaged if CURRENT is unreadable."""
        try:
            name = (self.root / CURRENT_FILE).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise IndexDamaged(_damaged_current(f"読めません（{exc}）")) from exc
        if not name or "/" in name or not name.startswith("gen-"):
            raise IndexDamaged(_damaged_current(f"使えない内容です（{name[:40]!r}）"))
        return self.root / name

    def open(self) -> Index:
        """The current index, checked to have been built the way this code builds it."""
        path = self.current_path()
        if path is None or not path.exists():
            raise IndexMissing(
                "検索用の索引がまだありません。記事を取り込むか（python -m indexer import PATH）、"
                "データベースから作ってください（python -m indexer reindex）。"
            )
        try:
            meta = json.loads((path / META_FILE).read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            meta = {}
        expected = index_meta()
        stale = [k for k, v in expected.items() if meta.get(k) != v]
        if stale:
            found = "、".join(f"{k} {meta.get(k, '?')}" for k in stale)
            needed = "、".join(f"{k} {expected[k]}" for k in stale)
            raise IndexOutdated(
                f"索引は別の版で作られています（{found}。この版には {needed} が必要です）。"
                "python -m indexer reindex で作り直してください。"
            )
        try:
            return whoosh_index.open_dir(str(path))
        except (ImportError, AttributeError) as exc:
            # Whoosh unpickles the analyzers and the codec by import path: an
            # index whose classes moved or went was written by another version.
            raise IndexOutdated(
                f"索引は別の版で作られています（{exc}）。"
                "python -m indexer reindex で作り直してください。"
            ) from exc

    def info(self) -> IndexInfo:
        ix = self.open()
        path = self.current_path()
        assert path is not None
        meta = json.loads((path / META_FILE).read_text(encoding="utf-8"))
        return IndexInfo(
            path=path, documents=ix.doc_count(), meta=meta, applied_seq=_applied_seq(path)
        )

    def applied_seq(self) -> int:
        """The last change the current index has applied; 0 when it never recorded one.

        An index made before the change log existed was kept up to date by every
        import and delete, so it has applied everything before the log's first change.
        """
        self.open()  # a missing or stale index is not current to anything
        path = self.current_path()
        assert path is not None
        return _applied_seq(path)

    def apply_changes(
        self, read: Callable[[int], ChangeBatch | None], expected: int = 0
    ) -> ChangeBatch | None:
        """Apply the batch ``read(applied)`` returns for the current index; the batch applied.

        ``read`` is called with the last change applied, while this holds the
        index's write lock: two processes updating one index then read and write
        in turn, and an older version of an article never lands over a newer one.
        ``expected`` (how many changes there may be) only chooses the writer.
        """
        writer = self._current_writer(batch=expected)
        path = Path(writer.storage.folder)
        try:
            batch = read(_applied_seq(path))
            if batch is None:
                give_up(writer)
                return None
            ids = [article.id for article in batch.articles] + batch.removed
            if ids:
                writer.delete_by_query(wq.Or([wq.Term("id", str(i)) for i in ids]))
            for article in batch.articles:
                writer.add_document(**article_document(article))
            writer.commit()
        except BaseException:
            # The generation stays as its last commit left it, and searches go on reading it.
            give_up(writer)
            raise
        self._check_present(article.id for article in batch.articles)
        _record_applied(path, batch.seq)
        log.info(
            "applied changes up to #%d: %d articles indexed, %d removed",
            batch.seq,
            len(batch.articles),
            len(batch.removed),
        )
        return batch

    def _check_present(self, ids: Iterable[int]) -> None:
        # A writer process that dies can still leave commit() looking successful.
        wanted = [wq.Term("id", str(i)) for i in ids]
        if not wanted:
            return
        with self.open().searcher() as searcher:
            found = len(searcher.search(wq.Or(wanted), limit=None))
        if found != len(wanted):
            raise ArchiveError(
                f"索引に入ったのは{len(wanted)}件中{found}件だけです。記事は保存されています。"
                "python -m indexer reindex を実行してください。"
            )

    def _current_writer(self, batch: int = 0) -> IndexWriter:
        """A writer on the generation that is current once the write lock is held.

        A rebuild holds the old generation's lock until it has switched, so a
        writer that waited for it must move on to the new generation.
        """
        while True:
            ix = self.open()
            options = {"timeout": WRITE_TIMEOUT_SECONDS, "compound": COMPOUND_SEGMENTS}
            try:
                if batch >= PARALLEL_BATCH:
                    writer = ParallelWriter(
                        ix, procs=WRITER_PROCS, multisegment=True, codec=Codec(), **options
                    )
                else:
                    writer = ix.writer(codec=Codec(), **options)
            except LockError:
                raise ArchiveError(
                    f"索引は別の取り込みか再構築が{WRITE_TIMEOUT_SECONDS:.0f}秒以上書き込み中です。"
                    "データベースへの変更は保存済みです。終わってから "
                    "python -m indexer check --repair を実行すると索引に反映されます。"
                ) from None
            if Path(ix.storage.folder) == self.current_path():
                return writer
            give_up(writer)

    def rebuild(
        self,
        articles: Iterable[Article],
        expected: int | Callable[[], int],
        on_progress: Callable[[int], None] | None = None,
        applied_seq: int | Callable[[], int] | None = None,
        needed: Callable[[], bool] | None = None,
    ) -> IndexInfo | None:
        """Index ``articles`` into a new generation and switch searches to it.

        Imports into the old generation wait while this runs (it holds that
        generation's write lock), so no article imported meanwhile is lost.
        ``applied_seq`` is the last change the articles are known to include.
        Both it and ``expected`` (how many articles there are) may be
        functions, asked once ``articles`` is exhausted.  ``needed``, when
        given, is asked once this rebuild's turn comes: if another rebuild
        made it needless meanwhile, nothing is done and ``None`` returned.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        # One rebuild at a time, whether or not an index exists yet: a rebuild
        # removes the generations it does not keep, which would include another
        # rebuild's new one.  A second rebuild waits for the first, then runs.
        rebuilding = FileStorage(str(self.root)).lock(REBUILD_LOCK)
        rebuilding.acquire(blocking=True)
        try:
            if needed is not None and not needed():
                return None
            return self._rebuild(articles, expected, on_progress, applied_seq)
        finally:
            rebuilding.release()

    def _rebuild(
        self,
        articles: Iterable[Article],
        expected: int | Callable[[], int],
        on_progress: Callable[[int], None] | None,
        applied_seq: int | Callable[[], int] | None,
    ) -> IndexInfo:
        try:
            old = self.current_path()
        except IndexDamaged:
            old = None  # what a rebuild is for
        lock = FileStorage(str(old)).lock(WHOOSH_WRITE_LOCK) if old and old.exists() else None
        if lock is not None and not lock.acquire(blocking=False):
            raise ArchiveError(
                "別の取り込みか再構築が索引に書き込んでいます。終わってからもう一度実行してください。"
            )
        try:
            path = self._new_generation()
            try:
                seconds = self._build(path, articles, on_progress)
                documents = whoosh_index.open_dir(str(path)).doc_count()
                expected = expected() if callable(expected) else expected
                applied_seq = applied_seq() if callable(applied_seq) else applied_seq
                if documents != expected:
                    raise ArchiveError(
                        f"新しい索引には{documents}件しか入りませんでした"
                        f"（データベースには{expected}件）。検索には元の索引を使い続けます。"
                    )
                log.info("indexed %d articles into %s in %.1f s", documents, path.name, seconds)
                if applied_seq is not None:
                    _record_applied(path, applied_seq)
                self._switch_to(path)
            except BaseException:
                # Half a generation goes (the old one answers searches meanwhile),
                # unless the switch to it happened before the failure.
                if self._current_or_none() != path:
                    shutil.rmtree(path, ignore_errors=True)
                raise
        finally:
            if lock is not None:
                lock.release()
        # Generations left by rebuilds that were killed go too.
        self._remove_old_generations(keep={path, old} if old else {path})
        return self.info()

    def _build(
        self, path: Path, articles: Iterable[Article], on_progress: Callable[[int], None] | None
    ) -> float:
        """Write ``articles`` into the new generation at ``path``; the seconds it took."""
        started = time.perf_counter()
        writer = ParallelWriter(
            whoosh_index.open_dir(str(path)),
            procs=WRITER_PROCS,
            multisegment=True,
            limitmb=WRITER_MEMORY_MB,
            compound=COMPOUND_SEGMENTS,
            codec=Codec(),
        )
        try:
            for article in articles:
                writer.add_document(**article_document(article))
                if on_progress is not None:
                    on_progress(1)
            writer.commit()
        except BaseException:
            give_up(writer)
            raise
        return time.perf_counter() - started

    def _current_or_none(self) -> Path | None:
        try:
            return self.current_path()
        except IndexDamaged:
            return None

    def _new_generation(self) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        path = self.root / f"gen-{stamp}-{os.getpid()}-{time.monotonic_ns() % 1_000_000:06d}"
        path.mkdir()
        try:
            whoosh_index.create_in(str(path), make_schema())
            (path / META_FILE).write_text(json.dumps(index_meta(), indent=2), encoding="utf-8")
        except BaseException:
            shutil.rmtree(path, ignore_errors=True)
            raise
        return path

    def _switch_to(self, path: Path) -> None:
        # Written whole, flushed to disk, renamed over the old one, and the rename
        # itself flushed: after a crash CURRENT names the old generation or the new
        # one, never nothing.
        temporary = self.root / f"{CURRENT_FILE}.{os.getpid()}.tmp"
        try:
            with temporary.open("w", encoding="utf-8") as out:
                out.write(path.name + "\n")
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.root / CURRENT_FILE)
        finally:
            temporary.unlink(missing_ok=True)
        folder = os.open(self.root, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
        log.info("index switched to %s", path.name)

    def _remove_old_generations(self, keep: set[Path]) -> None:
        # The previous generation stays one round, for searches still reading it.
        for path in self.root.glob("gen-*"):
            if path not in keep:
                shutil.rmtree(path, ignore_errors=True)


def _damaged_current(what: str) -> str:
    return (
        f"索引の {CURRENT_FILE} ファイルが{what}。"
        "python -m indexer reindex で索引を作り直してください。"
    )


def _applied_seq(generation: Path) -> int:
    try:
        return int(json.loads((generation / APPLIED_FILE).read_text(encoding="utf-8"))["seq"])
    except FileNotFoundError:
        return 0


def _record_applied(generation: Path, seq: int) -> None:
    # Written beside the index it describes and renamed into place, so a
    # reader sees the old number or the new one, never half a file.
    temporary = generation / f"{APPLIED_FILE}.{os.getpid()}.tmp"
    try:
        temporary.write_text(json.dumps({"seq": seq}), encoding="utf-8")
        os.replace(temporary, generation / APPLIED_FILE)
    finally:
        temporary.unlink(missing_ok=True)


# A table of contents Whoosh was writing when it failed (it writes under this name, then renames).
_UNFINISHED_TOC = re.compile(r"^_[A-Za-z0-9]+_[0-9]+\.toc\..+$")


def give_up(writer: IndexWriter) -> None:
    """Abandon a writer, leaving its generation as its last commit left it; never raises.

    Its worker processes are ended, and every file of the generation that the
    table of contents does not list (what this writer wrote, or one killed
    before it) goes, with the writers' temporary folder; then the lock is
    released.  Whoosh's own ``cancel()`` first flushes the files it has open,
    which on a full disk fails again and keeps the lock; and it leaves the
    segment files and job files where they are, holding the space.
    """
    if isinstance(writer, ParallelWriter):
        writer.stop_workers()
    for part in (writer.perdocwriter, writer.fieldwriter):
        with suppress(Exception):  # the descriptor is closed even when the flush fails
            part.close()
    with suppress(Exception):
        writer.pool.cleanup()
    storage, name = writer.storage, writer.indexname
    with suppress(Exception):
        # Holding the write lock, no other writer is adding files meanwhile.
        toc = TOC.read(storage, name)
        clean_files(storage, name, toc.generation, toc.segments)
    with suppress(Exception):
        for file in storage.list():
            if _UNFINISHED_TOC.match(file):
                storage.delete_file(file)
    with suppress(Exception):
        writer.temp_storage().destroy()
    if writer.writelock is not None:
        with suppress(Exception):
            writer.writelock.release()
    writer.is_closed = True
