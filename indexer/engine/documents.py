"""What an article becomes in the index: the schema, the fields of its document, their codes.

The schema is pickled into every index with its analyzers
(:mod:`indexer.analysis.tokenizers`), and each segment with the codec that
wrote it (:class:`indexer.engine.segments.Codec`), by their import paths:
those paths are part of the index format, like the fields themselves.  An
index records ``SCHEMA_VERSION`` (:func:`index_meta`); one built otherwise is
refused with the command that rebuilds it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from hashlib import blake2b
from typing import Any

import numpy as np
from whoosh.columns import NumericColumn, VarBytesColumn
from whoosh.fields import COLUMN, ID, KEYWORD, STORED, TEXT, Schema

from indexer.analysis import (
    ANALYZER_VERSION,
    ENTITY_KINDS,
    bigram_analyzer,
    dictionary_version,
    morph_analyzer,
    sudachi_version,
)
from indexer.store.models import Article

# 2: title, body and captions keep each word's character offsets (highlighting
# from the index instead of analyzing every hit again); dates are columns only.
# 3: the article id and version as columns (check compares them with the database).
# 4: site, category and tags as integer codes in columns (facets, filters), and the
#    story (near-identical articles) each article belongs to.
# 5: the analyzers and the codec moved (indexer.analysis.tokenizers,
#    indexer.engine.segments): Whoosh unpickles them by those paths.
# 6: the lead (the body's opening) as a field of its own, for ranking headlines.
# 7: the people, organisations and places each article names, as codes in columns
#    (facets, filters) and as written (labels, hits).
SCHEMA_VERSION = "7"
# The lead: the opening of the body, where a news article says what happened and
# what its headline sums up (100-400 characters measured alike on Wikinews).
LEAD_CHARS = 200


def make_schema() -> Schema:
    morph = morph_analyzer()
    return Schema(
        id=ID(stored=True, unique=True),
        title=TEXT(analyzer=morph, stored=True, chars=True),
        body=TEXT(analyzer=morph, stored=True, chars=True),
        captions=TEXT(analyzer=morph, stored=True, chars=True),
        # Only ranked, never shown or marked: no stored text, no character offsets.
        lead=TEXT(analyzer=morph),
        grams=TEXT(analyzer=bigram_analyzer()),
        url=STORED(),
        site=STORED(),
        # Every suffix of the host, so site:example.jp finds news.example.jp too.
        site_domains=KEYWORD(commas=True, lowercase=True),
        agency=KEYWORD(lowercase=True, stored=True),
        category=KEYWORD(commas=True, stored=True),
        tags=KEYWORD(commas=True, lowercase=True, stored=True),
        published=STORED(),
        # Seconds since the epoch (0 when the date is unknown), and whether it is:
        # columns only, read for date ranges and date order (terms would go unused).
        time_key=COLUMN(NumericColumn("q", default=0)),
        undated=COLUMN(NumericColumn("B", default=1)),
        # The article and the version of it (its update time in microseconds) each
        # document holds, as columns: ``check`` compares them with the database at
        # array speed instead of reading every stored document.
        article=COLUMN(NumericColumn("q", default=0)),
        version=COLUMN(NumericColumn("q", default=0)),
        # Facets and their filters (:func:`value_code`): the folded site, category and
        # each tag as integer codes, read as arrays; the tags as written, for labels.
        site_code=COLUMN(NumericColumn("q", default=0)),
        category_code=COLUMN(NumericColumn("q", default=0)),
        tag_codes=COLUMN(VarBytesColumn()),
        tag_list=STORED(),
        # The story of near-identical articles this one belongs to (indexer.store.stories):
        # its smallest article id, or the article's own id when it stands alone.
        story=COLUMN(NumericColumn("q", default=0)),
        # The people, organisations and places it names (indexer.analysis.entities),
        # each kind kept as the tags are: codes in a column, the names as written.
        **{f"{kind}_codes": COLUMN(VarBytesColumn()) for kind in ENTITY_KINDS},
        **{f"{kind}_list": STORED() for kind in ENTITY_KINDS},
    )


def index_meta() -> dict[str, str]:
    """What an index built now records about how it was built."""
    return {
        "schema": SCHEMA_VERSION,
        "analyzer": ANALYZER_VERSION,
        "sudachipy": sudachi_version(),
        "dictionary": dictionary_version(),
    }


def site_domains(site: str | None) -> str:
    """Every suffix of the site's folded host, so ``site:example.jp`` finds news.example.jp too."""
    site = fold(site)
    if not site:
        return ""
    parts = site.split(".")
    return ",".join(".".join(parts[i:]) for i in range(len(parts) - 1)) or site


def article_document(article: Article) -> dict[str, Any]:
    """The fields one article puts into the index."""
    captions = "\n".join(article.captions or [])
    published = article.published_at
    return {
        "id": str(article.id),
        "title": article.title,
        "body": article.body,
        "captions": captions,
        "lead": (article.body or "")[:LEAD_CHARS],
        "grams": "\n".join(part for part in (article.title, article.body, captions) if part),
        "url": article.url,
        "site": article.site,
        "site_domains": site_domains(article.site),
        "agency": article.agency or "",
        "category": article.category or "",
        "tags": ",".join(article.tags or []),
        "published": published.isoformat() if published else None,
        # Signed seconds (a column, not terms): dates before 1970 keep their order.
        "time_key": int(published.timestamp()) if published else 0,
        "undated": 0 if published else 1,
        "article": article.id,
        "version": article_version(article.updated_at),
        "site_code": value_code(article.site),
        "category_code": value_code(article.category),
        "tag_codes": tag_codes(article.tags or []),
        "tag_list": list(article.tags or []),
        "story": article.story_id or article.id,
        **entity_fields(article.entities or {}),
    }


def entity_fields(entities: dict[str, list[str]]) -> dict[str, Any]:
    """The columns and stored lists of an article's people, organisations and places."""
    fields: dict[str, Any] = {}
    for kind in ENTITY_KINDS:
        names = list(entities.get(kind) or [])
        fields[f"{kind}_codes"] = tag_codes(names)
        fields[f"{kind}_list"] = names
    return fields


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def article_version(updated_at: datetime | None) -> int:
    """An article's version as the index records it: its last update, in microseconds."""
    if updated_at is None:
        return 0
    if updated_at.tzinfo is None:
        updated_at = updated_at.replace(tzinfo=UTC)
    return (updated_at - _EPOCH) // timedelta(microseconds=1)


def fold(value: str | None) -> str:
    """A value as facets compare it: width and case folded, outer spaces dropped."""
    return unicodedata.normalize("NFKC", value or "").casefold().strip()


def value_code(value: str | None) -> int:
    """A value's code in the index: a positive 63-bit hash of its folded form; 0 for none."""
    folded = fold(value)
    if not folded:
        return 0
    digest = blake2b(folded.encode("utf-8"), digest_size=8).digest()
    return (int.from_bytes(digest, "big") >> 1) or 1


def tag_codes(tags: Iterable[str]) -> bytes:
    """The codes of an article's tags (or names), packed for a ``tag_codes``-like column."""
    codes = sorted({c for c in (value_code(t) for t in tags) if c})
    return np.array(codes, dtype=">i8").tobytes()
