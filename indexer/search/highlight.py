"""Marking what a query matched: in a passage of a result, or in a whole article.

One :class:`Highlighter` is made from a query as the search understood it
and marks the same words wherever they are shown: result snippets and titles,
the article page opened from a result, the JSON API and the command line.

Matches are found two ways, like the index finds articles: words whose
normalized form is one of the query's units or their synonyms (so 行っ is
marked for 行く, ｻｰﾊﾞ for サーバー, アメリカ for 米国), and literal substrings in
folded text (so 東京都 is marked inside 東京都庁).  A passage is scored by how
many characters it marks, not how many marks it has, because on Japanese the
default scorer of Whoosh prefers scattered one-character hits.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from html import escape

from indexer.analysis import fold_variants, found_as_word, morphemes, query_tokens

SNIPPET_CHARS = 140
# Where a query's words stand in a text, when the index has told: (start, end) pairs.
Found = list[tuple[int, int]] | None
# Analyzing a very long body costs more than a snippet is worth.
_MAX_ANALYZED_CHARS = 20_000
_BREAKS = "。！？\n"


@dataclass(frozen=True)
class Snippet:
    """Text pieces in order, each marked as a match or not."""

    parts: tuple[tuple[str, bool], ...]

    def html(self) -> str:
        """The passage as HTML: text escaped, matches in ``<mark>``."""
        return "".join(
            f"<mark>{escape(text)}</mark>" if marked else escape(text)
            for text, marked in self.parts
        )

    def text(self) -> str:
        return "".join(text for text, _ in self.parts)

    @property
    def marked(self) -> tuple[str, ...]:
        return tuple(text for text, marked in self.parts if marked)


# Per character: what it folds to (NFKC, lower case) where that differs from itself,
# and a pattern of the characters that fold to other than one (… → ..., ㍻ → 平成).
_FOLDED: dict[int, str] = {}
_SEEN: set[str] = set()
_RESIZED: set[str] = set()
_resized_pattern: re.Pattern[str] | None = None


def _learn(chars: set[str]) -> None:
    global _resized_pattern
    for char in chars - _SEEN:
        folded = unicodedata.normalize("NFKC", char).lower()
        if folded != char:
            _FOLDED[ord(char)] = folded
        if len(folded) != 1:
            _RESIZED.add(char)
            _resized_pattern = None
        _SEEN.add(char)
    if _resized_pattern is None and _RESIZED:
        _resized_pattern = re.compile("[" + "".join(map(re.escape, sorted(_RESIZED))) + "]")


class _Offsets:
    """Maps an offset in folded text back to the source, given where characters resized."""

    def __init__(self, resized: list[tuple[int, int, int]]) -> None:
        # (offset in the folded text, offset in the source, folded length) of each resized char
        self._resized = resized
        self._starts = [folded for folded, _, _ in resized]

    def __getitem__(self, offset: int) -> int:
        k = bisect_right(self._starts, offset) - 1
        if k < 0:
            return offset
        folded, source, size = self._resized[k]
        if offset < folded + size:
            return source  # inside what one source character became
        return source + 1 + offset - (folded + size)


def folded_with_offsets(text: str) -> tuple[str, Sequence[int] | _Offsets]:
    """``text`` folded for literal matching, and for each folded character its source offset.

    Each character is folded on its own (old kanji, width, case) through a
    translation table built as characters are first seen, so a long body
    folds at C speed; the few characters that fold to several are found with
    a regular expression, and offsets shift only around them.
    """
    text = fold_variants(text)
    chars = set(text)
    _learn(chars)
    folded = text.translate(_FOLDED)
    if _resized_pattern is None or not chars & _RESIZED:
        return folded, range(len(text))
    resized = []
    shift = 0
    for match in _resized_pattern.finditer(text):
        size = len(_FOLDED.get(ord(match.group()), match.group()))
        resized.append((match.start() + shift, match.start(), size))
        shift += size - 1
    return folded, _Offsets(resized)


def fold_literal(text: str) -> str:
    return folded_with_offsets(text)[0]


def _grid(text: str) -> list[tuple[str, int, int, int]]:
    """The words of ``text`` on the index's position grid: (index form, position, start, end).

    As the index lays them out: a compound at the position of its first A unit,
    its A units on consecutive positions, the next word after the last of them.
    """
    grid = []
    position = 0
    for word in morphemes(text[:_MAX_ANALYZED_CHARS]):
        if word.units:
            grid.append((word.text.lower(), position, word.start, word.end))
        for unit in word.units or (word,):
            grid.append((unit.text.lower(), position, unit.start, unit.end))
            position += 1
    return grid


def phrase_spans(
    occurrences: Sequence[Iterable[tuple[int, int, int]]],
) -> list[tuple[int, int]]:
    """Where units stand one after another: from each unit's (position, start, end) occurrences.

    A phrase is marked where it matched, from its first unit's start to its
    last unit's end, and nowhere else (not 国際 in 国際線 for "国際空港").
    """
    at = [{position: (start, end) for position, start, end in found} for found in occurrences]
    spans = []
    for position, (start, _) in sorted(at[0].items()):
        ends = [later.get(position + i) for i, later in enumerate(at[1:], start=1)]
        if all(ends):
            spans.append((start, ends[-1][1] if ends else at[0][position][1]))
    return spans


def word_ranges(
    text: str, units: Iterable[str], phrases: Iterable[tuple[str, ...]] = ()
) -> list[tuple[int, int]]:
    """Where ``units`` stand in ``text`` as words, and ``phrases`` as runs (Sudachi again)."""
    wanted = {u for u in units if u}
    phrases = [p for p in phrases if p]
    if not wanted and not phrases:
        return []
    grid = _grid(text)
    ranges = [(start, end) for unit, _, start, end in grid if unit in wanted]
    for phrase in phrases:
        occurrences = [[(pos, s, e) for u, pos, s, e in grid if u == unit] for unit in phrase]
        ranges.extend(phrase_spans(occurrences))
    return ranges


def literal_ranges(
    text: str, literals: Iterable[str], covered: Sequence[tuple[int, int]] = ()
) -> list[tuple[int, int]]:
    """Where ``literals`` stand in ``text`` as characters, where the search found them.

    Width, case and old kanji folded, and, as the bigram field counts them, only
    where they are a word in the text (京都 not inside 東京都): an occurrence
    not ``covered`` already (by a word the index found there) is checked
    against the text's segmentation around it.
    """
    ranges: list[tuple[int, int]] = []
    folded, origin = folded_with_offsets(text)
    spans = merged(covered)
    for typed in dict.fromkeys(literals):
        literal, allowed = _literal(typed)
        if len(literal) < 2 or allowed is None:
            continue
        start = folded.find(literal)
        while start >= 0:
            end = start + len(literal)
            found = (origin[start], origin[end - 1] + 1)
            if _inside(found, spans) or found_as_word(text, *found, allowed):
                ranges.append(found)
            start = folded.find(literal, end)
    return ranges


@lru_cache(maxsize=4096)
def _literal(typed: str) -> tuple[str, tuple[frozenset[str], ...] | None]:
    """A literal folded, and the bigrams it may stand on: worked out once, not per hit."""
    return fold_literal(typed), query_tokens(typed)


def _inside(span: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    at = bisect_right(spans, (span[0], float("inf"))) - 1
    return at >= 0 and spans[at][0] <= span[0] and span[1] <= spans[at][1]


def merged(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted ranges with the overlapping and touching ones joined."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(end, out[-1][1]))
        else:
            out.append((start, end))
    return out


def _best_window(text: str, ranges: list[tuple[int, int]], width: int) -> tuple[int, int]:
    """The ``width``-character window covering the most matched characters.

    ``ranges`` are sorted and disjoint, so the characters a window covers come
    from prefix sums and two binary searches: a text with thousands of
    matches costs no more than a few.
    """
    starts = [s for s, _ in ranges]
    ends = [e for _, e in ranges]
    prefix = [0]
    for s, e in ranges:
        prefix.append(prefix[-1] + e - s)
    best_start, best_score = 0, -1
    for anchor in starts:
        # Start a little before the match, at a sentence start if one is near.
        start = max(0, anchor - width // 4)
        cut = max(text.rfind(b, start, anchor) for b in _BREAKS)
        if cut >= 0 and anchor - cut <= width // 2:
            start = cut + 1
        end = start + width
        lo, hi = bisect_right(ends, start), bisect_left(starts, end)
        score = prefix[hi] - prefix[lo]
        if lo < hi:
            score -= max(0, start - starts[lo]) + max(0, ends[hi - 1] - end)
        if score > best_score:
            best_start, best_score = start, score
    return best_start, min(len(text), best_start + width)


def _passage(text: str, ranges: list[tuple[int, int]], width: int) -> Snippet:
    """The ``width`` characters of ``text`` that best show ``ranges``, those marked."""
    if ranges and len(text) > width:
        start, end = _best_window(text, ranges, width)
    else:
        start, end = 0, min(len(text), width)
    parts: list[tuple[str, bool]] = []
    if start > 0:
        parts.append(("…", False))
    cursor = start
    for s, e in ranges:
        s, e = max(s, start), min(e, end)
        if s >= e:
            continue
        if s > cursor:
            parts.append((text[cursor:s], False))
        parts.append((text[s:e], True))
        cursor = e
    if cursor < end:
        parts.append((text[cursor:end], False))
    if end < len(text):
        parts.append(("…", False))
    return Snippet(tuple((t.replace("\n", " "), m) for t, m in parts if t))


@dataclass(frozen=True)
class Highlighter:
    """What one query marks, as it matched: words, phrases, and characters inside longer words.

    ``units`` are index units marked wherever they stand as words (a query's
    words, their synonyms and readings); ``phrases`` are runs of units marked
    only where they stand in that order; ``literals`` are the words as typed,
    marked where their characters stand together; ``title_units`` and
    ``title_phrases`` are searched in titles only (``title:``).
    """

    units: frozenset[str] = frozenset()
    literals: tuple[str, ...] = ()
    phrases: tuple[tuple[str, ...], ...] = ()
    title_units: frozenset[str] = frozenset()
    title_phrases: tuple[tuple[str, ...], ...] = ()

    def units_in(self, field: str) -> frozenset[str]:
        """The units marked in ``field`` (a title also marks the title-only ones)."""
        return self.units | self.title_units if field == "title" else self.units

    def phrases_in(self, field: str) -> tuple[tuple[str, ...], ...]:
        return self.phrases + self.title_phrases if field == "title" else self.phrases

    def ranges(self, text: str, found: Found = None, field: str = "body") -> list[tuple[int, int]]:
        """Sorted, disjoint ``(start, end)`` ranges of ``text`` (a ``field``) to mark.

        ``found`` are where the words and phrases stand if the caller knows (the
        index keeps their offsets); otherwise ``text`` is analyzed again to find them.
        """
        if found is None:
            found = word_ranges(text, self.units_in(field), self.phrases_in(field))
        return merged([*found, *literal_ranges(text, self.literals, found)])

    def snippet(
        self, text: str, width: int = SNIPPET_CHARS, found: Found = None, field: str = "body"
    ) -> Snippet:
        """The passage of ``text`` that best shows why it matched, matches marked."""
        return _passage(text, self.ranges(text, found, field), width)

    def whole(self, text: str, found: Found = None, field: str = "body") -> Snippet:
        """All of ``text`` (a title, a paragraph), matches marked."""
        return _passage(text, self.ranges(text, found, field), len(text) + 1)
