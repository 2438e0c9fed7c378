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

from indexer.engine import Evaluator, Matches, fold, value_code
from indexer.search.facets import Filters, Narrowed, narrow
from indexer.search.planning import Plan
from indexer.search.query import Filter
from indexer.search.ranking import Found


def filter_docs(evaluator: Evaluator, f: Filter) -> np.ndarray:
    """The live documents a ``site:``, ``category:``, ``tag:``, ``person:``, ``org:`` or
    ``place:`` filter keeps (not negated).

    Values are folded as the facets fold them (width, case): ``tag:AI`` keeps
    the articles tagged ＡＩ, as ``tag=AI`` does.  A site keeps its subdomains.
    """
    snapshot = evaluator.snapshot
    if f.field == "site":
        return evaluator.docs(wq.Term("site_domains", fold(f.value).removeprefix("www.")))
    code = value_code(f.value)
    if f.field == "category":
        keep = snapshot.column("category_code") == code
    else:
        starts, codes = snapshot.column_lists(f"{f.field}_codes")
        keep = np.zeros(snapshot.doc_count_all, dtype=bool)
        keep[np.searchsorted(starts, np.flatnonzero(codes == code), side="right") - 1] = True
    return np.flatnonzero(keep & snapshot.live).astype(np.int64)


def find(evaluator: Evaluator, plan: Plan) -> Found:
    """Every document the plan matches, within its filters and without its exclusions."""
    allowed = None
    for f in plan.filters:
        if not f.negated:
            kept = filter_docs(evaluator, f)
            allowed = kept if allowed is None else np.intersect1d(allowed, kept)
    excluded = [filter_docs(evaluator, f) for f in plan.filters if f.negated]

    def matching(query: wq.Query) -> Matches:
        found = evaluator.evaluate(query, allowed)
        if len(found) and (excluded or plan.exclude is not None):
            out = [*excluded]
            if plan.exclude is not None:
                out.append(evaluator.docs(plan.exclude, found.ids))
            keep = ~np.isin(found.ids, np.concatenate(out))
            found = Matches(found.ids[keep], found.scores[keep])
        return found

    main = matching(plan.strict if plan.strict is not None else wq.Every())
    if plan.sentence and len(main):
        # A question whose names no article holds whole is matched by fragments only.
        partial = plan.fragments or (
            plan.complete is not None and not len(evaluator.docs(plan.complete, main.ids))
        )
        return Found(main, partial, plan.bonus)
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
    return Found(main, plan.fragments, plan.bonus, literal)


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
