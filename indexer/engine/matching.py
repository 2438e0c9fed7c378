"""Matching documents: Whoosh query trees evaluated over a :class:`~indexer.engine.snapshot.Snapshot`.

The search's planner (:mod:`indexer.search.planning`) states what a query
means as a tree of Whoosh queries (terms, phrases, OR, AND, optional
bonuses); Whoosh's own searcher is the reference meaning of such a tree, and
the tests hold this module to it.  Here the same tree is answered with array
operations on whole posting lists, and with a shortcut Whoosh does not take:
**candidates first**.  Before a phrase's positions are decoded, or a
document is scored at all, every AND narrows the documents its parts are
evaluated on to those that can match all of them (an upper bound read from
the posting lists alone), so a bigram phrase such as 東京都 is checked only in
the documents that also hold the query's other words.  :meth:`Evaluator.score_bound`
tells how much a tree can add to any score, so that the ranking can compute a
bonus only for the documents that can still reach a page.

Scores follow Whoosh's BM25F exactly (same idf, same one-byte field lengths,
same sums), so the two agree to floating-point rounding.

An evaluator may be given a **deadline**.  Threads of one process share the
GIL, so a costly query cannot be stopped from outside: the evaluation looks
at the clock itself, between the parts of every OR (and between slices of
a slow phrase check).  Past the deadline an OR gives the union of the parts
it has evaluated (its first part at least, so that a search always gets
somewhere): a subset of its matches, scored lower, and ``cut`` says so.
Filters and exclusions (:meth:`Evaluator.docs`) are never cut: fewer of
those would let in what the query keeps out.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from whoosh import query as wq
from whoosh.scoring import BM25F

from indexer.engine.snapshot import Postings, Snapshot

_EMPTY = np.zeros(0, dtype=np.int64)
# Past this many ids in all, a union marks them in a mask instead of sorting them.
UNION_BY_MASK = 4096
# A phrase with a slop is checked document by document in Python: this many at a
# time between looks at the deadline.
CHAINED_SLICE = 256


@dataclass(frozen=True)
class Matches:
    """The documents a query matches (sorted, unique document numbers) and their scores."""

    ids: np.ndarray
    scores: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    def times(self, factor: float) -> Matches:
        return Matches(self.ids, self.scores * factor)


NO_MATCHES = Matches(_EMPTY, np.zeros(0))


def _within(ids: np.ndarray, within: np.ndarray | None) -> np.ndarray:
    """A boolean mask of the ``ids`` that are in ``within`` (both sorted)."""
    if within is None:
        return np.ones(len(ids), dtype=bool)
    if not len(within) or not len(ids):
        return np.zeros(len(ids), dtype=bool)
    found = np.searchsorted(within, ids)
    found[found == len(within)] = 0
    return within[found] == ids


def intersect(a: np.ndarray, b: np.ndarray | None) -> np.ndarray:
    if b is None:
        return a
    return a[_within(a, b)]


def union_ids(parts: Sequence[np.ndarray]) -> np.ndarray:
    parts = [p for p in parts if len(p)]
    if not parts:
        return _EMPTY
    if len(parts) == 1:
        return parts[0]
    return np.unique(np.concatenate(parts))


def union(parts: Sequence[Matches], boost: float = 1.0) -> Matches:
    """Documents matching any part; a document's score is the sum of its parts' scores."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return NO_MATCHES
    if len(parts) == 1:
        only = parts[0]
        return only if boost == 1.0 else Matches(only.ids, only.scores * boost)
    ids, inverse = np.unique(np.concatenate([p.ids for p in parts]), return_inverse=True)
    scores = np.bincount(inverse, weights=np.concatenate([p.scores for p in parts]))
    return Matches(ids, scores * boost if boost != 1.0 else scores)


def best_of(parts: Sequence[Matches], boost: float = 1.0) -> Matches:
    """Documents matching any part; a document's score is its best part's (DisjunctionMax)."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return NO_MATCHES
    ids, inverse = np.unique(np.concatenate([p.ids for p in parts]), return_inverse=True)
    scores = np.zeros(len(ids))
    np.maximum.at(scores, inverse, np.concatenate([p.scores for p in parts]))
    return Matches(ids, scores * boost if boost != 1.0 else scores)


def intersection(parts: Sequence[Matches], boost: float = 1.0) -> Matches:
    """Documents matching every part; a document's score is the sum of its parts' scores."""
    if not parts or any(not len(p) for p in parts):
        return NO_MATCHES
    ids = parts[0].ids
    for part in parts[1:]:
        ids = intersect(ids, part.ids)
    scores = np.zeros(len(ids))
    for part in parts:
        scores += part.scores[np.searchsorted(part.ids, ids)]
    return Matches(ids, scores * boost if boost != 1.0 else scores)


def scores_at(matches: Matches, ids: np.ndarray) -> np.ndarray:
    """Each of ``ids``' score in ``matches``, 0 for those it does not hold."""
    out = np.zeros(len(ids))
    if not len(matches) or not len(ids):
        return out
    found = np.searchsorted(matches.ids, ids)
    found[found == len(matches.ids)] = 0
    hit = matches.ids[found] == ids
    out[hit] = matches.scores[found[hit]]
    return out


def _chained(position_lists: Sequence[list[int]], slop: int) -> bool:
    """Whether the positions chain in order, each 1 to ``slop`` after the one before.

    This is Whoosh's ordered SpanNear2 with ``mindist=1``: the span grown so
    far ends at the last word matched, and the next word must follow it.
    """
    ends = set(position_lists[0])
    for positions in position_lists[1:]:
        if slop == 1:
            ends = {p for p in positions if p - 1 in ends}
        else:
            ordered = sorted(ends)
            ends = {p for p in positions if any(1 <= p - e <= slop for e in ordered)}
        if not ends:
            return False
    return True


def _alternatives(q: wq.Query) -> tuple[str, tuple[str, ...]]:
    """A sequence's part as (field, the words any of which stands at its position)."""
    if isinstance(q, wq.Term):
        return q.fieldname, (q.text,)
    if isinstance(q, wq.Or) and all(isinstance(s, wq.Term) for s in q.subqueries):
        fields = {s.fieldname for s in q.subqueries}
        if len(fields) == 1:
            return fields.pop(), tuple(s.text for s in q.subqueries)
    raise TypeError(f"a sequence's part must be a term or an OR of terms, not {q!r}")


class Evaluator:
    """Answers query trees over one snapshot with one weighting (BM25F)."""

    def __init__(self, snapshot: Snapshot, weighting: BM25F, deadline: float | None = None) -> None:
        self.snapshot = snapshot
        self.weighting = weighting
        # time.monotonic() past which ORs keep what they have (None: never).
        self.deadline = deadline
        self._cuts = 0  # ORs (and phrase checks) stopped at the deadline
        self._exact = 0  # inside docs(): never cut
        # Upper bounds by query object: the object is kept with its bound, so that
        # a later query allocated where a dropped one was is never taken for it.
        self._bounds: dict[int, tuple[wq.Query, np.ndarray]] = {}
        self._term_bounds: dict[tuple[str, str], float] = {}

    @property
    def cut(self) -> bool:
        """Whether an OR (or a phrase check) stopped at the deadline: matches may be missing."""
        return self._cuts > 0

    def late(self) -> bool:
        """Whether the deadline has passed."""
        return self.deadline is not None and time.monotonic() > self.deadline

    def _stop(self) -> bool:
        """Whether to stop an OR here (past the deadline, where stopping short is allowed)."""
        if self._exact or not self.late():
            return False
        self._cuts += 1
        return True

    def _parts(
        self, subqueries: Sequence[wq.Query], within: np.ndarray | None, summed: bool = True
    ) -> list[Matches]:
        """Each distinct part evaluated once (a long pasted text repeats its words), its
        scores counted as often as it is there when they are ``summed``; past the
        deadline, the parts done so far."""
        found: list[Matches] = []
        for sub, times in Counter(subqueries).items():
            if found and self._stop():
                break
            part = self.evaluate(sub, within)
            found.append(part if times == 1 or not summed else part.times(times))
        return found

    # What can match, from the posting lists alone

    def upper_bound(self, q: wq.Query) -> np.ndarray:
        """Every document ``q`` can match (a superset: phrases are not checked)."""
        found = self._bounds.get(id(q))
        if found is not None and found[0] is q:
            return found[1]
        cuts = self._cuts
        bound = self._upper_bound(q)
        if self._cuts == cuts:  # a bound cut short is no bound for docs()
            self._bounds[id(q)] = (q, bound)
        return bound

    def _upper_bound(self, q: wq.Query) -> np.ndarray:
        if isinstance(q, wq.Term):
            return self._postings(q.fieldname, q.text).ids
        if isinstance(q, wq.Phrase):
            # Word by word, until none is left: the bigrams of a long pasted text
            # (999 of them) need not all be read to know that no article holds it.
            ids = None
            for word in q.words:
                found = self._postings(q.fieldname, word).ids
                ids = found if ids is None else intersect(ids, found)
                if not len(ids):
                    break
            return _EMPTY if ids is None else ids
        if isinstance(q, wq.Sequence):
            ids = self.upper_bound(q.subqueries[0])
            for sub in q.subqueries[1:]:
                if not len(ids):
                    break
                ids = intersect(ids, self.upper_bound(sub))
            return ids
        if isinstance(q, wq.Or | wq.DisjunctionMax):
            # Each posting list read may be a first one: an OR of hundreds looks at the clock.
            bounds = []
            for sub in dict.fromkeys(q.subqueries):
                if bounds and self._stop():
                    break
                bounds.append(self.upper_bound(sub))
            return self._union_ids(bounds)
        if isinstance(q, wq.And):
            subs = q.subqueries
            if not subs:
                return _EMPTY
            ids = self.upper_bound(subs[0])
            for sub in subs[1:]:
                ids = intersect(ids, self.upper_bound(sub))
            return ids
        if isinstance(q, wq.AndMaybe | wq.AndNot):
            return self.upper_bound(q.a)
        if isinstance(q, wq.ConstantScoreQuery):
            return self.upper_bound(q.child)
        return self.docs(q)

    # Which documents match, unscored (filters and exclusions)

    def docs(self, q: wq.Query, within: np.ndarray | None = None) -> np.ndarray:
        """The documents of ``within`` that ``q`` matches, unscored and in full."""
        self._exact += 1
        try:
            return self._docs(q, within)
        finally:
            self._exact -= 1

    def _docs(self, q: wq.Query, within: np.ndarray | None) -> np.ndarray:
        if isinstance(q, wq.Term):
            return intersect(self._postings(q.fieldname, q.text).ids, within)
        if isinstance(q, wq.Or | wq.DisjunctionMax):
            return self._union_ids([self.docs(s, within) for s in q.subqueries])
        if isinstance(q, wq.And):
            ids = within
            for sub in q.subqueries:
                ids = self.docs(sub, ids)
            return _EMPTY if ids is None else ids
        if isinstance(q, wq.AndNot):
            return self.docs(q.a, self._not_ruled_out(q, within))
        if isinstance(q, wq.NumericRange):
            values = self.snapshot.column(q.fieldname)
            keep = self.snapshot.live.copy()
            if q.start is not None:
                keep &= values >= q.start
            if q.end is not None:
                keep &= values <= q.end
            return intersect(np.flatnonzero(keep).astype(np.int64), within)
        if isinstance(q, wq.Every):
            return intersect(np.flatnonzero(self.snapshot.live).astype(np.int64), within)
        return self.evaluate(q, within).ids

    def _not_ruled_out(self, q: wq.AndNot, within: np.ndarray | None) -> np.ndarray:
        """The candidates for ``q.a`` (within ``within``) that ``q.b`` does not match.

        What ``b`` rules out is found first: ``a`` may be a phrase, checked
        document by document.
        """
        candidates = intersect(self.upper_bound(q.a), within)
        if not len(candidates):
            return candidates
        return candidates[~_within(candidates, self.docs(q.b, candidates))]

    def _union_ids(self, parts: Sequence[np.ndarray]) -> np.ndarray:
        """``union_ids``; long lists are marked in a mask over the documents, not sorted."""
        parts = [p for p in parts if len(p)]
        if len(parts) < 2 or sum(map(len, parts)) < UNION_BY_MASK:
            return union_ids(parts)
        mask = np.zeros(len(self.snapshot.live), dtype=bool)
        for part in parts:
            mask[part] = True
        return np.flatnonzero(mask).astype(np.int64)

    # Which documents match, scored

    def evaluate(self, q: wq.Query, within: np.ndarray | None = None) -> Matches:
        """The documents of ``within`` (every document if ``None``) that ``q`` matches."""
        if isinstance(q, wq.Term):
            return self._term(q, within)
        if isinstance(q, wq.Phrase):
            return self._phrase(q, within)
        if isinstance(q, wq.Sequence):
            return self._sequence(q, within)
        if isinstance(q, wq.DisjunctionMax):
            return self._best_of(q, within)
        if isinstance(q, wq.Or):
            return union(self._parts(q.subqueries, within), q.boost)
        if isinstance(q, wq.And):
            subs = q.subqueries
            if len(subs) == 1:  # nothing to narrow it by: its bound would be wasted work
                found = self.evaluate(subs[0], within)
                return found if q.boost == 1.0 else Matches(found.ids, found.scores * q.boost)
            narrowed = within
            for sub in subs:
                narrowed = intersect(self.upper_bound(sub), narrowed)
            return intersection([self.evaluate(s, narrowed) for s in subs], q.boost)
        if isinstance(q, wq.AndNot):
            found = self.evaluate(q.a, self._not_ruled_out(q, within))
            return found if q.boost == 1.0 else Matches(found.ids, found.scores * q.boost)
        if isinstance(q, wq.AndMaybe):
            main = self.evaluate(q.a, within)
            bonus = self.evaluate(q.b, main.ids)
            return Matches(main.ids, (main.scores + scores_at(bonus, main.ids)) * q.boost)
        if isinstance(q, wq.ConstantScoreQuery):
            ids = self.evaluate(q.child, within).ids
            return Matches(ids, np.full(len(ids), float(q.score)))
        if isinstance(q, wq.Every):
            ids = self.docs(q, within)
            return Matches(ids, np.full(len(ids), float(q.boost)))
        if isinstance(q, type(wq.NullQuery)):
            return NO_MATCHES
        raise TypeError(f"cannot evaluate a {type(q).__name__} query")

    def _postings(self, field: str, term: str) -> Postings:
        return self.snapshot.postings(field, term)

    def _term_scores(self, postings: Postings, ids: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """BM25F of one term in each of ``ids``, as Whoosh's BM25FScorer computes it."""
        field = postings.field
        snapshot = self.snapshot
        b = self.weighting._field_B.get(field, self.weighting.B)
        k1 = self.weighting.K1
        idf = snapshot.idf(postings)
        lengths = snapshot.lengths(field)[ids]
        norm = k1 * ((1 - b) + b * lengths / snapshot.average_length(field))
        return idf * ((weights * (k1 + 1)) / (weights + norm))

    def _term(self, q: wq.Term, within: np.ndarray | None) -> Matches:
        postings = self._postings(q.fieldname, q.text)
        keep = _within(postings.ids, within)
        ids, weights = postings.ids[keep], postings.weights[keep]
        scores = self._term_scores(postings, ids, weights)
        return Matches(ids, scores * q.boost if q.boost != 1.0 else scores)

    def _best_of(self, q: wq.DisjunctionMax, within: np.ndarray | None) -> Matches:
        """The best alternative's score; a phrase is checked only where it could be the best.

        A phrase scores the sum of its words' scores, known from the posting
        lists; only reading positions tells whether it matches.  A document
        that another alternative matches at least as well gets the same answer
        either way, so its positions are not read (a word and its bigram run:
        most articles holding スマートフォン hold the word itself).
        """
        runs = (wq.Phrase, wq.Sequence)
        phrases = [s for s in q.subqueries if isinstance(s, runs)]
        others = [s for s in q.subqueries if not isinstance(s, runs)]
        found = self._parts(others, within, summed=False)
        best = best_of(found) if phrases and others else None
        for phrase in dict.fromkeys(phrases):
            if found and self._stop():
                break
            if isinstance(phrase, wq.Phrase):
                found.append(self._phrase(phrase, within, unless=best))
            else:
                found.append(self._sequence(phrase, within, unless=best))
        return best_of(found, q.boost)

    def _phrase(
        self, q: wq.Phrase, within: np.ndarray | None, unless: Matches | None = None
    ) -> Matches:
        """Documents holding the words in order; with ``unless``, only those it would score higher."""
        field = q.fieldname
        candidates = intersect(self.upper_bound(q), within)
        if not len(candidates):
            return NO_MATCHES
        lists = [self._postings(field, w) for w in q.words]
        scores = np.zeros(len(candidates))
        for postings in lists:
            at = np.searchsorted(postings.ids, candidates)
            scores += self._term_scores(postings, candidates, postings.weights[at])
        candidates, scores = _could_win(candidates, scores * q.boost, unless)
        if not len(candidates):
            return NO_MATCHES
        slop = max(1, q.slop)
        if slop == 1:
            chained = self._adjacent(field, [(w,) for w in q.words], candidates)
        else:
            chained = np.zeros(len(candidates), dtype=bool)
            for start in range(0, len(candidates), CHAINED_SLICE):
                if start and self._stop():
                    break  # the documents checked so far are the matches it has
                docs = candidates[start : start + CHAINED_SLICE].tolist()
                positions = [self.snapshot.positions(field, w, docs) for w in q.words]
                chained[start : start + len(docs)] = [
                    _chained([p[d] for p in positions], slop) for d in docs
                ]
        if not chained.any():
            return NO_MATCHES
        return Matches(candidates[chained], scores[chained])

    def _sequence(
        self, q: wq.Sequence, within: np.ndarray | None, unless: Matches | None = None
    ) -> Matches:
        """Documents holding a term of each part at consecutive positions (Whoosh's
        ``Sequence`` of terms, or of ORs of terms, in one field), scored as Whoosh
        scores it: the sum of the parts' scores; with ``unless``, as ``_phrase``."""
        parts = [_alternatives(sub) for sub in q.subqueries]
        field = parts[0][0]
        if any(name != field for name, _ in parts) or q.slop != 1 or not q.ordered:
            raise TypeError("only a slop-1 ordered sequence of terms in one field is evaluated")
        candidates = intersect(self.upper_bound(q), within)
        if not len(candidates):
            return NO_MATCHES
        scores = np.zeros(len(candidates))
        for sub in q.subqueries:
            scores += scores_at(self.evaluate(sub, candidates), candidates)
        candidates, scores = _could_win(candidates, scores * q.boost, unless)
        if not len(candidates):
            return NO_MATCHES
        chained = self._adjacent(field, [words for _, words in parts], candidates)
        if not chained.any():
            return NO_MATCHES
        return Matches(candidates[chained], scores[chained])

    def _adjacent(
        self, field: str, positions: Sequence[Sequence[str]], candidates: np.ndarray
    ) -> np.ndarray:
        """Which ``candidates`` hold one of the words of each position, at consecutive
        positions (``_chained`` with slop 1).

        A run starts where a first word is and the i-th position's word is i positions on.
        """
        docs = candidates.tolist()

        def keys(words: Sequence[str]) -> np.ndarray:
            found = [self.snapshot.position_keys(field, w, docs) for w in words]
            return found[0] if len(found) == 1 else np.unique(np.concatenate(found))

        starts = keys(positions[0])
        for offset, words in enumerate(positions[1:], start=1):
            if not len(starts):
                break
            starts = starts[np.isin(starts + offset, keys(words), assume_unique=True)]
        return np.isin(candidates, starts >> 32)

    # How much a query can add to any document's score

    def score_bound(self, q: wq.Query) -> float:
        """No document scores more than this for ``q`` (to know when a bonus cannot reorder)."""
        if isinstance(q, wq.Term):
            return q.boost * self._term_bound(q.fieldname, q.text)
        if isinstance(q, wq.Phrase):
            return q.boost * sum(self._term_bound(q.fieldname, w) for w in q.words)
        if isinstance(q, wq.Sequence):
            return q.boost * sum(self.score_bound(s) for s in q.subqueries)
        if isinstance(q, wq.DisjunctionMax):
            return q.boost * max((self.score_bound(s) for s in q.subqueries), default=0.0)
        if isinstance(q, wq.Or | wq.And):
            return q.boost * sum(self.score_bound(s) for s in q.subqueries)
        if isinstance(q, wq.AndMaybe):
            return q.boost * (self.score_bound(q.a) + self.score_bound(q.b))
        if isinstance(q, wq.AndNot):
            return q.boost * self.score_bound(q.a)
        if isinstance(q, wq.ConstantScoreQuery):
            return float(q.score)
        return float(getattr(q, "boost", 1.0))

    def _term_bound(self, field: str, term: str) -> float:
        key = (field, term)
        found = self._term_bounds.get(key)
        if found is None:
            postings = self._postings(field, term)
            scores = self._term_scores(postings, postings.ids, postings.weights)
            found = self._term_bounds[key] = float(scores.max()) if len(scores) else 0.0
        return found


def ranked(ids: np.ndarray, scores: np.ndarray, snapshot: Snapshot) -> np.ndarray:
    """``ids`` by score, highest first; equal scores newest first, then by article id.

    Scores are compared to nine decimals, so sums that differ only by rounding
    tie; the rule does not depend on where documents happen to sit in the index,
    so a rebuilt index orders ties the same way.
    """
    times = snapshot.column("time_key")[ids]
    undated = snapshot.column("undated")[ids]
    articles = snapshot.column("article")[ids]
    return ids[np.lexsort((articles, -times, undated, -np.round(scores, 9)))]


def _could_win(
    candidates: np.ndarray, scores: np.ndarray, unless: Matches | None
) -> tuple[np.ndarray, np.ndarray]:
    """The candidates (and their scores) that ``unless`` leaves a chance: those it does
    not hold, and those it holds at a lower score (all of them without ``unless``)."""
    if unless is None or not len(unless):
        return candidates, scores
    could_win = ~_within(candidates, unless.ids) | (scores > scores_at(unless, candidates))
    return candidates[could_win], scores[could_win]
