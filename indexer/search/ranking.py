"""How results are ranked: every rule and weight of the order, in one place.

The planner (:mod:`indexer.search.planning`) turns a query into Whoosh query
trees that carry the weights below; the engine scores them (BM25F, as Whoosh
does); this module orders the matches:

1. keywords (typed apart, or one compound): articles that contain every word
   come first and are the results; only when no article has them all are the
   best partial matches shown, and the page says so (:mod:`indexer.search.finding`);
2. a sentence or question (many words typed without spaces, or ending in a
   question mark) is ranked by all its words, since no article holds them all;
   a sentence that does not ask (a pasted headline) also by the words of each
   article's lead, which its headline sums up;
3. among keyword results, those holding every word as typed (or in another
   form or reading, or inside a longer word) come before those that need a
   dictionary synonym for one of them (米国 before アメリカ for 米国): the
   *literal tier*;
4. within that, BM25F over the fields, the title weighted above the body and
   the body above the captions; a word found only inside a longer compound
   (the bigram field), a dictionary synonym or another reading scores below
   the word itself; the units of a typed compound standing together, and
   typed words standing near each other, score higher (the *bonus*, computed
   only for the documents that can still reach the page asked for: it never
   changes which documents match, only their order);
5. equal scores go newest first, then by article id (:func:`indexer.engine.ranked`).

Sorted by date, scores and tiers are ignored.  Near-identical articles (one
story) can be shown once, by their best-placed copy (:func:`story_page`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from whoosh import query as wq
from whoosh import scoring

from indexer.engine import Evaluator, Matches, ranked, scores_at

# Titles are short and similar in length, so their length counts for half what a body's does.
WEIGHTING = scoring.BM25F(B=0.75, K1=0.8, title_B=0.5)

# Keywords are usually what the article is about, so the title weighs most; the
# words of a sentence describe the content, and a title matching one of them
# (日本 in 日本の歴史) says little.
FIELD_BOOSTS = {"title": 3.0, "body": 1.0, "captions": 0.5}
SENTENCE_FIELD_BOOSTS = {"title": 0.5, "body": 1.0, "captions": 0.5}
# A headline sums up its article's lead: the lead's words count again, at half a
# body's (on the Wikinews tuning half +0.005 nDCG@10, held-out half +0.011;
# questions, whose answers stand anywhere in a paragraph, lost with it).
HEADLINE_FIELD_BOOSTS = {**SENTENCE_FIELD_BOOSTS, "lead": 0.5}
# A word found only as characters inside a longer word scores well below the word.
GRAMS_BOOST = 0.3
# The units of a word typed together (国際空港) standing together in the article.
PHRASE_BOOST = 1.5
# Typed words standing near each other in a field, in either order: (field, slop,
# bonus); about what one more word match is worth.  People type a headline's words
# in any order (a bonus for the typed order alone pushed the article whose title
# had them the other way out of the first page).
NEAR_FIELDS = (("title", 30, 1.0), ("body", 8, 1.0))
# Pairs among the first this many words only: 32 words would make 496 pairs to check.
NEAR_WORDS = 5
# Typed words found in the title in the order they were typed: only a tie-breaker.
ORDER_BONUS = 0.1
ORDER_SLOP = 30
# A dictionary synonym scores well below the word the user typed, so articles
# holding every typed word come before those that need a synonym for one.
SYNONYM_BOOST = 0.1
# Another dictionary reading of a word typed alone scores just below the reading Sudachi chose.
READING_BOOST = 0.8


@dataclass(frozen=True)
class Found:
    matches: Matches
    # The main query found nothing, so these are the best partial matches (no bonus).
    partial: bool
    bonus: wq.Query | None
    # The matches holding every typed word without a synonym, when only some do:
    # they rank first (``Plan.literal``).
    literal: np.ndarray | None = None


def story_page(
    evaluator: Evaluator, found: Found, sort: str, first: int, size: int
) -> tuple[list[int], Callable[[np.ndarray], np.ndarray], dict[int, list[int]], int]:
    """A page of stories: the documents shown, their scores, each one's copies, the story count.

    Each story is shown by its first article in result order.  The order is
    exact for the first ``needed`` documents; ``needed`` grows until it holds
    enough stories for this page.
    """
    story = evaluator.snapshot.column("story")
    stories = int(len(np.unique(story[found.matches.ids])))
    needed = first + size
    while True:
        order, score_of = result_order(evaluator, found, sort, needed)
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


def result_order(
    evaluator: Evaluator, found: Found, sort: str, needed: int
) -> tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]:
    """The matches in result order (right at least for the first ``needed``) and their scores."""
    if sort == "relevance":
        if found.literal is None:
            return rank_with_bonus(evaluator, found.matches, found.bonus, needed)
        return tiered(evaluator, found, needed)
    ids = found.matches.ids
    times = evaluator.snapshot.column("time_key")[ids]
    undated = evaluator.snapshot.column("undated")[ids]
    # Undated articles go last either way; equal times by document number, as Whoosh sorts.
    order = np.lexsort((ids, -times if sort == "newest" else times, undated))
    return ids[order], lambda ids: np.zeros(len(ids))


def tiered(
    evaluator: Evaluator, found: Found, needed: int
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


def rank_with_bonus(
    evaluator: Evaluator, main: Matches, bonus: wq.Query | None, needed: int
) -> tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]:
    """``main``'s documents in final order (main score plus bonus) for the first ``needed``.

    The bonus is computed for the best ``needed`` documents by main score, and
    then for every other document whose main score plus the largest bonus any
    document can get could still reach them; the rest cannot move into the
    first ``needed`` and keep their main-score order behind.  Returns the
    order and a function giving the final score of documents in it.
    """
    order = ranked(main.ids, main.scores, evaluator.snapshot)
    if bonus is None or not len(order):
        return order, lambda ids: scores_at(main, ids)
    main_sorted = scores_at(main, order)
    limit = max(0.0, evaluator.score_bound(bonus))
    count = min(len(order), max(needed, 1))
    while True:
        chosen = np.sort(order[:count])
        final = scores_at(main, chosen) + scores_at(evaluator.evaluate(bonus, chosen), chosen)
        if count == len(order):
            break
        threshold = np.sort(final)[-min(needed, len(final))]
        # Documents past ``count`` are sorted by main score: the first one that
        # cannot reach the threshold ends the ones that could.
        reach = int(np.searchsorted(-main_sorted[count:], -(threshold - limit), side="right"))
        if reach == 0:
            break
        count = min(len(order), count + max(reach, count))
    top = ranked(chosen, final, evaluator.snapshot)
    rest = order[count:]
    final_of = dict(zip(chosen.tolist(), final.tolist(), strict=True))

    def score(ids: np.ndarray) -> np.ndarray:
        known = scores_at(main, ids)
        return np.array(
            [final_of.get(i, s) for i, s in zip(ids.tolist(), known.tolist(), strict=True)]
        )

    return np.concatenate([top, rest]), score
