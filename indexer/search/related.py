"""Related articles: those about what one article is about, found by its most telling words."""

from __future__ import annotations

from whoosh import query as wq
from whoosh import scoring

from indexer.engine import Snapshot
from indexer.search.results import RelatedArticle, related_article

# An article's most telling words, searched in titles above bodies.
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
# Whoosh's BM25F with its own parameters: the scores the share above was measured with.
RELATED_WEIGHTING = scoring.BM25F()


def related(snapshot: Snapshot, article_id: int, limit: int = 5) -> tuple[RelatedArticle, ...]:
    """Articles like this one: its key terms, searched in the rest of the index."""
    docnum = snapshot.document_number(article_id)
    if docnum is None:
        return ()
    fields = snapshot.stored_fields(docnum)
    text = "\n".join((fields.get("title") or "", fields.get("body") or ""))
    key_terms = snapshot.key_terms("body", text[:RELATED_TEXT_CHARS], RELATED_TERMS)
    if not key_terms:
        return ()
    query = wq.Or(
        [
            wq.Term(name, term, boost=weight * boost)
            for term, weight in key_terms
            for name, boost in RELATED_FIELD_BOOSTS.items()
        ]
    )
    results = snapshot.top(query, RELATED_WEIGHTING, limit + 1)
    own = next((score for d, score in results if d == docnum), None)
    if own is None:
        own = max(
            (score for _, score in snapshot.top(query, RELATED_WEIGHTING, None, {docnum})),
            default=0.0,
        )
    enough = own * RELATED_MIN_SHARE
    return tuple(
        related_article(snapshot.stored_fields(d))
        for d, score in results
        if d != docnum and score >= enough
    )[:limit]
