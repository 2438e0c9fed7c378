""" "Did you mean": a correction for a query that finds nothing.

A plain query word that is not in the index (a compound is compared whole
with the compounds in the index) is replaced by the most frequent indexed
word at edit distance one (two for long words) that starts with the same
character: the typical slip of a wrong kanji or a mistyped katakana loanword.
A word with no such neighbour whose parts are not in the index either is
dropped, as long as something is left to search.
"""

from __future__ import annotations

from indexer.engine import Snapshot
from indexer.search.planning import AnalyzedWord
from indexer.search.query import ParsedQuery, Word

_FIELDS = ("title", "body")
_MAX_CANDIDATES = 5000


def edit_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance, giving up (returning ``limit + 1``) once it exceeds ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def _known(snapshot: Snapshot, unit: str) -> bool:
    return any(snapshot.doc_frequency(name, unit) for name in _FIELDS)


def _nearest(snapshot: Snapshot, unit: str) -> str | None:
    limit = 1 if len(unit) < 5 else 2
    best, best_frequency = None, 0
    for candidate in snapshot.terms_starting("body", unit[0], _MAX_CANDIDATES + 1):
        if candidate == unit or len(candidate) < 2:
            continue
        if edit_distance(unit, candidate, limit) <= limit:
            frequency = snapshot.doc_frequency("body", candidate)
            if frequency > best_frequency:
                best, best_frequency = candidate, frequency
    return best


def _mended(snapshot: Snapshot, word: AnalyzedWord) -> str | None:
    """A replacement for ``word`` when it looks mistyped; ``word`` itself if it looks fine."""
    text = word.word.text
    missing = [u for u in word.units if not _known(snapshot, u)]
    if len(word.units) == 1:
        return (_nearest(snapshot, word.units[0]) or None) if missing else text
    # A compound: compared whole with the compounds in the index (関西国祭空港 → 関西国際空港).
    whole = "".join(word.units)
    if _known(snapshot, whole):
        return text
    return _nearest(snapshot, whole) or (None if missing else text)


def did_you_mean(
    snapshot: Snapshot, parsed: ParsedQuery, words: list[AnalyzedWord]
) -> ParsedQuery | None:
    """``parsed`` with its mistyped words mended, or ``None`` if no word can be mended.

    Only plain words are mended; phrases, field words, exclusions and filters
    are kept as typed, so the suggestion searches what the user asked for.
    """
    replacements: dict[Word, Word | None] = {}
    # Each candidate search walks up to _MAX_CANDIDATES index terms: once per word.
    mended_texts: dict[str, str | None] = {}
    for word in words:
        if word.negated or not word.plain or not word.units:
            continue
        if word.word.text not in mended_texts:
            mended_texts[word.word.text] = _mended(snapshot, word)
        mended = mended_texts[word.word.text]
        if mended != word.word.text:
            replacements[word.word] = None if mended is None else Word(mended)
    if not replacements:
        return None
    suggestion = parsed.replace_words(replacements)
    if not any(not clause.negated for clause in suggestion.clauses):
        return None
    return suggestion
