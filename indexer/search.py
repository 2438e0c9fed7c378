"""The search service: a query string in, a page of plain results out.

Ranking, in order of what decides:

1. articles that contain every word (AND) come before anything else; when no
   article has them all, the best partial matches are shown instead (and the
   page says so);
2. within that, BM25F over the fields, the title weighted above the body and
   the body above the captions; a word found only as a substring through the
   bigram field scores well below a word found as a word;
3. the words of a compound typed together (国際空港) score higher where they
   stand together in the article.
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

from indexer.analysis import character_bigrams, gram_word, query_units
from indexer.dates import TOKYO, parse_date
from indexer.errors import QueryError
from indexer.index import IndexStore
from indexer.query import Filter, ParsedQuery, Word, parse_query
from indexer.snippets import Snippet, make_snippet

log = logging.getLogger(__name__)

SORTS = ("relevance", "newest", "oldest")
DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100

FIELD_BOOSTS = {"title": 3.0, "body": 1.0, "captions": 0.5}
GRAMS_BOOST = 0.3
PHRASE_BOOST = 1.5


@dataclass(frozen=True)
class QueryTerm:
    """One word of the query and the units it is searched as (関西国際空港 → 関西 | 国際 | 空港)."""

    text: str
    units: tuple[str, ...]
    negated: bool = False


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
class SearchPage:
    query: str
    total: int
    page: int
    page_size: int
    sort: str
    hits: tuple[SearchHit, ...]
    terms: tuple[QueryTerm, ...]
    elapsed_ms: float
    # True when no article had every word and these are the best partial matches.
    partial: bool = False
    filters: tuple[Filter, ...] = field(default=())

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
            "terms": [
                {"text": t.text, "units": list(t.units), "negated": t.negated} for t in self.terms
            ],
            "hits": [hit.to_json() for hit in self.hits],
        }


def _field_boosts(word: Word) -> dict[str, float]:
    if word.field == "title":
        return {"title": FIELD_BOOSTS["title"]}
    return FIELD_BOOSTS


def _unit_query(unit: str, boosts: dict[str, float]) -> wq.Query:
    return wq.Or([wq.Term(name, unit, boost=boost) for name, boost in boosts.items()])


def _grams_query(text: str) -> wq.Query | None:
    """The word as a run of character bigrams: finds it inside any compound."""
    run = gram_word(text)
    if run is None:
        return None
    grams = character_bigrams(run)
    if len(grams) == 1:
        return wq.Term("grams", grams[0], boost=GRAMS_BOOST)
    return wq.Phrase("grams", grams, boost=GRAMS_BOOST)


@dataclass(frozen=True)
class _Analyzed:
    word: Word
    units: tuple[str, ...]


def _word_query(item: _Analyzed) -> wq.Query | None:
    """Articles containing the word: as words (all its units), or as a substring."""
    word, units = item.word, item.units
    if not units:
        return None  # only particles or symbols: nothing to look for
    boosts = _field_boosts(word)
    parts: list[wq.Query] = []
    if len(units) == 1:
        parts.append(_unit_query(units[0], boosts))
    elif word.phrase:
        parts.append(wq.Or([wq.Phrase(name, list(units), boost=b) for name, b in boosts.items()]))
    else:
        parts.append(wq.And([_unit_query(u, boosts) for u in units]))
    if word.field is None and (grams := _grams_query(word.text)) is not None:
        parts.append(grams)
    return parts[0] if len(parts) == 1 else wq.Or(parts)


def _proximity_query(items: list[_Analyzed]) -> wq.Query | None:
    """Optional bonus for the units of a word standing together, as typed."""
    phrases = [
        wq.Phrase(name, list(item.units), boost=PHRASE_BOOST * boost)
        for item in items
        if len(item.units) > 1 and not item.word.phrase
        for name, boost in _field_boosts(item.word).items()
        if name != "captions"
    ]
    return wq.Or(phrases) if phrases else None


def _filter_query(f: Filter) -> wq.Query:
    if f.field == "site":
        return wq.Term("site_domains", f.value.removeprefix("www."))
    if f.field == "tag":
        return wq.Term("tags", f.value)
    return wq.Term("category", f.value)


def _day_start(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=TOKYO).timestamp())


def _date_filter(date_from: date | None, date_to: date | None) -> wq.Query | None:
    if date_from is None and date_to is None:
        return None
    start = _day_start(date_from) if date_from else 1
    end = _day_start(date_to + timedelta(days=1)) - 1 if date_to else None
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

    def _current_index(self) -> Index:
        path = self.index_store.current_path()
        if self._index is None or path != self._index_path:
            self._index = self.index_store.open()
            self._index_path = path
        return self._index

    def analyze_query(self, text: str) -> tuple[ParsedQuery, list[QueryTerm]]:
        parsed = parse_query(text)
        terms = [
            QueryTerm(word.text, tuple(query_units(word.text)), clause.negated)
            for clause in parsed.clauses
            for word in clause.alternatives
        ]
        return parsed, terms

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
        if date_from and date_to and date_from > date_to:
            raise QueryError("開始日が終了日より後になっています。")
        parsed, terms = self.analyze_query(text)
        plan = self._build(parsed)
        if plan.strict is None and not parsed.filters:
            shown = "、".join(f"「{t.text}」" for t in terms) or f"「{text}」"
            raise QueryError(
                f"{shown}には検索できる語がありません（助詞や記号だけでは検索できません）。"
            )
        filters = [_filter_query(f) for f in parsed.filters if not f.negated]
        if (dates := _date_filter(date_from, date_to)) is not None:
            filters.append(dates)
        masks = [_filter_query(f) for f in parsed.filters if f.negated]
        if plan.exclude is not None:
            masks.append(plan.exclude)
        options: dict[str, Any] = {
            "filter": wq.And(filters) if filters else None,
            "mask": wq.Or(masks) if masks else None,
            "sortedby": _sort_facet(sort),
        }
        ix = self._current_index()
        with ix.searcher(weighting=scoring.BM25F()) as searcher:
            main = plan.strict if plan.strict is not None else wq.Every()
            scored = wq.AndMaybe(main, plan.bonus) if plan.bonus is not None else main
            results = searcher.search_page(scored, page, pagelen=page_size, **options)
            partial = False
            if results.total == 0 and plan.partial is not None:
                results = searcher.search_page(plan.partial, page, pagelen=page_size, **options)
                partial = results.total > 0
            units = {u for t in terms if not t.negated for u in t.units}
            literals = [t.text for t in terms if not t.negated]
            # Whoosh answers a page past the end with the last page; show none instead.
            shown = results if results.pagenum == page else []
            hits = tuple(
                _hit(r.fields(), r.score if sort == "relevance" else None, units, literals)
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
            partial=partial,
            filters=parsed.filters,
        )

    def _build(self, parsed: ParsedQuery) -> _Plan:
        plan = _Plan()
        required: list[wq.Query] = []
        exclusions: list[wq.Query] = []
        partial_parts: list[wq.Query] = []
        analyzed: list[_Analyzed] = []
        for clause in parsed.clauses:
            items = [_Analyzed(w, tuple(query_units(w.text))) for w in clause.alternatives]
            queries = [q for q in map(_word_query, items) if q is not None]
            if not queries:
                continue
            combined = queries[0] if len(queries) == 1 else wq.Or(queries)
            if clause.negated:
                exclusions.append(combined)
                continue
            required.append(combined)
            analyzed.extend(items)
            plain = [i for i in items if not i.word.phrase and i.word.field is None]
            if len(plain) < len(items):
                # A phrase or a field search is a constraint the user spelled out.
                plan.constraints.append(combined)
                continue
            for item in plain:
                partial_parts.extend(_unit_query(u, FIELD_BOOSTS) for u in item.units)
                if (grams := _grams_query(item.word.text)) is not None:
                    partial_parts.append(grams)
        if exclusions:
            plan.exclude = wq.Or(exclusions)
        if not required:
            return plan
        plan.strict = required[0] if len(required) == 1 else wq.And(required)
        if len(partial_parts) > 1:
            plan.partial = wq.And([*plan.constraints, wq.Or(partial_parts)])
        plan.bonus = _proximity_query(analyzed)
        return plan


@dataclass
class _Plan:
    """The Whoosh queries one parsed query becomes."""

    strict: wq.Query | None = None  # every word (AND)
    partial: wq.Query | None = None  # any of the plain words, spelled-out constraints kept
    bonus: wq.Query | None = None  # scores words standing together higher, matches nothing new
    exclude: wq.Query | None = None  # the -words
    constraints: list[wq.Query] = field(default_factory=list)


def _sort_facet(sort: str) -> sorting.FacetType | None:
    if sort == "relevance":
        return None
    # Undated articles go last either way.
    return sorting.MultiFacet(
        [sorting.FieldFacet("undated"), sorting.FieldFacet("time_key", reverse=sort == "newest")]
    )


def _hit(
    fields: dict[str, Any], score: float | None, units: set[str], literals: list[str]
) -> SearchHit:
    body = fields.get("body") or ""
    snippet = make_snippet(body, units, literals)
    if not snippet.marked and fields.get("captions"):
        caption_snippet = make_snippet(fields["captions"], units, literals)
        if caption_snippet.marked:
            snippet = caption_snippet
    title = fields.get("title") or ""
    published = fields.get("published")
    return SearchHit(
        id=int(fields["id"]),
        title=title,
        url=fields.get("url"),
        site=fields.get("site"),
        published_at=datetime.fromisoformat(published).astimezone(TOKYO) if published else None,
        category=fields.get("category") or None,
        snippet=snippet,
        title_marked=make_snippet(title, units, literals, width=len(title) + 1),
        score=score,
    )
