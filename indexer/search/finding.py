"""Which articles a query matches: within its filters, without its exclusions.

The match set is what every number is counted from (the total, the facets,
the timeline) and what every order sorts.  When no article holds every word
of a keyword query, the best partial matches are the results instead, and
the page says so; likewise when the filters leave none of the full matches.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from whoosh import query as wq

from indexer.engine import Evaluator, Matches
from indexer.search.facets import Filters, Narrowed, narrow
from indexer.search.planning import Plan, filter_query
from indexer.search.ranking import Found


def find(evaluator: Evaluator, plan: Plan) -> Found:
    """Every document the plan matches, within its filters and without its exclusions."""
    filters = [filter_query(f) for f in plan.filters if not f.negated]
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
            return Found(partial, True, None)
    literal = None
    if plan.literal is not None and len(main):
        literal = evaluator.docs(plan.literal, main.ids)
        if not len(literal) and plan.several and plan.partial is not None:
            # Only synonyms give any article every word (回回転 ファミレス: no
            # article holds 回 and 回転 and ファミレス, one holds スピン for 回転):
            # the articles holding most of the typed words may be better.
            return Found(matching(plan.partial), True, None)
        if len(literal) == len(main):
            literal = None
    return Found(main, False, plan.bonus, literal)


def find_narrowed(
    evaluator: Evaluator, plan: Plan, filters: Filters
) -> tuple[Found, np.ndarray, Narrowed]:
    """The matches within ``filters``, every match before them, and each filter's mask.

    Filters are masks over the matches (facets are counted from the same
    matches with all filters but their own).  When no article with every
    word passes the filters, the best partial matches that do are the
    results, as when none has every word at all.
    """
    found = find(evaluator, plan)
    narrowed = narrow(evaluator.snapshot, found.matches.ids, filters)
    keep = narrowed.all()
    if len(found.matches) and not keep.any() and not found.partial and plan.partial is not None:
        partial = find(evaluator, replace(plan, strict=wq.NullQuery))
        if partial.partial:
            narrowed_partial = narrow(evaluator.snapshot, partial.matches.ids, filters)
            if narrowed_partial.all().any():
                found, narrowed = partial, narrowed_partial
                keep = narrowed.all()
    matches = found.matches
    kept = replace(found, matches=Matches(matches.ids[keep], matches.scores[keep]))
    return kept, matches.ids, narrowed
