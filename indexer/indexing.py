"""Keeping an index up to date with the database: apply the change log, or rebuild.

Several search nodes can share one database, each with an index of its own
(its own ARCHIVE_HOME).  A node catches up (:func:`catch_up`) by applying
the changes logged after the last one its index applied, in batches, or, when
it has no usable index or is too far behind for that to pay, by rebuilding
the index from the database.  Imports and deletes on a node catch its own
index up the same way, so they also bring in what other nodes changed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from indexer.engine import ChangeBatch, IndexInfo, IndexStore
from indexer.errors import IndexDamaged, IndexMissing, IndexOutdated
from indexer.store import changes
from indexer.store.articles import get_articles, iter_articles, snapshot_session
from indexer.store.models import Article

log = logging.getLogger(__name__)

# Changes applied in one index commit.
FOLLOW_BATCH = 1000
# Behind by more changes than this, a node rebuilds its index instead: the
# rebuild writes on both cores with no deletions (~380 articles/s here), and
# beyond this many the log would take about as long to apply, batch by batch.
REINDEX_AFTER = 10_000


@dataclass(frozen=True)
class FollowResult:
    """What one round of catching up did."""

    changes: int = 0  # changes applied
    indexed: int = 0  # articles (re)indexed from those changes
    removed: int = 0  # articles removed from the index
    seq: int = 0  # the last change the index has applied now
    reindexed: IndexInfo | None = None  # the new index, when it was rebuilt instead
    reason: str = ""  # why it was rebuilt


def rebuild_index(
    engine: Engine, index_store: IndexStore, on_progress: Callable[[int], None] | None = None
) -> IndexInfo:
    """Rebuild the whole index from the database, recording the last change it includes."""
    info = _rebuild(engine, index_store, on_progress)
    assert info is not None  # always rebuilt when not asked whether it is needed
    return info


def _rebuild(
    engine: Engine,
    index_store: IndexStore,
    on_progress: Callable[[int], None] | None = None,
    needed: Callable[[], bool] | None = None,
) -> IndexInfo | None:
    tail = Tail(engine)
    return index_store.rebuild(
        tail.existing(),
        lambda: tail.given,
        on_progress,
        applied_seq=lambda: tail.seq,
        needed=needed,
    )


def catch_up(
    engine: Engine,
    index_store: IndexStore,
    reindex_after: int | None = REINDEX_AFTER,
    batch: int = FOLLOW_BATCH,
) -> FollowResult:
    """Bring the index up to the database's newest change; rebuild it when that is the way."""
    applied, behind, reason = _how_far(engine, index_store, reindex_after)
    if reason:
        # Asked again once the rebuild's turn comes: a follower that waited for
        # another process's rebuild (a first import) follows that index instead.
        info = _rebuild(
            engine,
            index_store,
            needed=lambda: bool(_how_far(engine, index_store, reindex_after)[2]),
        )
        if info is not None:
            return FollowResult(seq=info.applied_seq, reindexed=info, reason=reason)
        applied, behind, _ = _how_far(engine, index_store, reindex_after)
    done = FollowResult(seq=applied)
    while behind:
        applied_batch = index_store.apply_changes(
            lambda after: _read_batch(engine, after, batch), expected=min(behind, batch)
        )
        if applied_batch is None:
            break
        done = FollowResult(
            changes=done.changes + applied_batch.changes,
            indexed=done.indexed + len(applied_batch.articles),
            removed=done.removed + len(applied_batch.removed),
            seq=applied_batch.seq,
        )
        if applied_batch.changes < batch:
            break
    return done


class Tail:
    """The database's articles as they are stored, for a rebuild that runs while they are.

    :meth:`existing` gives every article stored already (one snapshot, as of
    change ``seq``); each later call of :meth:`new` gives the articles that
    the changes logged since bring in.  A rebuild cannot replace a document
    it is still writing, so an article that changes again after it was given
    is noted in ``again``, to be applied once the rebuild is done
    (:func:`rebuild_alongside`).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.seq = 0  # the last change the articles given include
        self.given = 0
        self._seen: set[int] = set()
        self.again: set[int] = set()

    def existing(self) -> Iterator[Article]:
        with snapshot_session(self.engine) as session:
            # The newest change first: the articles read after it include it and
            # everything before it, so nothing is missed (a later change may be
            # applied again, which does no harm).
            self.seq = changes.last_seq(session)
            for article in iter_articles(session):
                self._seen.add(article.id)
                self.given += 1
                yield article

    def new(self) -> Iterator[Article]:
        with Session(self.engine) as session:
            while found := changes.changes_after(session, self.seq, FOLLOW_BATCH):
                fresh = []
                for change in found:
                    if change.article_id in self._seen:
                        self.again.add(change.article_id)
                    else:
                        fresh.append(change.article_id)
                ids = list(dict.fromkeys(fresh))
                # The rows as they are now; one deleted meanwhile is left out
                # (and should it come back, it is applied again).
                for article in get_articles(session, ids):
                    self.given += 1
                    yield article
                self._seen.update(ids)
                self.seq = found[-1].seq
                session.expunge_all()


def rebuild_alongside(
    engine: Engine, index_store: IndexStore, tail: Tail, articles: Iterable[Article]
) -> IndexInfo:
    """Rebuild the index from ``articles`` (what ``tail`` gives), then apply what changed again."""
    info = index_store.rebuild(articles, lambda: tail.given, applied_seq=lambda: tail.seq)
    if tail.again:
        ids = sorted(tail.again)
        log.info("%d articles changed again while the index was built: applying them", len(ids))

        def read(applied: int) -> ChangeBatch:
            with Session(engine) as session:
                return _as_they_are(session, ids, applied, len(ids))

        index_store.apply_changes(read, expected=len(ids))
        info = index_store.info()
    return info


def _how_far(
    engine: Engine, index_store: IndexStore, reindex_after: int | None
) -> tuple[int, int, str]:
    """The last change the index applied, how many it is behind, and why it should be
    rebuilt rather than caught up (for people; ``""`` when it should not)."""
    try:
        applied = index_store.applied_seq()
    except (IndexMissing, IndexOutdated, IndexDamaged) as exc:
        log.info("rebuilding the index: %s", exc.__class__.__name__)
        return 0, 0, "索引がないか、別の版で作られていたため"
    with Session(engine) as session:
        behind = changes.count_after(session, applied)
    if reindex_after is not None and behind > reindex_after:
        log.info("rebuilding the index: %d changes behind", behind)
        return applied, behind, f"{behind}件の変更の遅れがあったため"
    return applied, behind, ""


def _read_batch(engine: Engine, after: int, limit: int) -> ChangeBatch | None:
    with Session(engine) as session:
        found = changes.changes_after(session, after, limit)
        if not found:
            return None
        ids = list(dict.fromkeys(change.article_id for change in found))
        return _as_they_are(session, ids, found[-1].seq, len(found))


def _as_they_are(session: Session, ids: list[int], seq: int, count: int) -> ChangeBatch:
    """The rows of these articles as they are now, and those no longer stored, as a batch."""
    articles = get_articles(session, ids)
    session.expunge_all()
    present = {article.id for article in articles}
    return ChangeBatch(articles, [i for i in ids if i not in present], seq=seq, changes=count)


def follow(
    engine: Engine,
    index_store: IndexStore,
    interval: float,
    stop: threading.Event,
    on_round: Callable[[FollowResult | Exception], None] | None = None,
    reindex_after: int | None = REINDEX_AFTER,
) -> None:
    """Catch up every ``interval`` seconds until ``stop`` is set.

    A round that fails (the database unreachable, another process rebuilding
    the index) is reported to ``on_round`` and logged, and the next round tries again.
    """
    while not stop.is_set():
        try:
            result: FollowResult | Exception = catch_up(engine, index_store, reindex_after)
        except Exception as exc:  # noqa: BLE001 - a follower outlives a bad round
            log.warning("following the change log failed (will try again): %s", exc)
            result = exc
        if on_round is not None:
            on_round(result)
        stop.wait(interval)
