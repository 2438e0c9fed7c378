""" "Did you mean": a correction for a query that finds nothing, in the archive's spelling.

A plain query word that looks mistyped (not in the index, and not a word of
the dictionary either: 量子 is a word the archive may simply not hold) is
replaced by the most frequent indexed word at edit distance one (two for
long words) that starts with the same character: the typical slip of a
wrong kanji or a mistyped katakana loanword (ダルビシュ, iphon).  A compound is
compared whole with the compounds in the index (関西国祭空港).  Words of two
characters are not mended by edit distance: too many words lie one slip
away (空巷: 空港, 空間, 空気 …).  A word with no such neighbour whose parts are
not in the index either is dropped, as long as something is left to search.

The replacement is shown as the archive writes it (iPhone, ダルビッシュ), read
from an article that holds it, never as the index folds it.
"""

from __future__ import annotations

from indexer.analysis import dictionary_readings
from indexer.engine import Snapshot
from indexer.search.planning import AnalyzedWord
from indexer.search.query import ParsedQuery, Word

_FIELDS = ("title", "body")
_MAX_CANDIDATES = 5000
# A word this short is mended only by dropping it, never by edit distance.
MIN_MENDED_CHARS = 3


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


def _surface(snapshot: Snapshot, term: str) -> str:
    """``term`` as an article of the archive writes it (the index keeps folded forms)."""
    for field in _FIELDS:
        docs = snapshot.postings(field, term).ids[:1].tolist()
        for docnum, spans in snapshot.characters(field, term, docs).items():
            text = snapshot.stored_fields(docnum).get(field) or ""
            _, start, end = spans[0]
            if text[start:end].strip():
                return text[start:end]
    return term


def _mended(snapshot: Snapshot, word: AnalyzedWord) -> str | None:
    """A replacement for ``word`` when it looks mistyped; ``word`` itself if it looks fine."""
    text = word.word.text
    missing = [u for u in word.units if not _known(snapshot, u)]
    if not missing and len(word.units) == 1:
        return text
    if dictionary_readings(text):
        return text  # a word of the dictionary, spelled right: the archive lacks it
    if len(word.units) == 1:
        unit = word.units[0]
        nearest = _nearest(snapshot, unit) if len(unit) >= MIN_MENDED_CHARS else None
        return _surface(snapshot, nearest) if nearest else None
    # A compound: compared whole with the compounds in the index (関西国祭空港 → 関西国際空港).
    whole = "".join(word.units)
    if _known(snapshot, whole):
        return text
    nearest = _nearest(snapshot, whole) if len(whole) >= MIN_MENDED_CHARS else None
    if nearest:
        return _surface(snapshot, nearest)
    return None if missing else text


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
