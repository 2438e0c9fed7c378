"""Planning a search: from a parsed query to the Whoosh query trees the engine matches.

Each query word is analyzed like the index (A units, normalized, folded) and
matches an article when every unit is there as a word (in the title, body or
captions), or when the word's characters stand together anywhere (the bigram
field: 東京都 inside 東京都庁).  A unit also matches its dictionary synonyms
(米国 → アメリカ), scored below the word itself.  The weights the trees carry
are the ranking's (:mod:`indexer.search.ranking`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache

from whoosh import query as wq

from indexer.analysis import (
    asks,
    dictionary_readings,
    gram_runs,
    query_tokens,
    query_units,
    query_words,
)
from indexer.search.query import Clause, Filter, ParsedQuery, Word
from indexer.search.ranking import (
    FIELD_BOOSTS,
    GRAMS_BOOST,
    HEADLINE_FIELD_BOOSTS,
    NEAR_FIELDS,
    NEAR_WORDS,
    ORDER_BONUS,
    ORDER_SLOP,
    PHRASE_BOOST,
    READING_BOOST,
    SENTENCE_FIELD_BOOSTS,
    SYNONYM_BOOST,
)

# A single character (often an A unit of an unknown name) is too ambiguous to expand.
MIN_SYNONYM_SOURCE = 2
# A query typed without spaces that holds this many words is read as a sentence.
SENTENCE_UNITS = 4


@dataclass(frozen=True)
class Synonym:
    text: str
    units: tuple[str, ...]


@dataclass(frozen=True)
class AnalyzedWord:
    """A query word with its units, their readable forms, and each unit's synonyms."""

    word: Word
    units: tuple[str, ...]
    forms: tuple[str, ...]
    # For each unit, its synonyms: (as written, as index units).
    synonyms: tuple[tuple[Synonym, ...], ...] = ()
    negated: bool = False
    # Other dictionary readings of the whole word (付け → 付ける), scored a little lower.
    readings: tuple[str, ...] = ()
    # Whether it holds particles or punctuation between its words (生産へ), not only
    # content words (a compound such as 新型コロナウイルス感染症).
    prose: bool = False
    # Runs of units that stand for one thing and are matched only whole, never as
    # fragments: (first, last + 1) each.  A name written with ・ (アレクサンダー・
    # グラハム・ベル), or a word Sudachi can only cut into pieces (梁|文|鋒, ずん|だ|もん).
    runs: tuple[tuple[int, int], ...] = ()
    # It holds a hiragana word unknown to the dictionary that Sudachi cuts into
    # nouns and adverbs with grammar between (ずんだもん: ずん|だ|もん): what matches
    # it matches a fragment of it, and the page says so.
    fragments: bool = False

    def pieces(self) -> list[tuple[int, int]]:
        """The units as they are matched: each alone, or a run whole (first, last + 1)."""
        out, i = [], 0
        starts = dict(self.runs)
        while i < len(self.units):
            end = starts.get(i, i + 1)
            out.append((i, end))
            i = end
        return out

    @property
    def unknown(self) -> bool:
        """A word Sudachi knows only as single characters (梁|文|鋒): a name, most often."""
        return len(self.units) > 1 and all(len(u) == 1 for u in self.units)

    def synonym_units(self, index: int) -> tuple[tuple[str, ...], ...]:
        return tuple(s.units for s in self.synonyms[index])

    @property
    def plain(self) -> bool:
        """Neither quoted nor limited to a field: a word the search may relax."""
        return not self.word.phrase and self.word.field is None


@dataclass
class Plan:
    """The Whoosh queries one parsed query becomes."""

    parsed: ParsedQuery = field(default_factory=lambda: ParsedQuery(()))
    words: list[AnalyzedWord] = field(default_factory=list)
    strict: wq.Query | None = None  # every clause (AND)
    partial: wq.Query | None = None  # any plain word; quoted and field words still required
    bonus: wq.Query | None = None  # scores units standing together higher, matches nothing new
    # Every clause as typed, without synonyms; set only when a synonym could match.
    # Articles it matches rank first (see ``literal_query``); when none does, a
    # query of several words shows the best partial matches, as when none matches strict.
    literal: wq.Query | None = None
    several: bool = False  # more than one required clause
    exclude: wq.Query | None = None  # the -words
    filters: tuple[Filter, ...] = ()  # site:, category:, tag:, person:… (narrow, never rank)
    sentence: bool = False  # typed as a sentence: ranked by any of its words
    # A sentence's names and unknown words, each whole: when no match holds them all,
    # the matches are fragments of the question, and the page says so as for partial ones.
    complete: wq.Query | None = None
    # A required word can only be matched by fragments of it (``AnalyzedWord.fragments``).
    fragments: bool = False


@lru_cache(maxsize=4096)
def _analyzed_synonym(text: str) -> tuple[str, ...]:
    return tuple(query_units(text))


def _field_boosts(word: Word) -> dict[str, float]:
    if word.field == "title":
        return {"title": FIELD_BOOSTS["title"]}
    return FIELD_BOOSTS


def _sequence(name: str, units: tuple[str, ...], boost: float) -> wq.Query:
    if len(units) == 1:
        return wq.Term(name, units[0], boost=boost)
    return wq.Phrase(name, list(units), boost=boost)


def unit_query(
    unit: str, boosts: Mapping[str, float], synonyms: tuple[tuple[str, ...], ...] = ()
) -> wq.Query:
    """The unit as a word in any of the fields, or one of its synonyms (scored lower)."""
    word = wq.Or([wq.Term(name, unit, boost=boost) for name, boost in boosts.items()])
    if not synonyms:
        return word
    alternatives = [word] + [
        wq.Or([_sequence(name, synonym, boost * SYNONYM_BOOST) for name, boost in boosts.items()])
        for synonym in synonyms
    ]
    # The best of the word and its synonyms counts, never their sum: an article
    # holding the word gains nothing from also holding a synonym of it.
    return wq.DisjunctionMax(alternatives)


def grams_query(text: str, shared: bool = False) -> wq.Query | None:
    """The word as a run of character bigrams, found inside longer words where it is a
    word there (:mod:`indexer.analysis.grams`: 東京都 in 東京都庁, never 京都 in 東京都).

    Each position asks for the bigram in any form the rule allows there, so
    the query is a sequence of alternatives (a phrase when each has one).
    ``shared``: the bigrams share one GRAMS_BOOST, so that a word found inside
    a longer one scores below the word itself however many bigrams it has (a
    phrase scores the sum of its words: the six of スマートフォン, each at the
    full boost, outscored the word).  A name in a question found whole keeps
    the full boost per bigram: there it is the best evidence there is.
    """
    positions = query_tokens(text)
    if positions is None:
        return None
    boost = GRAMS_BOOST / len(positions) if shared else GRAMS_BOOST
    if all(len(allowed) == 1 for allowed in positions):
        return _sequence("grams", tuple(next(iter(a)) for a in positions), boost)
    parts = [
        wq.Term("grams", next(iter(allowed)), boost=boost)
        if len(allowed) == 1
        else wq.Or([wq.Term("grams", token, boost=boost) for token in sorted(allowed)])
        for allowed in positions
    ]
    return parts[0] if len(parts) == 1 else wq.Sequence(parts)


def piece_query(item: AnalyzedWord, first: int, end: int, boosts: Mapping[str, float]):
    """One unit of the word (or a synonym of it), or a run of its units standing together."""
    if end - first == 1:
        return unit_query(item.units[first], boosts, item.synonym_units(first))
    run = list(item.units[first:end])
    return wq.Or([wq.Phrase(name, run, boost=boost) for name, boost in boosts.items()])


def word_query(item: AnalyzedWord) -> wq.Query | None:
    """Articles containing the word: as words (all its units), or as a substring."""
    if not item.units:
        return None  # only particles or symbols: nothing to look for
    boosts = _field_boosts(item.word)
    if item.unknown and item.word.field is None and (run := grams_query(item.word.text)):
        # Its characters as they stand, and nothing else: as words on the index's grid
        # they would match 梁と文と鋒 too (particles take no position there).
        return run
    if item.word.phrase and len(item.units) > 1:
        match = wq.Or([wq.Phrase(name, list(item.units), boost=b) for name, b in boosts.items()])
    else:
        units = [piece_query(item, a, b, boosts) for a, b in item.pieces()]
        match = units[0] if len(units) == 1 else wq.And(units)
    alternatives = [match, *reading_queries(item, boosts)]
    grams = grams_query(item.word.text, shared=True) if item.word.field is None else None
    if grams is not None:
        # Only where the word itself is not found.  An article holding the word
        # is scored for the word: the run of a long katakana word has many
        # bigrams (スマートフォン six), whose sum would outweigh the word itself.
        units = [wq.Or([wq.Term(name, u) for name in boosts]) for u in item.units]
        alternatives.append(wq.AndNot(grams, units[0] if len(units) == 1 else wq.And(units)))
    if len(alternatives) == 1:
        return alternatives[0]
    # Found as a word, as another reading, or only inside a longer word: the best counts.
    return wq.DisjunctionMax(alternatives)


def reading_queries(item: AnalyzedWord, boosts: Mapping[str, float]) -> list[wq.Query]:
    return [
        wq.Term(name, reading, boost=boost * READING_BOOST)
        for reading in item.readings
        for name, boost in boosts.items()
    ]


def proximity_query(items: list[AnalyzedWord], boosts: Mapping[str, float]) -> wq.Query | None:
    """Optional bonus for the units of a word typed together (国際空港) standing together."""
    phrases = [
        wq.Phrase(name, list(item.units), boost=PHRASE_BOOST * boost)
        for item in items
        if len(item.units) > 1 and not item.word.phrase
        for name, boost in boosts.items()
        if name != "captions"
    ]
    return wq.Or(phrases) if phrases else None


def order_query(items: list[AnalyzedWord]) -> wq.Query | None:
    """Optional bonus for typed words standing near each other (in either order), and
    a smaller one for a title holding them in the order typed."""
    words = [item.units for item in items if item.plain and item.units]
    bonuses: list[wq.Query] = []
    near = words[:NEAR_WORDS]
    for i, a in enumerate(near):
        for b in near[i + 1 :]:
            if a[-1] == b[0] or b[-1] == a[0]:
                continue
            for name, slop, score in NEAR_FIELDS:
                if score > 0:
                    bonuses.append(
                        wq.DisjunctionMax(
                            [
                                wq.ConstantScoreQuery(
                                    wq.Phrase(name, [a[-1], b[0]], slop=slop), score=score
                                ),
                                wq.ConstantScoreQuery(
                                    wq.Phrase(name, [b[-1], a[0]], slop=slop), score=score
                                ),
                            ]
                        )
                    )
    pairs = [(a[-1], b[0]) for a, b in zip(words, words[1:], strict=False) if a[-1] != b[0]]
    bonuses.extend(
        wq.ConstantScoreQuery(wq.Phrase("title", list(pair), slop=ORDER_SLOP), score=ORDER_BONUS)
        for pair in pairs
        if ORDER_BONUS > 0
    )
    return wq.Or(bonuses) if bonuses else None


class QueryPlanner:
    def __init__(self, synonyms: Mapping[str, tuple[str, ...]] | None = None) -> None:
        self.synonyms = synonyms or {}

    def analyze(self, word: Word, negated: bool = False) -> AnalyzedWord:
        found = query_words(word.text)
        units = tuple(m.text.lower() for m in found)
        readings = (
            () if word.phrase else tuple(r for r in dictionary_readings(word.text) if (r,) != units)
        )
        covered = {i for m in found for i in range(m.start, m.end)}
        runs = _whole_runs(word.text, found)
        inside = {i for a, b in runs for i in range(a, b)}
        return AnalyzedWord(
            word=word,
            units=units,
            forms=tuple(m.form for m in found),
            synonyms=tuple(
                () if word.phrase or i in inside else self._synonyms(u) for i, u in enumerate(units)
            ),
            negated=negated,
            readings=readings,
            prose=any(i not in covered for i, c in enumerate(word.text) if not c.isspace()),
            runs=runs,
            fragments=_hiragana_fragments(word.text, found),
        )

    def _synonyms(self, unit: str) -> tuple[Synonym, ...]:
        if len(unit) < MIN_SYNONYM_SOURCE:
            return ()
        seen = {(unit,)}
        out = []
        for text in self.synonyms.get(unit, ()):
            analyzed = _analyzed_synonym(text)
            # A synonym that holds the word (外出先 for 出先) is the word inside a longer
            # one, which is matched only where it is a word there: not through a synonym.
            if analyzed and analyzed not in seen and unit not in "".join(analyzed):
                seen.add(analyzed)
                out.append(Synonym(text, analyzed))
        return tuple(out)

    def plan(self, parsed: ParsedQuery) -> Plan:
        plan = Plan(parsed=parsed, filters=parsed.filters)
        analyzed = [
            (clause, [self.analyze(w, clause.negated) for w in clause.alternatives])
            for clause in parsed.clauses
        ]
        plan.words = [item for _, items in analyzed for item in items]
        plan.sentence = is_sentence(plan.words)
        # A sentence that does not ask is a headline (pasted, or typed as one).
        headline = plan.sentence and not asks(" ".join(w.word.text for w in plan.words))
        boosts = (
            HEADLINE_FIELD_BOOSTS
            if headline
            else SENTENCE_FIELD_BOOSTS
            if plan.sentence
            else FIELD_BOOSTS
        )
        required: list[wq.Query] = []
        constraints: list[wq.Query] = []
        exclusions: list[wq.Query] = []
        any_parts: list[wq.Query] = []
        for clause, items in analyzed:
            query = _clause_query(items)
            if query is None:
                continue
            if clause.negated:
                exclusions.append(query)
                continue
            required.append(query)
            if not all(item.plain for item in items):
                # A phrase or a field search is a constraint the user spelled out.
                constraints.append(query)
                continue
            for item in items:
                any_parts.extend(piece_query(item, a, b, boosts) for a, b in item.pieces())
                any_parts.extend(reading_queries(item, boosts))
                if item.units and (grams := grams_query(item.word.text)) is not None:
                    any_parts.append(grams)
                elif plan.sentence and not headline:
                    # The names in a question (ゾング号, 文周王) are often unknown to
                    # the dictionary and cut into single characters: find them whole.
                    # (A headline's runs are its compounds, found as words: their
                    # bigrams cost 0.013 nDCG@10 on Wikinews headlines.)
                    any_parts.extend(
                        q
                        for run in gram_runs(item.word.text)
                        if len(run) >= 3 and (q := grams_query(run)) is not None
                    )
        if exclusions:
            plan.exclude = wq.Or(exclusions)
        if not required:
            return plan
        any_word = wq.And([*constraints, wq.Or(any_parts)]) if len(any_parts) > 1 else None
        if not plan.sentence:
            # A sentence is a run of words, not a compound: no phrase to favour.
            positive = [w for w in plan.words if not w.negated]
            bonuses = [q for q in (proximity_query(positive, boosts), order_query(positive)) if q]
            plan.bonus = wq.Or(bonuses) if bonuses else None
        if plan.sentence and any_word is not None:
            # No article has every word of a question: rank by all of them instead.
            plan.strict = any_word
            plan.complete = complete_query(plan.words, boosts)
            plan.fragments = any(w.fragments for w in plan.words if not w.negated)
            return plan
        plan.sentence = False
        plan.fragments = any(w.fragments for w in plan.words if not w.negated)
        plan.strict = required[0] if len(required) == 1 else wq.And(required)
        plan.partial = any_word
        plan.literal = literal_query(analyzed)
        plan.several = len(required) > 1
        return plan


def complete_query(words: list[AnalyzedWord], boosts: Mapping[str, float]) -> wq.Query | None:
    """Every name and unknown word of a sentence, each whole (its run of units)."""
    parts = [
        piece_query(item, a, b, boosts) for item in words if not item.negated for a, b in item.runs
    ]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else wq.And(parts)


# Between the parts of a name written in katakana: アレクサンダー・グラハム・ベル, ジャン＝ポール.
_NAME_JOINS = frozenset("・･＝=")
_KATAKANA = re.compile(r"[\u30a1-\u30fa\u30fc]+")
_HIRAGANA = re.compile(r"[\u3041-\u309fー]{3,}")
# What an unknown hiragana word is cut into: not a verb or adjective, which are real.
_FRAGMENT_PARTS = frozenset({"名詞", "副詞"})


def _hiragana_fragments(text: str, found: list) -> bool:
    """Whether ``text`` holds a run of hiragana unknown to the dictionary that Sudachi
    cuts into nouns and adverbs with grammar between (ずん|だ|もん)."""
    for run in _HIRAGANA.finditer(text):
        inside = [m for m in found if run.start() <= m.start and m.end <= run.end()]
        covered = sum(m.end - m.start for m in inside)
        if (
            inside
            and covered < len(run.group())
            and all(m.part_of_speech in _FRAGMENT_PARTS for m in inside)
            and not dictionary_readings(run.group())
        ):
            return True
    return False


def _whole_runs(text: str, found: list) -> tuple[tuple[int, int], ...]:
    """The runs of units matched only whole: names joined by ・, and words in fragments.

    A word Sudachi can only cut into single characters (梁|文|鋒) or a hiragana
    word it cuts into pieces (ずん|だ|もん) is unknown to it: found as the whole
    run, never as its fragments scattered about an article.
    """
    if len(found) < 2:
        return ()
    if all(m.end - m.start == 1 for m in found):
        return ((0, len(found)),)
    runs, first = [], 0
    for i in range(1, len(found) + 1):
        joined = (
            i < len(found)
            and text[found[i - 1].end : found[i].start] in _NAME_JOINS
            and _KATAKANA.fullmatch(text[found[i - 1].start : found[i - 1].end])
            and _KATAKANA.fullmatch(text[found[i].start : found[i].end])
        )
        if not joined:
            if i - first > 1:
                runs.append((first, i))
            first = i
    return tuple(runs)


def literal_query(analyzed: list[tuple[Clause, list[AnalyzedWord]]]) -> wq.Query | None:
    """Every clause matched by the words as typed (or another reading of them, or
    their characters inside a longer word), not by a synonym; ``None`` if no word has one.

    An article holding every typed word ranks before one that needs a synonym
    for any of them, whatever its score: a synonym's score is small, but the
    other words' can be large (投入 in a title with 対応 outranked the article
    holding both 投下 and 対応 in its body, for 投下 対応).
    """
    literal = [
        (clause, [replace(item, synonyms=_forms_only(item)) for item in items])
        for clause, items in analyzed
        if not clause.negated
    ]
    if all(a == b for (_, a), (_, b) in zip(literal, analyzed, strict=False)):
        return None
    clauses = [_clause_query(items) for _, items in literal]
    clauses = [q for q in clauses if q is not None]
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else wq.And(clauses)


def _forms_only(item: AnalyzedWord) -> tuple[tuple[Synonym, ...], ...]:
    """Each unit's synonyms that are another form of it: the same kanji with another
    kana ending (別れ for 別れる, 踊り for 踊る), as a typo or an inflection gives."""
    return tuple(
        tuple(s for s in synonyms if _stem(s.text) and _stem(s.text) == _stem(unit))
        for unit, synonyms in zip(item.units, item.synonyms, strict=True)
    )


_KANA_ENDING = re.compile(r"[ぁ-ゖ]+$")
_KANJI_START = re.compile(r"[一-鿿々]")


def _stem(text: str) -> str:
    """``text`` without its kana ending, if it starts with a kanji; else empty."""
    stem = _KANA_ENDING.sub("", text)
    return stem if _KANJI_START.match(stem) else ""


def is_sentence(words: list[AnalyzedWord]) -> bool:
    """Whether the query reads as a sentence or question rather than keywords.

    Keywords are typed apart (空港 台風) or as one compound (関西国際空港); a run
    of many words typed without spaces, or one ending in a question mark, is
    natural language.  So is a pasted headline with a space in it (ThinkPadを
    NECで生産へ 2012年秋より日本で試験生産): a run of many words with particles
    between them, beside other words.  A long compound typed beside a keyword
    (新型コロナウイルス感染症 ワクチン) stays keywords, every word required.
    """
    positive = [w for w in words if not w.negated]
    if not positive or not all(w.plain for w in positive):
        return False
    if len(positive) > 1:
        return any(w.prose and len(w.units) >= SENTENCE_UNITS for w in positive)
    text = positive[0].word.text.rstrip()
    return len(positive[0].units) >= SENTENCE_UNITS or text.endswith(("?", "？", "か。", "か"))


def _clause_query(items: list[AnalyzedWord]) -> wq.Query | None:
    queries = [q for q in map(word_query, items) if q is not None]
    if not queries:
        return None
    return queries[0] if len(queries) == 1 else wq.Or(queries)
