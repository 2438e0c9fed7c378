"""The search service: a query string in, a page of plain results out.

How results are ranked (the queries themselves are built in ``matching``):

1. keywords (typed apart, or one compound): articles that contain every word
   come first and are the results; only when no article has them all are the
   best partial matches shown, and the page says so;
2. a sentence or question (many words typed without spaces, or ending in a
   question mark) is ranked by all its words, since no article holds them all;
3. within that, BM25F over the fields, the title weighted above the body and
   the body above the captions; a word found only inside a longer compound
   (the bigram field), a dictionary synonym or another reading scores below
   the word itself; the units of a typed compound standing together, and the
   typed words standing in the title in the order typed, score higher.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from whoosh import query as wq
from whoosh import scoring, sorting
from whoosh.index import Index

from indexer.dates import TOKYO, parse_date
from indexer.errors import QueryError
from indexer.highlight import Highlighter, Snippet
from indexer.index import IndexStore
from indexer.matching import Plan, QueryPlanner, filter_query
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
# Titles are short and similar in length: their length says nothing about relevance.
WEIGHTING = scoring.BM25F(B=0.75, K1=0.8, title_B=0.0)
DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100


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

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "url": self.url,
            "site": self.site,
            "published_at": self.published_at.isoformat() if self.published_at else None,
            "snippet": self.snippet.html(),
            "score": round(self.score, 4) if self.score is not None else None,
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

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

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
    # Dates before 1970 are all filed at 1 (see index.article_document).
    start = max(1, _day_start(date_from)) if date_from else 1
    end = max(1, _day_start(date_to + timedelta(days=1)) - 1) if date_to else None
    return wq.NumericRange("time_key", start, end)


def parse_day(text: str | None) -> date | None:
    """A ``YYYY-MM-DD`` (or any date :func:`parse_date` reads) as a calendar day in Tokyo."""
    if not text or not text.strip():
        return None
    value = parse_date(text)
    if value is None:
        raise QueryError(f"日付を読み取れません: {text!r}（例: 2025-01-20）")
    return value.astimezone(TOKYO).date()


class SearchService:
    """Searches the current index; picks up a rebuilt index on the next search."""

    def __init__(self, index_store: IndexStore) -> None:
        self.index_store = index_store
        self._index: Index | None = None
        self._index_path: Path | None = None
        self._planner: QueryPlanner | None = None

    def _current_index(self) -> Index:
        path = self.index_store.current_path()
        if self._index is None or path != self._index_path:
            self._index = self.index_store.open()
            self._index_path = path
        return self._index

    def planner(self) -> QueryPlanner:
        if self._planner is None:
            self._planner = QueryPlanner(load_synonyms(self.index_store.root))
        return self._planner

    def understand(self, text: str) -> tuple[Plan, list[QueryTerm]]:
        """The Whoosh queries for ``text`` and its words as understood."""
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
        return plan, terms

    def highlighter(self, text: str) -> Highlighter:
        """What a search for ``text`` marks (to mark an article opened from its results)."""
        return _highlighter(self.understand(text)[0])

    def search(
        self,
        text: str,
        page: int = 1,
        page_size: int = DEFAULT_PAGE_SIZE,
        sort: str = "relevance",
        date_from: date | None = None,
        date_to: date | None = None,
    ) -> SearchPage:
        """One page of results for ``text``; a :class:`QueryError` if it cannot be searched."""
        started = time.perf_counter()
        if sort not in SORTS:
            raise QueryError(
                f"並べ替えは {', '.join(SORTS)} のいずれかです（{sort!r} は使えません）"
            )
        if page < 1:
            raise QueryError("ページは1以上です。")
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise QueryError(f"1ページの件数は1から{MAX_PAGE_SIZE}までです。")
        plan, terms, options = self._prepare(text, sort, date_from, date_to)
        ix = self._current_index()
        with ix.searcher(weighting=WEIGHTING) as searcher:
            results = searcher.search_page(_scored(plan), page, pagelen=page_size, **options)
            partial = False
            if results.total == 0 and plan.partial is not None:
                results = searcher.search_page(plan.partial, page, pagelen=page_size, **options)
                partial = results.total > 0
            suggestion = None
            if results.total == 0 or partial:
                mended = did_you_mean(searcher.reader(), plan.parsed, plan.words)
                suggestion = format_query(mended) if mended is not None else None
            highlighter = _highlighter(plan)
            # Whoosh answers a page past the end with the last page; show none instead.
            shown = results if results.pagenum == page else []
            hits = tuple(
                _hit(r.fields(), r.score if sort == "relevance" else None, highlighter)
                for r in shown
            )
            total = results.total
        return SearchPage(
            query=text,
            total=total,
            page=page,
            page_size=page_size,
            sort=sort,
            hits=hits,
            terms=tuple(terms),
            elapsed_ms=(time.perf_counter() - started) * 1000,
            highlighter=highlighter,
            partial=partial,
            suggestion=suggestion,
        )

    def matching_ids(
        self,
        text: str,
        sort: str = "relevance",
        date_from: date | None = None,
        date_to: date | None = None,
    ) -> list[int]:
        """Every article the search for ``text`` finds, in result order (no pages, no snippets)."""
        if sort not in SORTS:
            raise QueryError(
                f"並べ替えは {', '.join(SORTS)} のいずれかです（{sort!r} は使えません）"
            )
        plan, _, options = self._prepare(text, sort, date_from, date_to)
        with self._current_index().searcher(weighting=WEIGHTING) as searcher:
            results = searcher.search(_scored(plan), limit=None, **options)
            if results.is_empty() and plan.partial is not None:
                results = searcher.search(plan.partial, limit=None, **options)
            return [int(hit["id"]) for hit in results]

    def _prepare(
        self, text: str, sort: str, date_from: date | None, date_to: date | None
    ) -> tuple[Plan, list[QueryTerm], dict[str, Any]]:
        """The plan for ``text`` and the Whoosh options (filters, exclusions, sort) around it."""
        if date_from and date_to and date_from > date_to:
            raise QueryError("開始日が終了日より後になっています。")
        plan, terms = self.understand(text)
        if plan.strict is None and not plan.filters:
            shown = "、".join(f"「{t.text}」" for t in terms) or f"「{text}」"
            raise QueryError(
                f"{shown}には検索できる語がありません（助詞や記号だけでは検索できません）。"
            )
        filters = [filter_query(f) for f in plan.filters if not f.negated]
        if (dates := _date_filter(date_from, date_to)) is not None:
            filters.append(dates)
        masks = [filter_query(f) for f in plan.filters if f.negated]
        if plan.exclude is not None:
            masks.append(plan.exclude)
        options: dict[str, Any] = {
            "filter": wq.And(filters) if filters else None,
            "mask": wq.Or(masks) if masks else None,
            "sortedby": _sort_facet(sort),
        }
        return plan, terms, options

    def related(self, article_id: int, limit: int = 5) -> tuple[RelatedArticle, ...]:
        """Articles like this one: its key terms, searched in the rest of the index."""
        ix = self._current_index()
        with ix.searcher(weighting=scoring.BM25F()) as searcher:
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
            results = searcher.search(query, limit=limit, mask={docnum})
            return tuple(_related(r.fields()) for r in results)


def _scored(plan: Plan) -> wq.Query:
    """The query results come from: every word (or filters only), with the ranking bonus."""
    main = plan.strict if plan.strict is not None else wq.Every()
    return wq.AndMaybe(main, plan.bonus) if plan.bonus is not None else main


def _sort_facet(sort: str) -> sorting.FacetType | None:
    if sort == "relevance":
        return None
    # Undated articles go last either way.
    return sorting.MultiFacet(
        [sorting.FieldFacet("undated"), sorting.FieldFacet("time_key", reverse=sort == "newest")]
    )


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


def _hit(fields: dict[str, Any], score: float | None, highlighter: Highlighter) -> SearchHit:
    snippet = highlighter.snippet(fields.get("body") or "")
    if not snippet.marked and fields.get("captions"):
        caption_snippet = highlighter.snippet(fields["captions"])
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
        title_marked=highlighter.whole(title),
        score=score,
    )
