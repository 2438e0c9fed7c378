"""Importing files and folders: read, store, and make searchable, one bad file at a time.

Every file is read on its own, small files are stored several to a
transaction (:func:`file_groups`), and every article in a savepoint of its
own, so a broken file (or a broken line of a JSON Lines file) is reported
with its reason and never stops the rest, nor damages what is already
stored.  Stored articles are indexed from the change log
(:mod:`indexer.indexing`) after every ``INDEX_BATCH`` of them as the import
goes (or, into an empty index, by a rebuild that runs while they are
stored), and every import ends by bringing the index up to the log, so
articles an interrupted import stored become searchable with the next
import, ``follow`` or ``check --repair``.
"""

from __future__ import annotations

import logging
import os
import stat
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from indexer.engine import IndexStore
from indexer.errors import ArticleRejected, IndexDamaged, IndexMissing, IndexOutdated, ReadError
from indexer.indexing import Tail, catch_up, rebuild_alongside
from indexer.readers import read_data, read_file
from indexer.readers.drafts import ArticleDraft, site_of
from indexer.space import failing_disk
from indexer.store import audit, stories
from indexer.store.articles import Outcome, Saved, is_transient, save_article, writer_session
from indexer.store.models import Article

log = logging.getLogger(__name__)

# Suffixes taken from a folder; a file named on the command line is read whatever
# its suffix (its format is told from its content), unless its name is not an article's.
ARTICLE_SUFFIXES = {".txt", ".text", ".jsonl", ".ndjson", ".html", ".htm"}
# Files that sit beside articles in corpora but are not articles, whether found
# in a folder or named one by one (``import corpus/*.txt`` names LICENSE.txt too).
NOT_ARTICLES = ("readme", "license", "licence", "changes", "copying")
INDEX_BATCH = 500
# How often one article is looked up again after another importer stored it
# first, and how often a group of files' transaction is tried again after a deadlock.
SAVE_ATTEMPTS = 3
FILE_ATTEMPTS = 5
# Small files are stored several to a transaction: a commit for every
# livedoor file (one article each) was a third of the time storing took
# (2,000 files: 3.4 instead of 6.4 ms an article in groups of 50, under load).
# A group ends at GROUP_FILES files, or before the file that would take its
# files past GROUP_BYTES, so a large file is a transaction of its own.
GROUP_FILES = 50
GROUP_BYTES = 1_048_576
# PostgreSQL advisory lock over importers' transactions: each holds it
# shared, and one tried again after a deadlock holds it alone, so that a retry
# cannot deadlock again.  Any fixed number other than the migrations' one.
IMPORT_LOCK = 0x4A41_5249  # "JARI"


@dataclass(frozen=True)
class Upload:
    """A file that came over the network instead of from a disk: its name and its bytes.

    ``url`` is where the page was found (the bookmarklet's page): it is the
    article's URL unless the page names a canonical one on the same site.
    """

    name: str
    data: bytes
    url: str | None = None

    def __str__(self) -> str:
        return self.name


# What an import reads: files on disk, or uploads.
Source = Path | Upload


@dataclass(frozen=True)
class StoredArticle:
    """One article an import read, and what became of it."""

    source: str
    line: int | None
    id: int
    title: str
    outcome: str  # added, updated or unchanged
    changed: tuple[str, ...] = ()


@dataclass
class ImportSummary:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[str] = field(default_factory=list)
    failed: list[ReadError] = field(default_factory=list)
    files: int = 0
    # What each update changed: (article id, where it came from, changed fields).
    changes: list[tuple[int, str, tuple[str, ...]]] = field(default_factory=list)
    # Every article read, when asked for (a web upload's answer); a command-line
    # import of a whole corpus keeps only the counts.
    articles: list[StoredArticle] | None = None

    @property
    def ok(self) -> bool:
        return not self.failed

    def count(self, outcome: Outcome) -> None:
        setattr(self, outcome.value, getattr(self, outcome.value) + 1)


def _is_article_name(path: Path) -> bool:
    """Not hidden, and not a README, LICENSE or the like."""
    name = path.name.lower()
    return not name.startswith(".") and not name.startswith(NOT_ARTICLES)


def _is_article_file(path: Path) -> bool:
    """An article file in a folder: an article's name and suffix."""
    return _is_article_name(path) and path.suffix.lower() in ARTICLE_SUFFIXES


def discover(paths: Iterable[Path], summary: ImportSummary) -> Iterator[Path]:
    """Every article file under ``paths``, sorted; folders are walked recursively.

    Symbolic links are followed, but a folder already seen (a link loop) is
    reported and not walked again.  A file named, not found in a folder, is
    read whatever its suffix; a README, LICENSE or hidden file is skipped
    either way.
    """
    for path in paths:
        if not path.exists():
            summary.failed.append(ReadError(str(path), "ファイルもフォルダーもありません"))
            continue
        if not path.is_dir():
            if _is_article_name(path):
                yield path
            else:
                summary.skipped.append(str(path))
            continue
        seen: set[tuple[int, int]] = set()
        for folder, dirs, files in os.walk(path, followlinks=True, onerror=None):
            stat = os.stat(folder)
            if (stat.st_dev, stat.st_ino) in seen:
                summary.failed.append(
                    ReadError(
                        folder, "シンボリックリンクが循環しています（このフォルダーは飛ばしました）"
                    )
                )
                dirs.clear()
                continue
            seen.add((stat.st_dev, stat.st_ino))
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(files):
                candidate = Path(folder) / name
                if _is_article_file(candidate):
                    yield candidate
                elif not name.startswith("."):
                    summary.skipped.append(str(candidate))


def store_draft(session: Session, draft: ArticleDraft) -> Saved:
    """Store one article in a savepoint of its own, in the caller's transaction."""
    # A savepoint per article: a rejected row costs that article only.  When
    # another importer stores the same article at the same moment, the unique
    # URL and text constraints stop the second copy (the database waits for
    # the first to commit): look again, and the article is found stored.
    for attempt in range(1, SAVE_ATTEMPTS + 1):
        try:
            with session.begin_nested():
                return save_article(session, draft)
        except IntegrityError:
            if attempt == SAVE_ATTEMPTS:
                raise
            log.info("%s: stored meanwhile by another importer; looking again", draft.title)
    raise AssertionError("unreachable")


def _take_import_lock(session: Session, alone: bool) -> None:
    """On PostgreSQL, share the importers' lock, or hold it ``alone``, to the end of the transaction."""
    if session.get_bind().dialect.name != "postgresql":
        return  # SQLite's BEGIN IMMEDIATE already lets one writer in at a time
    function = "pg_advisory_xact_lock" if alone else "pg_advisory_xact_lock_shared"
    session.execute(text(f"SELECT {function}(:key)"), {"key": IMPORT_LOCK})


@dataclass
class StoredFile:
    """What storing one file came to: the articles stored, and what failed."""

    path: Source
    stored: list[Saved] = field(default_factory=list)
    failed: list[ReadError] = field(default_factory=list)
    lines: list[int | None] = field(default_factory=list)  # each stored article's line


def file_groups(files: Iterable[Source]) -> Iterator[list[Source]]:
    """``files`` in groups to store one transaction each: small files together, a large one alone."""
    group: list[Source] = []
    size = 0
    for path in files:
        length = _group_bytes(path)
        if group and (len(group) == GROUP_FILES or size + length > GROUP_BYTES):
            yield group
            group, size = [], 0
        group.append(path)
        size += length
    if group:
        yield group


def _group_bytes(path: Source) -> int:
    """What a file counts for in a group: its size; more than a group for a named pipe.

    A pipe may keep the reader waiting, and its group's transaction with it:
    the files before it are committed first, so they are kept meanwhile.
    """
    if isinstance(path, Upload):
        return len(path.data)
    try:
        found = path.stat()
    except OSError:
        return 0  # the reader reports what is wrong with it
    return found.st_size if stat.S_ISREG(found.st_mode) else GROUP_BYTES + 1


def _read(source: Source, fmt: str) -> Iterator[ArticleDraft | ReadError]:
    if not isinstance(source, Upload):
        yield from read_file(source, fmt)
        return
    for item in read_data(source.data, source.name, fmt):
        if isinstance(item, ArticleDraft) and source.url:
            item = _at(item, source.url)
        yield item


def _at(draft: ArticleDraft, url: str) -> ArticleDraft:
    """The page found at ``url``: its canonical URL is kept only on the same site.

    A page may name any URL as canonical; one on another site would make saving
    it replace that site's article of that URL.
    """
    if draft.url and site_of(draft.url) == site_of(url):
        return draft
    return replace(draft, url=url, site=site_of(url))


def _store_file(session: Session, path: Source, fmt: str) -> StoredFile:
    """Store the articles of one file, each in its own savepoint, in the caller's transaction."""
    result = StoredFile(path)
    for item in _read(path, fmt):
        if isinstance(item, ReadError):
            result.failed.append(item)
            continue
        try:
            saved = store_draft(session, item)
            result.stored.append(saved)
            result.lines.append(item.line)
            if saved.outcome is Outcome.ADDED:
                audit.note(session, saved.article.id, audit.ADDED, saved.article.title)
            elif saved.outcome is Outcome.UPDATED:
                audit.note(
                    session, saved.article.id, audit.UPDATED, saved.article.title, saved.changed
                )
        except ArticleRejected as exc:
            result.failed.append(ReadError(str(path), str(exc), item.line))
        except SQLAlchemyError as exc:
            if is_transient(exc) or failing_disk(exc):
                raise  # not this article's fault: the group is tried again, or the import ends
            reason = f"保存できませんでした（{exc.__class__.__name__}: {exc}）"
            result.failed.append(ReadError(str(path), reason, item.line))
    return result


def store_group(
    engine: Engine, paths: list[Source], fmt: str, actor: str | None = None
) -> list[StoredFile]:
    """Store the articles of ``paths`` in one transaction: what each file stored, and what failed.

    A transaction the database gave up to end a deadlock with another importer
    (or SQLite's lock, with another writer) is tried again from the start, all
    of its files; on PostgreSQL the retry waits until no other importer is
    storing and keeps them waiting until it is done.  Two importers of the same
    articles in opposite orders would otherwise deadlock again at every try.
    A group whose transaction fails for good is stored again one file to a
    transaction, so that a file that cannot be committed costs only itself.
    """
    for attempt in range(1, FILE_ATTEMPTS + 1):
        results: list[StoredFile] = []
        try:
            with writer_session(engine, expire_on_commit=False) as session, session.begin():
                audit.acting_as(session, actor)
                _take_import_lock(session, alone=attempt > 1)
                for path in paths:
                    results.append(_store_file(session, path, fmt))
            return results
        except SQLAlchemyError as exc:
            if failing_disk(exc):
                # Every file after it would fail the same way (a full or read-only
                # disk): the import ends, with one message; the transaction was rolled back.
                raise
            if is_transient(exc) and attempt < FILE_ATTEMPTS:
                log.info(
                    "%d files from %s: %s; storing its files again",
                    len(paths),
                    paths[0],
                    exc.orig or exc,
                )
                time.sleep(0.1 * attempt)  # let the other transaction finish
                continue
            if len(paths) > 1 and not is_transient(exc):
                log.info("%d files: %s; storing them one at a time", len(paths), exc)
                return [one for path in paths for one in store_group(engine, [path], fmt, actor)]
            reason = f"データベースのエラーで何も保存していません（{exc}）"
            read_errors = [done.failed for done in results] + [[]] * (len(paths) - len(results))
            return [
                StoredFile(path, failed=[*errors, ReadError(str(path), reason)])
                for path, errors in zip(paths, read_errors, strict=True)
            ]
    raise AssertionError("unreachable")


def import_files(
    files: Iterable[Source],
    engine: Engine,
    index_store: IndexStore,
    fmt: str = "auto",
    summary: ImportSummary | None = None,
    on_file: Callable[[Source], None] | None = None,
    actor: str | None = None,
) -> ImportSummary:
    """Import the articles in ``files`` and index what was added or changed.

    Into an archive whose index is empty (or out of date), a new index is
    built in one rebuild while the articles are stored: the writer processes
    analyze what the database holds and what each group of files adds, on
    the other core, while the next group is stored.  That is about three
    times faster than indexing as the import goes, which later imports do.
    ``on_file`` is told of each file once it is done (to move a progress bar).
    ``actor`` is who the import is by, for the articles' history (see
    :mod:`indexer.store.audit`).
    """
    summary = summary if summary is not None else ImportSummary()
    groups = file_groups(files)
    if _needs_full_build(index_store):
        tail = Tail(engine)

        def stored() -> Iterator[Article]:
            yield from tail.existing()
            for group in groups:
                _store_and_count(engine, group, fmt, summary, on_file, actor)
                yield from tail.new()

        rebuild_alongside(engine, index_store, tail, stored())
    else:
        unindexed = 0  # articles stored since the index last caught up
        for group in groups:
            unindexed += _store_and_count(engine, group, fmt, summary, on_file, actor)
            if unindexed >= INDEX_BATCH:
                catch_up(engine, index_store)
                unindexed = 0
    log.info(
        "read %d files: %d added, %d updated, %d unchanged, %d failed",
        summary.files,
        summary.added,
        summary.updated,
        summary.unchanged,
        len(summary.failed),
    )
    # The index catches up with the database's change log: what this import
    # stored, whatever other importers sharing the database stored meanwhile,
    # and what an earlier import stored but was stopped before indexing.
    catch_up(engine, index_store)
    return summary


def _store_and_count(
    engine: Engine,
    group: list[Source],
    fmt: str,
    summary: ImportSummary,
    on_file: Callable[[Source], None] | None,
    actor: str | None = None,
) -> int:
    """Store a group of files, count what happened in ``summary``; the articles added or updated."""
    done = store_group(engine, group, fmt, actor)
    # Another importer may have stored copies of the same stories meanwhile.
    stories.recheck(
        engine,
        [
            saved.article.id
            for result in done
            for saved in result.stored
            if saved.outcome is Outcome.ADDED or "body" in saved.changed
        ],
    )
    changed = 0
    for result in done:
        summary.files += 1
        summary.failed.extend(result.failed)
        for saved, line in zip(result.stored, result.lines, strict=True):
            summary.count(saved.outcome)
            if summary.articles is not None:
                summary.articles.append(
                    StoredArticle(
                        str(result.path),
                        line,
                        saved.article.id,
                        saved.article.title,
                        saved.outcome.value,
                        saved.changed,
                    )
                )
            if saved.outcome is Outcome.UPDATED:
                summary.changes.append((saved.article.id, str(result.path), saved.changed))
            if saved.outcome is not Outcome.UNCHANGED:
                changed += 1
        log.debug("%s: %d articles stored", result.path, len(result.stored))
        if on_file is not None:
            on_file(result.path)
    return changed


def _needs_full_build(index_store: IndexStore) -> bool:
    try:
        return index_store.open().doc_count() == 0
    except (IndexMissing, IndexOutdated, IndexDamaged):
        return True
