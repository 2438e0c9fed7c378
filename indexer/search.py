"""The search service: a query string in, a page of plain results out.

How results are ranked (the queries themselves are built in ``matching``):

1. keywords (typed apart, or one compound): articles that contain every word
   come first and are the results; only when no article has them all are the
   best partial matches shown, and the page says so;
2. a sentence or question (many words typed without spaces, or ending in a
   question mark) is ranked by all its words, since no article holds them all;
3. among keyword results, those holding every word as typed (or in another
   form or reading, or inside a longer word) come before those that need a
   dictionary synonym for one of them (米国 before アメリカ for 米国);
4. within that, BM25F over the fields, the title weighted above the body and
   the body above the captions; a word found only inside a longer compound
   (the bigram field), a dictionary synonym or another reading scores below
   the word itself; the units of a typed compound standing together, and
   typed words standing near each other, score higher.
"""

from __future__ import annotations

import logging
import pickle
import struct
import threading
import time
import weakref
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from whoosh import query as wq
from whoosh import scoring
from whoosh.searching import Searcher

from indexer.dates import TOKYO, parse_date
from indexer.errors import IndexDamaged, QueryError
from indexer.evaluation import Evaluator, Matches, rank_with_bonus
from indexer.facets import (
    FACET_LIMIT,
    Columns,
    Facets,
    Filters,
    Labels,
    Narrowed,
    count_facets,
    narrow,
)
from indexer.highlight import Highlighter, Snippet
from indexer.index import IndexStore
from indexer.matching import Plan, QueryPlanner, filter_query
from indexer.postings import PostingCache, Snapshot
from indexer.query import format_query, parse_query
from indexer.suggestions import did_you_mean
from indexer.synonyms import load_synonyms

log = logging.getLogger(__name__)

SORTS = ("relevance", "newest", "oldest")
# Related articles: an article's most telling words, searched in titles above bodies.
RELATED_TERMS = 12
RELATED_FIELD_BOOSTS = {"title": 2.0, "body": 1.0}
# ... taken from its opening: Sudachi over a whole body (up to 10 MB) on every page view costs seconds.
RELATED_TEXT_CHARS = 5000
# ... and related only when it scores at least this share of what the article itself
# scores for those words.  On 1,000 livedoor articles, an article's top five
# neighbours were in its own category (a rough sign of relatedness, 9 categories)
# 34-45% of the time below 0.2 of its own score, 59% from 0.2 to 0.3, 73% above;
# in the sample archive every neighbour below 0.16 was unrelated.  So a small or
# unrelated archive shows no related articles rather than noise.
RELATED_MIN_SHARE = 0.2
# Titles are short and similar in length, so their length counts for half what a body's does.
WEIGHTING = scoring.BM25F(B=0.75, K1=0.8, title_B=0.5)
DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100
# Queries typed again (paging, the same topic) skip Sudachi: keep this many understood.
UNDERSTOOD_QUERIES = 512
# What reading a file of the index cut short or gone raises (a search says so, not a 500).
INDEX_READ_FAILURES = (OSError, EOFError, struct.error, zlib.error, pickle.UnpicklingError)
# The stored fields whose matched words are marked.
HIGHLIGHTED = ("title", "body", "captions")
# The other copies of a story listed under the one shown (the count says how many in all).
MAX_COPIES_LISTED = 20


@dataclass(frozen=True)
class QueryTerm:
    """One word of the query as it was understood (関西国際空港 → 関西 | 国際 | 空港).

    ``units`` are the index terms searched; ``forms`` the same words as
    people write them (Sudachi's normalized forms), for display.
    """

    text: str
    units: tuple[str, ...]
    forms: tuple[str, ...]
    negated: bool = False
    synonyms: tuple[str, ...] = ()


def _brief_json(item: StoryCopy | SearchHit) -> dict[str, Any]:
    """What a result and a copy listed under it both show."""
    return {
        "id": item.id,
        "title": item.title,
        "url": item.url,
        "site": item.site,
        "published_at": item.published_at.isoformat() if item.published_at else None,
    }


@dataclass(frozen=True)
class StoryCopy:
    """Another article of a hit's story (near-identical: the same wire story elsewhere)."""

    id: int
    title: str
    url: str | None
    site: str | None
    published_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        return _brief_json(self)


@dataclass(frozen=True)
class SearchHit:
    id: int
    title: str
    url: str | None
    site: str | None
    published_at: datetime | None
    category: str | None
    snippet: Snippet
    title_marked: Snippet
    score: float | None  # None when sorted by date
    # With grouping: the other matching articles of this hit's story, best first,
    # and how many there are (more than are listed, past MAX_COPIES_LISTED).
    copies: tuple[StoryCopy, ...] = ()
    copy_count: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            **_brief_json(self),
            "snippet": self.snippet.html(),
            "score": round(self.score, 4) if self.score is not None else None,
            "duplicates": [copy.to_json() for copy in self.copies],
            "duplicate_count": self.copy_count,
        }


@dataclass(frozen=True)
class RelatedArticle:
    id: int
    title: str
    site: str | None
    published_at: datetime | None


@dataclass(frozen=True)
class SearchPage:
    query: str
    total: int
    page: int
    page_size: int
    sort: str
    hits: tuple[SearchHit, ...]
    terms: tuple[QueryTerm, ...]
    elapsed_ms: float
    # Marks what this query matched, wherever a hit's text is shown.
    highlighter: Highlighter = field(default_factory=Highlighter)
    # True when no article had every word and these are the best partial matches.
    partial: bool = False
    # The whole query with its mistyped words mended, when this one found little.
    suggestion: str | None = None
    # What the results are narrowed to besides the query, and what they hold per facet.
    filters: Filters = field(default_factory=Filters)
    facets: Facets = field(default_factory=Facets)
    # Near-identical articles shown as one result: how many results (stories) there are.
    # ``total`` counts articles; pages count results.  None when not grouped.
    stories: int | None = None

    @property
    def results(self) -> int:
        """What the pages list: stories when grouped, else articles."""
        return self.total if self.stories is None else self.stories

    @property
    def pages(self) -> int:
        return max(1, -(-self.results // self.page_size))

    @property
    def first(self) -> int:
        return (self.page - 1) * self.page_size + 1 if self.hits else 0

    @property
    def last(self) -> int:
        return self.first + len(self.hits) - 1 if self.hits else 0

    def to_json(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "total": self.total,
            "page": self.page,
            "page_size": self.page_size,
            "sort": self.sort,
            "partial": self.partial,
            "suggestion": self.suggestion,
            "grouped": self.stories is not None,
            "results": self.results,
            "pages": self.pages,
            "filters": self.filters.to_json(),
            "facets": self.facets.to_json(),
            "terms": [
                {"text": t.text, "units": list(t.units), "negated": t.negated} for t in self.terms
            ],
            "hits": [hit.to_json() for hit in self.hits],
        }


def _day_start(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=TOKYO).timestamp())


def _date_filter(date_from: date | None, date_to: date | None) -> wq.Query | None:
    if date_from is None and date_to is None:
        return None
    start = _day_start(date_from) if date_from else None
    end = _day_start(date_to + timedelta(days=1)) - 1 if date_to else None
    # An undated article is outside every range.
    return wq.And([wq.NumericRange("time_key", start, end), wq.NumericRange("undated", 0, 0)])


def parse_day(text: str | None) -> date | None:
    """A ``YYYY-MM-DD`` (or any date :func:`parse_date` reads) as a calendar day in Tokyo."""
    if not text or not text.strip():
        return None
    value = parse_date(text)
    if value is None:
        raise QueryError(f"日付を読み取れません: {text!r}（例: 2025-01-20）")
    return value.astimezone(TOKYO).date()


class SearchService:
    """Searches the current index; follows a rebuilt index or new segments on the next search.

    One :class:`~indexer.postings.Snapshot` of the index is kept open and
    shared by every search (and thread) until the index on disk changes; the
    decoded posting lists outlive it, per segment, so an import that adds a
    segment does not make the next search read everything again.
    """

    def __init__(self, index_store: IndexStore) -> None:
        self.index_store = index_store
        self._planner: QueryPlanner | None = None
        self._cache = PostingCache()
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._snapshot_path: Path | None = None
        self._users: dict[int, int] = {}
        self._understood: OrderedDict[str, tuple[Plan, list[QueryTerm]]] = OrderedDict()
        self._columns: weakref.WeakKeyDictionary[Snapshot, Columns] = weakref.WeakKeyDictionary()
        self._labels = Labels()

    @contextmanager
    def snapshot(self) -> Iterator[Snapshot]:
        """The current snapshot, kept open while in use even if a newer one replaces it."""
        path = self.index_store.current_path()
        with self._lock:
            snapshot = self._snapshot
            if snapshot is None or path != self._snapshot_path or not snapshot.is_current():
                ix = self.index_store.open()
                try:
                    fresh = Snapshot(ix, ix.searcher(weighting=WEIGHTING), self._cache)
                except INDEX_READ_FAILURES as exc:
                    raise _damaged(exc) from exc
                if snapshot is not None and not self._users.get(id(snapshot)):
                    snapshot.close()
                self._snapshot, self._snapshot_path = fresh, path
                snapshot = fresh
            self._users[id(snapshot)] = self._users.get(id(snapshot), 0) + 1
        try:
            yield snapshot
        except INDEX_READ_FAILURES as exc:
            raise _damaged(exc) from exc
        finally:
            with self._lock:
                left = self._users[id(snapshot)] - 1
                if left:
                    self._users[id(snapshot)] = left
                else:
                    del self._users[id(snapshot)]
                    if snapshot is not self._snapshot:
                        snapshot.close()

    def close(self) -> None:
        """Close the index files (searches still running keep theirs until they end)."""
        with self._lock:
            snapshot, self._snapshot = self._snapshot, None
            if snapshot is not None and not self._users.get(id(snapshot)):
                snapshot.close()

    def planner(self) -> QueryPlanner:
        if self._planner is None:
            self._planner = QueryPlanner(load_synonyms(self.index_store.root))
        return self._planner

    def understand(self, text: str) -> tuple[Plan, list[QueryTerm]]:
        """The Whoosh queries for ``text`` and its words as understood (cached: Sudachi is slow)."""
        with self._lock:
            found = self._understood.get(text)
            if found is not None:
                self._understood.move_to_end(text)
                return found
        plan = self.planner().plan(parse_query(text))
        terms = [
            QueryTerm(
                w.word.text,
                w.units,
                w.forms,
                w.negated,
                tuple(s.text for unit in w.synonyms for s in unit),
            )
            for w in plan.words
        ]
        with self._lock:
            self._understood[text] = (plan, terms)
            while len(self._understood) > UNDERSTOOD_QUERIES:
                self._understood.popitem(last=False)
        return plan, terms

    def highlighter(self, text: str) -> Highlighter:
        """What a search for ``text`` marks (to mark an article opened from its results)."""
        return _highlighter(self.understand(text)[0])

    def columns(self, snapshot: Snapshot) -> Columns:
        """The facet columns of ``snapshot`` (read once per snapshot, per segment)."""
        with self._lock:
            found = self._columns.get(snapshot)
            if found is None:
                found = self._columns[snapshot] = Columns(snapshot)
            return found

    def search(
        self,
        text: str,
        page: int = 1,
        page_size: int = DEFAULT_PAGE_SIZE,
        sort: str = "relevance",
        date_from: date | None = None,
        date_to: date | None = None,
        filters: Filters | None = None,
        facet_limit: int = FACET_LIMIT,
        listing: bool = False,
        group: bool = False,
    ) -> SearchPage:
        """One page of results for ``text``; a :class:`QueryError` if it cannot be searched.

        An empty ``text`` lists the articles within ``filters`` when there are
        any (or every article, with ``listing``).  ``date_from`` and ``date_to``
        are the same as the ``filters``' date range.  With ``group``, near-identical
        articles (one story) are one result: the best-placed shown, the others listed.
        """
        started = time.perf_counter()
        _check_sort(sort)
        if page < 1:
            raise QueryError("ページは1以上です。")
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise QueryError(f"1ページの件数は1から{MAX_PAGE_SIZE}までです。")
        filters = replace(
            filters or Filters(),
            date_from=date_from or (filters.date_from if filters else None),
            date_to=date_to or (filters.date_to if filters else None),
        )
        date_from, date_to = filters.date_from, filters.date_to
        if text.strip() or not (filters.active or listing):
            plan, terms = self._prepare(text, date_from, date_to)
        else:
            plan, terms = self._listing(date_from, date_to)
        highlighter = _highlighter(plan)
        with self.snapshot() as snapshot:
            evaluator = Evaluator(snapshot, WEIGHTING)
            columns = self.columns(snapshot)
            found, every, narrowed = _find_narrowed(evaluator, columns, plan, filters)
            facets = count_facets(
                columns, self._labels, every, narrowed, filters, limit=facet_limit
            )
            first = (page - 1) * page_size
            copies: dict[int, list[int]] = {}
            stories = None
            if group:
                shown, score_of, copies, stories = _story_page(
                    evaluator, columns, found, sort, first, page_size
                )
            else:
                order, score_of = _order(evaluator, found, sort, first + page_size)
                shown = order[first : first + page_size].tolist()
            scores = score_of(np.array(shown)) if sort == "relevance" else [None] * len(shown)
            found_words = _found_words(snapshot, shown, highlighter)
            hits = tuple(
                _with_copies(
                    snapshot,
                    _hit(snapshot, docnum, score, highlighter, found_words[docnum]),
                    copies.get(docnum, []),
                )
                for docnum, score in zip(shown, scores, strict=True)
            )
            suggestion = None
            if plan.words and (not len(found.matches) or found.partial):
                with snapshot.lock:
                    mended = did_you_mean(snapshot.reader, plan.parsed, plan.words)
                suggestion = format_query(mended) if mended is not None else None
        return SearchPage(
            query=text,
            total=len(found.matches),
            page=page,
            page_size=page_size,
            sort=sort,
            hits=hits,
            terms=tuple(terms),
            elapsed_ms=(time.perf_counter() - started) * 1000,
            highlighter=highlighter,
            partial=found.partial,
            suggestion=suggestion,
            filters=filters,
            facets=facets,
            stories=stories,
        )

    def matching_ids(
        self,
        text: str,
        sort: str = "relevance",
        date_from: date | None = None,
        date_to: date | None = None,
    ) -> list[int]:
        """Every article the search for ``text`` finds, in result order (no pages, no snippets)."""
        _check_sort(sort)
        plan, _ = self._prepare(text, date_from, date_to)
        with self.snapshot() as snapshot:
            evaluator = Evaluator(snapshot, WEIGHTING)
            found = _find(evaluator, plan, date_from, date_to)
            order, _ = _order(evaluator, found, sort, len(found.matches))
            return [int(snapshot.stored_fields(d)["id"]) for d in order.tolist()]

    def _prepare(
        self, text: str, date_from: date | None, date_to: date | None
    ) -> tuple[Plan, list[QueryTerm]]:
        """The plan for ``text``; a :class:`QueryError` if there is nothing to search."""
        if date_from and date_to and date_from > date_to:
            raise QueryError("開始日が終了日より後になっています。")
        plan, terms = self.understand(text)
        if plan.strict is None and not plan.filters:
            shown = "、".join(f"「{t.text}」" for t in terms) or f"「{text}」"
            raise QueryError(
                f"{shown}には検索できる語がありません（助詞や記号だけでは検索できません）。"
            )
        return plan, terms

    def _listing(
        self, date_from: date | None, date_to: date | None
    ) -> tuple[Plan, list[QueryTerm]]:
        """The plan of an empty query: every article, ranked by nothing."""
        if date_from and date_to and date_from > date_to:
            raise QueryError("開始日が終了日より後になっています。")
        return Plan(), []

    def related(self, article_id: int, limit: int = 5) -> tuple[RelatedArticle, ...]:
        """Articles like this one: its key terms, searched in the rest of the index."""
        with self.snapshot() as snapshot, snapshot.lock:
            searcher = Searcher(snapshot.reader, weighting=scoring.BM25F(), closereader=False)
            docnum = searcher.document_number(id=str(article_id))
            if docnum is None:
                return ()
            fields = searcher.stored_fields(docnum)
            text = "\n".join((fields.get("title") or "", fields.get("body") or ""))
            text = text[:RELATED_TEXT_CHARS]
            key_terms = searcher.key_terms_from_text("body", text, numterms=RELATED_TERMS)
            if not key_terms:
                return ()
            query = wq.Or(
                [
                    wq.Term(name, term, boost=weight * boost)
                    for term, weight in key_terms
                    for name, boost in RELATED_FIELD_BOOSTS.items()
                ]
            )
            results = searcher.search(query, limit=limit + 1)
            own = next((r.score for r in results if r.docnum == docnum), None)
            if own is None:
                own = max((r.score for r in searcher.search(query, filter={docnum})), default=0.0)
            enough = own * RELATED_MIN_SHARE
            return tuple(
                _related(r.fields()) for r in results if r.docnum != docnum and r.score >= enough
            )[:limit]


def _damaged(exc: BaseException) -> IndexDamaged:
    log.warning("the index cannot be read", exc_info=exc)
    return IndexDamaged(
        f"索引のファイルが壊れているか、欠けています（{exc.__class__.__name__}）。"
        "python -m indexer reindex で作り直してください。"
    )


@dataclass(frozen=True)
class _Found:
    matches: Matches
    # The main query found nothing, so these are the best partial matches (no bonus).
    partial: bool
    bonus: wq.Query | None
    # The matches holding every typed word without a synonym, when only some do:
    # they rank first (``Plan.literal``).
    literal: np.ndarray | None = None


def _find(evaluator: Evaluator, plan: Plan, date_from: date | None, date_to: date | None) -> _Found:
    """Every document the plan matches, within its filters and without its exclusions."""
    filters = [filter_query(f) for f in plan.filters if not f.negated]
    if (dates := _date_filter(date_from, date_to)) is not None:
        filters.append(dates)
    allowed = evaluator.docs(wq.And(filters)) if filters else None
    masks = [filter_query(f) for f in plan.filters if f.negated]
    if plan.exclude is not None:
        masks.append(plan.exclude)

    def matching(query: wq.Query) -> Matches:
        found = evaluator.evaluate(query, allowed)
        if masks and len(found):
            excluded = evaluator.docs(wq.Or(masks), found.ids)
            keep = ~np.isin(found.ids, excluded)
            found = Matches(found.ids[keep], found.scores[keep])
        return found

    main = matching(plan.strict if plan.strict is not None else wq.Every())
    if not len(main) and plan.partial is not None:
        partial = matching(plan.partial)
        if len(partial):
            return _Found(partial, True, None)
    literal = None
    if plan.literal is not None and len(main):
        literal = evaluator.docs(plan.literal, main.ids)
        if not len(literal) and plan.several and plan.partial is not None:
            # Only synonyms give any article every word (回回転 ファミレス: no
            # article holds 回 and 回転 and ファミレス, one holds スピン for 回転):
            # the articles holding most of the typed words may be better.
            return _Found(matching(plan.partial), True, None)
        if len(literal) == len(main):
            literal = None
    return _Found(main, False, plan.bonus, literal)


def _find_narrowed(
    evaluator: Evaluator, columns: Columns, plan: Plan, filters: Filters
) -> tuple[_Found, np.ndarray, Narrowed]:
    """The matches within ``filters``, every match before them, and each filter's mask.

    Filters are masks over the matches (facets are counted from the same
    matches with all filters but their own).  When no article with every
    word passes the filters, the best partial matches that do are the
    results, as when none has every word at all.
    """
    found = _find(evaluator, plan, None, None)
    narrowed = narrow(columns, found.matches.ids, filters)
    keep = narrowed.all()
    if len(found.matches) and not keep.any() and not found.partial and plan.partial is not None:
        partial = _find(evaluator, replace(plan, strict=wq.NullQuery), None, None)
        if partial.partial:
            narrowed_partial = narrow(columns, partial.matches.ids, filters)
            if narrowed_partial.all().any():
                found, narrowed = partial, narrowed_partial
                keep = narrowed.all()
    matches = found.matches
    kept = replace(found, matches=Matches(matches.ids[keep], matches.scores[keep]))
    return kept, matches.ids, narrowed


def _story_page(
    evaluator: Evaluator, columns: Columns, found: _Found, sort: str, first: int, size: int
) -> tuple[list[int], Callable[[np.ndarray], np.ndarray], dict[int, list[int]], int]:
    """A page of stories: the documents shown, their scores, each one's copies, the story count.

    Each story is shown by its first article in result order.  The order is
    exact for the first ``needed`` documents; ``needed`` grows until it holds
    enough stories for this page.
    """
    story = columns.numbers("story")
    stories = int(len(np.unique(story[found.matches.ids])))
    needed = first + size
    while True:
        order, score_of = _order(evaluator, found, sort, needed)
        in_order = story[order]
        _, leaders = np.unique(in_order, return_index=True)
        leaders.sort()
        if np.count_nonzero(leaders < needed) >= first + size or needed >= len(order):
            break
        needed = min(len(order), needed * 2)
    shown = order[leaders[first : first + size]]
    copies: dict[int, list[int]] = {int(d): [] for d in shown}
    leader_of = {int(story[d]): int(d) for d in shown}
    # Only the members of the stories shown: a handful of documents.
    for position in np.flatnonzero(np.isin(in_order, story[shown])).tolist():
        docnum = int(order[position])
        leader = leader_of[int(in_order[position])]
        if docnum != leader:
            copies[leader].append(docnum)
    return shown.tolist(), score_of, copies, stories


def _with_copies(snapshot: Snapshot, hit: SearchHit, docnums: list[int]) -> SearchHit:
    if not docnums:
        return hit
    listed = []
    for docnum in docnums[:MAX_COPIES_LISTED]:
        fields = snapshot.stored_fields(docnum)
        listed.append(
            StoryCopy(
                id=int(fields["id"]),
                title=fields.get("title") or "",
                url=fields.get("url"),
                site=fields.get("site"),
                published_at=_published(fields),
            )
        )
    return replace(hit, copies=tuple(listed), copy_count=len(docnums))


def _order(
    evaluator: Evaluator, found: _Found, sort: str, needed: int
) -> tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]:
    """The matches in result order (right at least for the first ``needed``) and their scores."""
    if sort == "relevance":
        if found.literal is None:
            return rank_with_bonus(evaluator, found.matches, found.bonus, needed)
        return _tiered(evaluator, found, needed)
    ids = found.matches.ids
    times = evaluator.snapshot.column("time_key")[ids]
    undated = evaluator.snapshot.column("undated")[ids]
    # Undated articles go last either way; equal times by document number, as Whoosh sorts.
    order = np.lexsort((ids, -times if sort == "newest" else times, undated))
    return ids[order], lambda ids: np.zeros(len(ids))


def _tiered(
    evaluator: Evaluator, found: _Found, needed: int
) -> tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]:
    """Relevance order with the articles holding every typed word first, then the rest."""
    matches = found.matches
    first = np.isin(matches.ids, found.literal)
    tiers = [Matches(matches.ids[keep], matches.scores[keep]) for keep in (first, ~first)]
    top, top_score = rank_with_bonus(evaluator, tiers[0], found.bonus, needed)
    rest, rest_score = rank_with_bonus(evaluator, tiers[1], found.bonus, max(needed - len(top), 0))
    top_ids = tiers[0].ids

    def score(ids: np.ndarray) -> np.ndarray:
        out = np.zeros(len(ids))
        upper = np.isin(ids, top_ids)
        out[upper] = top_score(ids[upper])
        out[~upper] = rest_score(ids[~upper])
        return out

    return np.concatenate([top, rest]), score


def _check_sort(sort: str) -> None:
    if sort not in SORTS:
        raise QueryError(f"並べ替えは {', '.join(SORTS)} のいずれかです（{sort!r} は使えません）")


def _published(fields: dict[str, Any]) -> datetime | None:
    published = fields.get("published")
    return datetime.fromisoformat(published).astimezone(TOKYO) if published else None


def _related(fields: dict[str, Any]) -> RelatedArticle:
    return RelatedArticle(
        id=int(fields["id"]),
        title=fields.get("title") or "",
        site=fields.get("site"),
        published_at=_published(fields),
    )


def _highlighter(plan: Plan) -> Highlighter:
    """Everything the plan searches for: the words' units, their synonyms and readings."""
    positive = [w for w in plan.words if not w.negated]
    units = {
        unit
        for w in positive
        for unit in (
            *w.units,
            *w.readings,
            *(u for alternatives in w.synonyms for s in alternatives for u in s.units),
        )
    }
    return Highlighter(frozenset(units), tuple(w.word.text for w in positive))


def _hit(
    snapshot: Snapshot,
    docnum: int,
    score: float | None,
    highlighter: Highlighter,
    found: dict[str, list[tuple[int, int]]],
) -> SearchHit:
    fields = snapshot.stored_fields(docnum)
    snippet = highlighter.snippet(fields.get("body") or "", found=found["body"])
    if not snippet.marked and fields.get("captions"):
        caption_snippet = highlighter.snippet(fields["captions"], found=found["captions"])
        if caption_snippet.marked:
            snippet = caption_snippet
    title = fields.get("title") or ""
    return SearchHit(
        id=int(fields["id"]),
        title=title,
        url=fields.get("url"),
        site=fields.get("site"),
        published_at=_published(fields),
        category=fields.get("category") or None,
        snippet=snippet,
        title_marked=highlighter.whole(title, found=found["title"]),
        score=score,
    )


def _found_words(
    snapshot: Snapshot, docnums: list[int], highlighter: Highlighter
) -> dict[int, dict[str, list[tuple[int, int]]]]:
    """Where the highlighter's words stand in each marked field of these documents.

    The index keeps each word's character offsets, so a hit's text need not
    be analyzed again (which cost more than the search).
    """
    found = {d: {name: [] for name in HIGHLIGHTED} for d in docnums}
    for name in HIGHLIGHTED:
        for unit in highlighter.units:
            for docnum, spans in snapshot.characters(name, unit, docnums).items():
                found[docnum][name].extend((start, end) for _, start, end in spans)
    return found
