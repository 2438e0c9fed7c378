"""One story once: near-identical articles grouped as they are stored, and kept grouped.

The same wire story carried by several sites is one story.  Resemblance is
measured as in :mod:`indexer.store.resemblance` (Jaccard similarity of character
shingles), and a story is a connected group of articles at least
``STORY_SIMILARITY`` alike.  A story is known by the smallest id among its
members (the first stored): every other member's ``story_id`` is that id,
and the first one's is that id or None, as is an article's that stands alone.

Comparing a new article with the whole archive would cost in proportion to
the archive, for every article imported.  Instead each article's bottom-k
sketch (``SKETCH`` smallest shingle hashes) is kept in the ``sketches``
table, indexed by value: the articles a new one may be a copy of are those
that share at least ``MIN_SHARED`` of its sketch values, found by one indexed
query; only those few are compared in full.

When an article is added or its text changes, it joins the story of the
articles it resembles, so usually only its own row is written (a new
article has the largest id); resembling two stories, it merges them.  When
it changes or is deleted, the story it left is worked out again among its
remaining members, which may split.  Every article whose story changes is logged as updated (the change
log), so search nodes re-index it: the index carries the story as a column
and collapses results by it.

Two importers storing copies of one story at the same moment (PostgreSQL;
SQLite has one writer at a time) cannot see each other's uncommitted
articles.  So an import groups the articles of each group of files again
once their transaction has committed (:func:`recheck`): of two such importers,
the one that commits second sees the other's copy then.  No lock is taken,
and writers never wait for one another on account of stories.
"""

from __future__ import annotations

import heapq
import logging
import math
from collections.abc import Iterable

from sqlalchemy import Engine, and_, bindparam, delete, func, insert, or_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from indexer.store import changes
from indexer.store.models import Article, Sketch
from indexer.store.resemblance import MIN_SHARED, SKETCH, jaccard, shingles

log = logging.getLogger(__name__)

STORY_SIMILARITY = 0.8
# How often a recheck is tried again after a deadlock with another one.
RECHECK_ATTEMPTS = 3
# The articles sharing most sketch values with a new one that are compared in full:
# a story of thousands of copies costs no more than this per import.
MAX_CANDIDATES = 50
# Of a new article's sketch values, the share a candidate must hold too.  Two
# texts at least STORY_SIMILARITY alike share about that fraction of their
# bottom-k sketches (64 values: 51 on average, standard deviation ~3), so half
# of it misses no copy, while MIN_SHARED alone let in every article with the
# same boilerplate: on livedoor, 45 % of the articles imported were compared
# in full with ten candidates each, three quarters of the time spent storing.
CANDIDATE_SHARE = STORY_SIMILARITY / 2
_TRANSIENT_SQLSTATES = {"40P01", "40001"}  # deadlock_detected, serialization_failure


# Built once, not for every article stored: building is a good part of
# what a statement costs.
_CANDIDATES = (
    select(Sketch.article_id)
    .where(Sketch.value.in_(bindparam("values", expanding=True)))
    .where(Sketch.article_id != bindparam("article_id"))
    .group_by(Sketch.article_id)
    .having(func.count() >= bindparam("needed"))
    .order_by(func.count().desc(), Sketch.article_id)
    .limit(MAX_CANDIDATES)
)
# The sketches table, not the Sketch entity: SQLAlchemy's ORM bulk insert
# cost ~0.3 ms an article more for the same rows.
_INSERT_SKETCH = insert(Sketch.__table__)


def sketch(shingle_set: set[int]) -> list[int]:
    """The bottom-k sketch of a shingle set: its ``SKETCH`` smallest values."""
    return heapq.nsmallest(SKETCH, shingle_set)


def components(edges: Iterable[tuple[int, int]], members: Iterable[int]) -> list[set[int]]:
    """The connected groups of ``members`` joined by ``edges`` (union-find)."""
    parent = {m: m for m in members}

    def root(node: int) -> int:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for a, b in edges:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[int, set[int]] = {}
    for m in parent:
        groups.setdefault(root(m), set()).add(m)
    return list(groups.values())


def story_of(article: Article) -> int:
    """An article's story: its ``story_id``, or its own id when that is None."""
    return article.story_id or article.id


def _in_stories(stories: set[int]):
    """Articles of these stories: labelled with one, or standing for one (a story's first)."""
    return or_(
        Article.story_id.in_(stories), and_(Article.id.in_(stories), Article.story_id.is_(None))
    )


def place(session: Session, article: Article, *, new: bool) -> None:
    """Keep ``article``'s sketch and put it in its story (after an insert, or a new text).

    The article must be flushed (it has its id).  Other articles whose story
    changes are logged as updated.
    """
    own = shingles(article.body)
    values = sketch(own)
    if not new:
        session.execute(delete(Sketch).where(Sketch.article_id == article.id))
        _leave(session, [article])
    if values:
        session.execute(_INSERT_SKETCH, [{"value": v, "article_id": article.id} for v in values])
    _join(session, article, own, values)


def _join(session: Session, article: Article, own: set[int], values: list[int]) -> None:
    """Put ``article`` in the story of the articles it resembles.

    Usually only its own row is written: a story keeps the id of its first
    article, and a new article is the newest.  When it resembles articles of
    several stories, they become one (the smallest id), and those are updated.
    """
    if not values:
        return
    candidates = list(
        session.scalars(
            _CANDIDATES,
            {"values": values, "article_id": article.id, "needed": shared_needed(len(values))},
        )
    )
    if not candidates:
        return
    found = session.scalars(select(Article).where(Article.id.in_(candidates)))
    alike = [other for other in found if jaccard(own, shingles(other.body)) >= STORY_SIMILARITY]
    if not alike:
        return
    stories = {story_of(article)} | {story_of(other) for other in alike}
    target = min(stories)
    others = stories - {target}
    for member in session.scalars(select(Article).where(_in_stories(others))):
        _label(session, member, target)
    if story_of(article) != target:
        _label(session, article, target)
    session.flush()


def shared_needed(values: int) -> int:
    """How many of an article's ``values`` sketch values a candidate copy must share."""
    return max(min(MIN_SHARED, values), math.ceil(values * CANDIDATE_SHARE))


def _label(session: Session, article: Article, story: int | None) -> None:
    """Set an article's story (None: alone), logging the change for the index."""
    if story == article.id and article.story_id is None:
        return  # the first of its story already stands for it
    if article.story_id != story:
        log.debug("article %d: story %s -> %s", article.id, article.story_id, story)
        article.story_id = story
        changes.record(session, article.id, changes.UPDATE)


def leave(session: Session, ids: list[int]) -> None:
    """Take these articles (about to be deleted) out of their stories and sketches."""
    if not ids:
        return
    session.execute(delete(Sketch).where(Sketch.article_id.in_(ids)))
    _leave(session, list(session.scalars(select(Article).where(Article.id.in_(ids)))))


def _leave(session: Session, leaving: list[Article]) -> None:
    """Take these articles out of their stories, which are worked out again without them.

    What is left of a story may fall apart (the one that left joined two
    halves) and must not keep the id of an article that left: its members are
    compared pair by pair (a story is a handful of copies) and labelled anew.
    """
    gone = {a.id for a in leaving}
    stories = {story_of(a) for a in leaving}
    members = {m.id: m for m in session.scalars(select(Article).where(_in_stories(stories)))}
    for article in leaving:
        _label(session, article, None)
    remaining = [m for i, m in members.items() if i not in gone]
    texts = {m.id: shingles(m.body) for m in remaining}
    ids = sorted(texts)
    edges = [
        (a, b)
        for i, a in enumerate(ids)
        for b in ids[i + 1 :]
        if jaccard(texts[a], texts[b]) >= STORY_SIMILARITY
    ]
    for group in components(edges, ids):
        story = min(group) if len(group) > 1 else None
        for article_id in group:
            _label(session, members[article_id], story)
    session.flush()


def recheck(engine: Engine, ids: list[int]) -> None:
    """Group these articles again, in a transaction of their own, after theirs committed.

    Needed only where several transactions write at once (PostgreSQL); two
    rechecks that regroup the same articles may deadlock, and one is tried again.
    """
    if not ids or engine.dialect.name != "postgresql":
        return
    for attempt in range(1, RECHECK_ATTEMPTS + 1):
        try:
            with Session(engine) as session, session.begin():
                for article in session.scalars(select(Article).where(Article.id.in_(ids))):
                    own = shingles(article.body)
                    _join(session, article, own, sketch(own))
            return
        except SQLAlchemyError as exc:
            deadlock = getattr(exc.orig, "sqlstate", None) in _TRANSIENT_SQLSTATES
            if attempt == RECHECK_ATTEMPTS or not deadlock:
                raise
            log.info("regrouping articles again after %s", exc.__class__.__name__)


def story_members(session: Session, article_id: int) -> list[Article]:
    """The other articles of this article's story, oldest first (none when it stands alone)."""
    article = session.get(Article, article_id)
    if article is None:
        return []
    return list(
        session.scalars(
            select(Article)
            .where(_in_stories({story_of(article)}), Article.id != article_id)
            .order_by(Article.published_at, Article.id)
        )
    )


def story_copies(session: Session, articles: list[Article]) -> dict[int, list[int]]:
    """The ids of the other articles of each one's story, oldest first (none when alone).

    One query for the lot, so an export of thousands asks once a batch.
    """
    wanted = {story_of(a) for a in articles}
    members: dict[int, list[int]] = {}
    if wanted:
        rows = session.execute(
            select(Article.id, Article.story_id)
            .where(_in_stories(wanted))
            .order_by(Article.published_at, Article.id)
        )
        for article_id, story in rows:
            members.setdefault(story or article_id, []).append(article_id)
    return {a.id: [m for m in members.get(story_of(a), []) if m != a.id] for a in articles}
