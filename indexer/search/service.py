"""The search service: a query string in, a page of plain results out.

A search runs in four steps, each in a module of its own: the query is
parsed (:mod:`~indexer.search.query`) and planned into Whoosh query trees
(:mod:`~indexer.search.planning`); the engine matches them over a snapshot
of the index, within the filters (:mod:`~indexer.search.finding`); the
matches are counted into facets (:mod:`~indexer.search.facets`) and put in
order (:mod:`~indexer.search.ranking`); the page's hits are shaped from the
index, marked (:mod:`~indexer.search.results`).  This module keeps what the
steps share between searches: the open snapshot and the queries understood.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np

from indexer.config import DEFAULT_SEARCH_BUDGET_MS
from indexer.engine import (
    LRU,
    READ_FAILURES,
    Evaluator,
    IndexStore,
    Snapshot,
    damaged,
    posting_cache,
)
from indexer.errors import QueryError, SearchTooSlow
from indexer.readers.dates import TOKYO, parse_date
from indexer.search.desk import (
    MAX_CONCORDANCE_ARTICLES,
    Concordance,
    DayCounts,
    concordance_lines,
    count_days,
)
from indexer.search.facets import FACET_LIMIT, Filters, Labels, count_facets
from indexer.search.finding import find_narrowed
from indexer.search.highlight import Highlighter
from indexer.search.planning import Plan, QueryPlanner
from indexer.search.query import format_query, parse_query
from indexer.search.ranking import WEIGHTING, Found, result_order, story_page
from indexer.search.related import related
from indexer.search.results import (
    QueryTerm,
    RelatedArticle,
    SearchPage,
    found_words,
    hit,
    with_copies,
)
from indexer.search.suggestions import did_you_mean
from indexer.search.synonyms import load_synonyms

SORTS = ("relevance", "newest", "oldest")
DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100
# What a search leaves out when its time budget runs out, as the page names it.
SKIPPED_BONUS = "語の近さによる並べ替え"
SKIPPED_MARKS = "一致した語のマーク"
SKIPPED_SUGGESTION = "「もしかして」の候補"
# Queries typed again (paging, the same topic) skip Sudachi: keep this many understood.
UNDERSTOOD_QUERIES = 512
# A snippet shows 140 characters: marking every distinct word of a pasted text
# (382 of 1,000 kanji) read their offsets in every hit, 90 ms of a 300 ms search.
# The hits mark the first this many, as typed (their readings and synonyms after).
MARKED_UNITS = 48
# Concordances kept for their next page or sort (each up to MAX_CONCORDANCE_LINES lines).
CONCORDANCES_KEPT = 8


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

    One :class:`~indexer.engine.Snapshot` of the index is kept open and
    shared by every search (and thread) until the index on disk changes; the
    decoded posting lists outlive it, per segment, so an import that adds a
    segment does not make the next search read everything again.
    """

    def __init__(
        self, index_store: IndexStore, budget_ms: float = DEFAULT_SEARCH_BUDGET_MS
    ) -> None:
        self.index_store = index_store
        # How long one search may take (0: no limit); see search().
        self.budget_ms = budget_ms
        self._planner: QueryPlanner | None = None
        self._postings = posting_cache()
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._snapshot_path: Path | None = None
        self._users: dict[int, int] = {}
        self._understood: LRU[str, tuple[Plan, list[QueryTerm]]] = LRU(UNDERSTOOD_QUERIES)
        self._labels = Labels()
        # Which snapshot is current, as a number: what was read from an older one is stale.
        self._opened = 0
        # A concordance is read from every matching body (~1 s for 700 articles);
        # its pages and sorts reuse it while the index is the same.
        self._concordances: LRU[tuple[int, str, Filters, int], Concordance] = LRU(CONCORDANCES_KEPT)

    @contextmanager
    def snapshot(self) -> Iterator[Snapshot]:
        """The current snapshot, kept open while in use even if a newer one replaces it.

        A file of the index that cannot be read, then or while the snapshot
        is in use, is reported as :class:`~indexer.errors.IndexDamaged`.
        """
        path = self.index_store.current_path()
        with self._lock:
            snapshot = self._snapshot
            if snapshot is None or path != self._snapshot_path or not snapshot.is_current():
                ix = self.index_store.open()
                try:
                    fresh = Snapshot(ix, self._postings)
                except READ_FAILURES as exc:
                    raise damaged(exc) from exc
                if snapshot is not None and not self._users.get(id(snapshot)):
                    snapshot.close()
                self._snapshot, self._snapshot_path = fresh, path
                self._opened += 1
                snapshot = fresh
            self._users[id(snapshot)] = self._users.get(id(snapshot), 0) + 1
        try:
            yield snapshot
        except READ_FAILURES as exc:
            raise damaged(exc) from exc
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
        found = self._understood.get(text)
        if found is not None:
            return found
        try:
            plan = self.planner().plan(parse_query(text))
        except QueryError as exc:
            exc.parameter = exc.parameter or "query"
            raise
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
        return self._understood.put(text, (plan, terms))

    def highlighter(self, text: str) -> Highlighter:
        """What a search for ``text`` marks (to mark an article opened from its results)."""
        return _highlighter(self.understand(text)[0])

    def search(
        self,
        text: str,
        page: int = 1,
        page_size: int = DEFAULT_PAGE_SIZE,
        sort: str = "relevance",
        filters: Filters | None = None,
        facet_limit: int = FACET_LIMIT,
        listing: bool = False,
        group: bool = False,
    ) -> SearchPage:
        """One page of results for ``text``; a :class:`QueryError` if it cannot be searched.

        An empty ``text`` lists the articles within ``filters`` when there are
        any (or every article, with ``listing``).  With ``group``, near-identical
        articles (one story) are one result: the best-placed shown, the others listed.

        A search has ``budget_ms``: past it, the matching keeps the words it
        has looked up (a long pasted text is searched by its first part), and
        the ranking by nearness, the marks and the suggestion are left out; the
        page says what was (``incomplete``).  A search that found nothing
        within its budget is a :class:`~indexer.errors.SearchTooSlow`.
        """
        # The synonym map is built once a process (seconds): not in any search's budget.
        self.planner()
        started = time.perf_counter()
        deadline = time.monotonic() + self.budget_ms / 1000 if self.budget_ms > 0 else None
        _check_sort(sort)
        if page < 1:
            raise QueryError("ページは1以上です。", "page")
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise QueryError(f"1ページの件数は1から{MAX_PAGE_SIZE}までです。", "page_size")
        filters = filters or Filters()
        _check_dates(filters.date_from, filters.date_to)
        if text.strip() or not (filters.active or listing):
            plan, terms = self._prepare(text)
        else:
            plan, terms = Plan(), []  # every article, ranked by nothing
        highlighter = _highlighter(plan)
        skipped: list[str] = []
        with self.snapshot() as snapshot:
            evaluator = Evaluator(snapshot, WEIGHTING, deadline)
            found, every, narrowed = find_narrowed(evaluator, plan, filters)
            cut = evaluator.cut
            if cut and not len(found.matches):
                raise SearchTooSlow(_too_slow(self.budget_ms))
            if found.bonus is not None and sort == "relevance" and evaluator.late():
                found = replace(found, bonus=None)
                skipped.append(SKIPPED_BONUS)
            facets = count_facets(
                snapshot, self._labels, every, narrowed, filters, limit=facet_limit
            )
            first = (page - 1) * page_size
            copies: dict[int, list[int]] = {}
            stories = None
            if group:
                shown, score_of, copies, stories = story_page(
                    evaluator, found, sort, first, page_size
                )
            else:
                order, score_of = result_order(evaluator, found, sort, first + page_size)
                shown = order[first : first + page_size].tolist()
            if evaluator.cut and not cut and SKIPPED_BONUS not in skipped:
                skipped.append(SKIPPED_BONUS)  # the bonus stopped partway
            scores = score_of(np.array(shown)) if sort == "relevance" else [None] * len(shown)
            marks = _highlighter(plan, MARKED_UNITS)
            if evaluator.late() and highlighter.units:
                marks = Highlighter()  # each unit's offsets are a read of the index
                skipped.append(SKIPPED_MARKS)
            marked = found_words(snapshot, shown, marks)
            hits = tuple(
                with_copies(
                    snapshot,
                    hit(snapshot, docnum, score, marks, marked[docnum]),
                    copies.get(docnum, []),
                )
                for docnum, score in zip(shown, scores, strict=True)
            )
            suggestion = None
            # A question is not mended: its words are prose, and partly matched by nature.
            if plan.words and not plan.sentence and (not len(found.matches) or found.partial):
                if evaluator.late():
                    skipped.append(SKIPPED_SUGGESTION)
                else:
                    suggestion = self._suggestion(evaluator, plan, filters)
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
            incomplete=_incomplete(cut, skipped, self.budget_ms),
        )

    def matching_ids(
        self,
        text: str,
        sort: str = "relevance",
        filters: Filters | None = None,
        listing: bool = False,
    ) -> list[int]:
        """Every article the search for ``text`` finds within ``filters``, in result order.

        The same articles as the search's total counts (no pages, no snippets);
        an empty ``text`` with filters lists what they keep (every article, with ``listing``).
        """
        _check_sort(sort)
        filters = filters or Filters()
        _check_dates(filters.date_from, filters.date_to)
        searched = text.strip() or not (filters.active or listing)
        plan = self._prepare(text)[0] if searched else Plan()
        with self.snapshot() as snapshot:
            evaluator = Evaluator(snapshot, WEIGHTING)
            found, _, _ = find_narrowed(evaluator, plan, filters)
            order, _ = result_order(evaluator, found, sort, len(found.matches))
            return snapshot.column("article")[order].tolist()

    def day_counts(self, text: str, filters: Filters | None = None) -> DayCounts:
        """How many articles the search for ``text`` finds on each day, within ``filters``.

        The same match set as the search's total (partial matches when no
        article holds every word); an empty ``text`` counts every article
        the filters keep (all of them without filters).
        """
        filters = filters or Filters()
        _check_dates(filters.date_from, filters.date_to)
        plan = self._prepare(text)[0] if text.strip() else Plan()
        with self.snapshot() as snapshot:
            found = self._every_match(snapshot, plan, filters)
            return count_days(snapshot, found.matches.ids, text, found.partial)

    def _every_match(self, snapshot: Snapshot, plan: Plan, filters: Filters) -> Found:
        """All the matches, found within the search's time budget, or SearchTooSlow.

        A count or a concordance of part of the matches would pass for all of
        them, so one cut short by the budget is refused rather than shown.
        """
        deadline = time.monotonic() + self.budget_ms / 1000 if self.budget_ms > 0 else None
        evaluator = Evaluator(snapshot, WEIGHTING, deadline)
        found, _, _ = find_narrowed(evaluator, plan, filters)
        if evaluator.cut:
            raise SearchTooSlow(_too_slow(self.budget_ms))
        return found

    def concordance(
        self,
        text: str,
        filters: Filters | None = None,
        max_articles: int = MAX_CONCORDANCE_ARTICLES,
    ) -> Concordance:
        """Every word the search for ``text`` marks in its matches' bodies, in context.

        Articles newest first (the first ``max_articles`` of them), each word
        where the results page marks it.
        """
        filters = filters or Filters()
        _check_dates(filters.date_from, filters.date_to)
        plan = self._prepare(text)[0]
        marks = _highlighter(plan)
        with self.snapshot() as snapshot:
            with self._lock:  # the number of this snapshot, if it is still the current one
                opened = self._opened if snapshot is self._snapshot else None
            key = (opened or 0, text, filters, max_articles)
            kept = self._concordances.get(key) if opened else None
            if kept is not None:
                return kept
            found = self._every_match(snapshot, plan, filters)
            total = len(found.matches)
            order, _ = result_order(Evaluator(snapshot, WEIGHTING), found, "newest", total)
            docnums = order[:max_articles].tolist()
            lines, read = concordance_lines(snapshot, docnums, marks)
        made = Concordance(text, tuple(lines), total, read, read == total, found.partial)
        return self._concordances.put(key, made) if opened else made

    def related(self, article_id: int, limit: int = 5) -> tuple[RelatedArticle, ...]:
        """Articles like this one: its key terms, searched in the rest of the index."""
        with self.snapshot() as snapshot:
            return related(snapshot, article_id, limit)

    def _suggestion(self, evaluator: Evaluator, plan: Plan, filters: Filters) -> str | None:
        """The query with its mistyped words mended, if that finds what this one did not.

        Asked only when no article holds every word: the mended query must, within
        the same filters, or the suggestion would lead nowhere better.
        """
        mended = did_you_mean(evaluator.snapshot, plan.parsed, plan.words)
        if mended is None:
            return None
        text = format_query(mended)
        try:
            better = self.understand(text)[0]
        except QueryError:
            return None
        found, _, _ = find_narrowed(evaluator, better, filters)
        return text if len(found.matches) and not found.partial else None

    def _prepare(self, text: str) -> tuple[Plan, list[QueryTerm]]:
        """The plan for ``text``; a :class:`QueryError` if there is nothing to search."""
        plan, terms = self.understand(text)
        if plan.strict is None and not plan.filters:
            shown = "、".join(f"「{t.text}」" for t in terms) or f"「{text}」"
            raise QueryError(
                f"{shown}には検索できる語がありません（助詞や記号だけでは検索できません）。",
                "query",
            )
        return plan, terms


def _milliseconds(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 else f"{value:g}"


def _too_slow(budget_ms: float) -> str:
    return (
        f"検索に時間がかかりすぎたため打ち切りました（1回の検索は{_milliseconds(budget_ms)}ミリ秒まで）。"
        "語を減らすか、長い文を短くするか、サイトや期間で絞り込んでください。"
    )


def _incomplete(cut: bool, skipped: list[str], budget_ms: float) -> str | None:
    """What a search cut short by its budget says about its results; ``None`` if it was not."""
    limit = f"（1回の検索は{_milliseconds(budget_ms)}ミリ秒まで）"
    if cut:
        return (
            f"時間がかかりすぎるため、途中で打ち切った検索の結果です{limit}。"
            "見つかっていない記事があります。語を減らすか短くすると、すべて探せます。"
        )
    if skipped:
        return (
            f"時間がかかりすぎるため、{'と'.join(skipped)}を省きました{limit}。"
            "語を減らすか短くすると、省かずに表示できます。"
        )
    return None


def _check_sort(sort: str) -> None:
    if sort not in SORTS:
        raise QueryError(
            f"並べ替えは {', '.join(SORTS)} のいずれかです（{sort!r} は使えません）", "sort"
        )


def _check_dates(date_from: date | None, date_to: date | None) -> None:
    if date_from and date_to and date_from > date_to:
        raise QueryError("開始日が終了日より後になっています。", "date_from")


def _highlighter(plan: Plan, limit: int | None = None) -> Highlighter:
    """What the plan matches, to be marked as it matched.

    A word: its units, their synonyms and readings, and its characters inside
    longer words; a phrase: its units in order, nowhere else; a ``title:``
    word: in titles only.  With ``limit``, the first that many units only (a
    pasted text of hundreds of words is marked by its first ones).
    """
    units: set[str] = set()
    phrases: list[tuple[str, ...]] = []
    title_units: set[str] = set()
    title_phrases: list[tuple[str, ...]] = []
    literals: list[str] = []
    for w in plan.words:
        if w.negated or not w.units:
            continue
        in_title = w.word.field == "title"
        if w.word.phrase and len(w.units) > 1:
            (title_phrases if in_title else phrases).append(w.units)
        else:
            (title_units if in_title else units).update(
                (
                    *w.units,
                    *w.readings,
                    *(u for alternatives in w.synonyms for s in alternatives for u in s.units),
                )
            )
        if not in_title:
            literals.append(w.word.text)
    if limit is not None and len(units) > limit:
        ordered = dict.fromkeys(
            unit
            for w in plan.words
            for unit in (
                *w.units,
                *w.readings,
                *(u for alternatives in w.synonyms for s in alternatives for u in s.units),
            )
            if unit in units
        )
        units = set(list(ordered)[:limit])
    return Highlighter(
        frozenset(units),
        tuple(dict.fromkeys(literals)),
        tuple(dict.fromkeys(phrases)),
        frozenset(title_units),
        tuple(dict.fromkeys(title_phrases)),
    )
