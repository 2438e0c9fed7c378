"""What a search gives back: plain frozen results, and the hits shaped from the index.

Front ends (the web pages, the JSON API, the command line) see only these
types; each has ``to_json`` for the API.  A hit's snippet and title are
marked from the character offsets the index keeps (:func:`found_words`), so
a hit's text is never analyzed again.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from indexer.engine import ENTITY_KINDS, Snapshot
from indexer.readers.dates import TOKYO
from indexer.search.facets import Facets, Filters
from indexer.search.highlight import Highlighter, Snippet, phrase_spans

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
    # The people, organisations and places it names, by kind (each kind's names
    # most mentioned first): {"person": ("岸田文雄",), "org": (), "place": ("大阪",)}.
    entities: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False)
    # From the database, not the index (which keeps no author): filled in by the door.
    author: str | None = None
    tags: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            **_brief_json(self),
            "author": self.author,
            "category": self.category,
            "tags": list(self.tags),
            "snippet": self.snippet.html(),
            "score": round(self.score, 4) if self.score is not None else None,
            "duplicates": [copy.to_json() for copy in self.copies],
            "duplicate_count": self.copy_count,
            "entities": {kind: list(self.entities.get(kind, ())) for kind in ENTITY_KINDS},
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
    # When the search ran out of its time budget: what that left out, for people.
    incomplete: str | None = None

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
            "incomplete": self.incomplete is not None,
            "incomplete_reason": self.incomplete,
            "suggestion": self.suggestion,
            "grouped": self.stories is not None,
            "results": self.results,
            "pages": self.pages,
            "filters": self.filters.to_json(),
            "facets": self.facets.to_json(),
            # The words as people write them (Sudachi's normalized forms); the index's
            # folded units (スマートフオン for スマートフォン) are its own business.
            "terms": [
                {"text": t.text, "units": list(t.forms), "negated": t.negated} for t in self.terms
            ],
            "hits": [hit.to_json() for hit in self.hits],
        }


def with_copies(snapshot: Snapshot, hit: SearchHit, docnums: list[int]) -> SearchHit:
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


def _published(fields: dict[str, Any]) -> datetime | None:
    published = fields.get("published")
    return datetime.fromisoformat(published).astimezone(TOKYO) if published else None


def related_article(fields: dict[str, Any]) -> RelatedArticle:
    return RelatedArticle(
        id=int(fields["id"]),
        title=fields.get("title") or "",
        site=fields.get("site"),
        published_at=_published(fields),
    )


def hit(
    snapshot: Snapshot,
    docnum: int,
    score: float | None,
    highlighter: Highlighter,
    found: dict[str, list[tuple[int, int]]],
) -> SearchHit:
    fields = snapshot.stored_fields(docnum)
    snippet = highlighter.snippet(fields.get("body") or "", found=found["body"])
    if not snippet.marked and fields.get("captions"):
        caption_snippet = highlighter.snippet(
            fields["captions"], found=found["captions"], field="captions"
        )
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
        title_marked=highlighter.whole(title, found=found["title"], field="title"),
        score=score,
        entities={kind: tuple(fields.get(f"{kind}_list") or ()) for kind in ENTITY_KINDS},
    )


def found_words(
    snapshot: Snapshot, docnums: list[int], highlighter: Highlighter
) -> dict[int, dict[str, list[tuple[int, int]]]]:
    """Where the highlighter's words stand in each marked field of these documents.

    The index keeps each word's character offsets, so a hit's text need not
    be analyzed again (which cost more than the search).
    """
    found = {d: {name: [] for name in HIGHLIGHTED} for d in docnums}
    for name in HIGHLIGHTED:
        for unit in highlighter.units_in(name):
            for docnum, spans in snapshot.characters(name, unit, docnums).items():
                found[docnum][name].extend((start, end) for _, start, end in spans)
        for phrase in highlighter.phrases_in(name):
            occurrences = [snapshot.characters(name, unit, docnums) for unit in phrase]
            for docnum in set(occurrences[0]).intersection(*occurrences[1:]):
                found[docnum][name].extend(phrase_spans([o[docnum] for o in occurrences]))
    return found
