"""The engine: the only code below Whoosh's public API.

The archive keeps its index in Whoosh's format and reads it its own way,
with NumPy: this package is where the two meet.  Everything else goes
through the names below (a test keeps it so):

- what an article becomes in the index (:mod:`~indexer.engine.documents`):
  the schema, a document's fields, the codes of sites, categories, tags and
  the entities (people, organisations, places) an article names,
  and ``SCHEMA_VERSION``; the import paths of the analyzers and of the codec
  (:mod:`~indexer.engine.segments`) are part of the format;
- the index on disk (:mod:`~indexer.engine.generations`): generations
  switched atomically, writing batches of changes, rebuilding;
- one moment of it read as arrays (:mod:`~indexer.engine.snapshot`, over
  :mod:`~indexer.engine.postings` and :mod:`~indexer.engine.columns`), with
  the read failures that mean damage;
- matching documents (:mod:`~indexer.engine.matching`): Whoosh query trees
  evaluated over a snapshot, scored as Whoosh's BM25F scores them;
- one least-recently-used cache (:mod:`~indexer.engine.cache`).

Query trees are Whoosh's own (``whoosh.query``), the engine's input language.
"""

from indexer.engine.cache import LRU
from indexer.engine.documents import (
    ENTITY_KINDS,
    SCHEMA_VERSION,
    article_document,
    article_version,
    fold,
    index_meta,
    make_schema,
    site_domains,
    tag_codes,
    value_code,
)
from indexer.engine.generations import (
    APPLIED_FILE,
    CURRENT_FILE,
    META_FILE,
    ChangeBatch,
    IndexInfo,
    IndexStore,
)
from indexer.engine.matching import (
    NO_MATCHES,
    Evaluator,
    Matches,
    best_of,
    intersection,
    ranked,
    scores_at,
    union,
)
from indexer.engine.snapshot import READ_FAILURES, Postings, Snapshot, damaged, posting_cache

__all__ = [
    "APPLIED_FILE",
    "CURRENT_FILE",
    "ENTITY_KINDS",
    "LRU",
    "META_FILE",
    "NO_MATCHES",
    "READ_FAILURES",
    "SCHEMA_VERSION",
    "ChangeBatch",
    "Evaluator",
    "IndexInfo",
    "IndexStore",
    "Matches",
    "Postings",
    "Snapshot",
    "article_document",
    "article_version",
    "best_of",
    "damaged",
    "fold",
    "index_meta",
    "intersection",
    "make_schema",
    "posting_cache",
    "ranked",
    "scores_at",
    "site_domains",
    "tag_codes",
    "union",
    "value_code",
]
