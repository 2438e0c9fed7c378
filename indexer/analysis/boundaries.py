"""Where a text's words begin and end: Sudachi's boundaries, carried over to folded text.

The bigram field (:mod:`indexer.analysis.grams`) holds, with each bigram, how
the text is segmented around it, so that a word found inside a longer one
counts only where it is a word there.  :func:`segment` folds a text as the
field sees it (NFKC, lower case, old kanji, small kana) and marks, at every
point between two folded characters, what a reader's segmentation puts
there: a word boundary at the finest cut (Sudachi's A units, over every
morpheme, particles and punctuation included) and at the longest (C units),
the inside of a person's name, and, inside a katakana run Sudachi does not
know, whether the run's part on either side is made of known words.

Folding can change lengths (ｶﾞ → ガ, ㍿ → 株式会社): each character cluster
is folded on its own, and Sudachi's boundaries (offsets into the text as
given) are carried over at the start of each cluster; nothing begins inside
what one cluster became.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from sudachipy import SplitMode

from indexer.analysis.morphology import sentence_chunks, sudachi_dictionary, sudachi_tokenizer
from indexer.analysis.variants import SMALL_KANA, fold_variants

# Characters that make a following one-character unit a counter (3|人|目, 第|一|人|者).
_NUMERALS = frozenset("0123456789一二三四五六七八九十百千万何数第")
# Marks NFKC composes with the character before them (ｶﾞ → ガ).
_COMPOSING = frozenset("\uff9e\uff9f\u3099\u309a")
_MAX_WORD = 14  # the longest known word a katakana run is cut into, in characters


def fold_cluster(text: str) -> str:
    """A character (with its combining marks) as the bigram field sees it."""
    return fold_variants(unicodedata.normalize("NFKC", text)).lower().translate(SMALL_KANA)


def _clusters(text: str) -> Iterator[tuple[int, int]]:
    i, n = 0, len(text)
    while i < n:
        j = i + 1
        while j < n and (text[j] in _COMPOSING or unicodedata.combining(text[j])):
            j += 1
        yield i, j
        i = j


def is_katakana(char: str) -> bool:
    return "\u30a1" <= char <= "\u30fa" or char == "ー"


@dataclass
class Segmented:
    """A text folded for the bigram field, and at each folded point (0..len) what stands there."""

    folded: str
    a: bytearray  # an A-unit boundary (a word's start or end, at the finest cut)
    c: bytearray  # a C-unit boundary (the longest words)
    in_name: bytearray  # strictly inside a person's name
    # Strictly inside a katakana run unknown to Sudachi, where the run's part on the
    # left (or right) of the point is made of known words of three characters or more.
    known_left: bytearray
    known_right: bytearray


def segment(text: str) -> Segmented:
    """Fold ``text`` and mark its word boundaries (see the module's docstring)."""
    n = len(text)
    a, c, name = bytearray(n + 1), bytearray(n + 1), bytearray(n + 1)
    unknown: list[tuple[int, int]] = []
    tokenizer = sudachi_tokenizer()
    for offset, piece in sentence_chunks(fold_variants(text)):
        for m in tokenizer.tokenize(piece):
            begin, end = offset + m.begin(), offset + m.end()
            if end <= begin:
                continue
            a[begin] = a[end] = c[begin] = c[end] = 1
            if m.is_oov():
                unknown.append((begin, end))
            for unit in m.split(SplitMode.A) or (m,):
                ub, ue = offset + unit.begin(), offset + unit.end()
                if ue <= ub:
                    continue
                a[ub] = a[ue] = 1
                pos = unit.part_of_speech()
                if pos[1] == "固有名詞" and pos[2] == "人名":
                    for p in range(ub + 1, ue):
                        name[p] = 1
    known_left, known_right = bytearray(n + 1), bytearray(n + 1)
    for begin, end in unknown:
        run = text[begin:end]
        if not all(map(is_katakana, run)):
            continue
        for p in range(begin + 1, end):
            known_left[p] = _known_words(text[begin:p])
            known_right[p] = _known_words(text[p:end])
    # Carry the marks over to the folded text, at each cluster's start.
    folded: list[str] = []
    out = Segmented("", bytearray(), bytearray(), bytearray(), bytearray(), bytearray())
    marks = (a, c, name, known_left, known_right)
    into = (out.a, out.c, out.in_name, out.known_left, out.known_right)
    for begin, end in _clusters(text):
        piece = fold_cluster(text[begin:end])
        for k in range(len(piece)):
            for source, target in zip(marks, into, strict=True):
                # Inside what one cluster became (㍿ → 株式会社) no word begins.
                target.append(source[begin] if k == 0 else 0)
        folded.append(piece)
    for source, target in zip(marks, into, strict=True):
        target.append(source[n])
    out.folded = "".join(folded)
    return out


@functools.lru_cache(maxsize=65536)
def _is_noun(text: str) -> bool:
    return any(m.part_of_speech()[0] == "名詞" for m in sudachi_dictionary().lookup(text))


@functools.lru_cache(maxsize=65536)
def _known_words(text: str) -> bool:
    """Whether ``text`` can be cut whole into dictionary nouns of three characters or more."""
    stem = text.rstrip("ー") if len(text.rstrip("ー")) >= 3 else text
    n = len(stem)
    if n == 0:
        return True
    reach = [True] + [False] * n
    for j in range(3, n + 1):
        reach[j] = any(
            reach[i] and _is_noun(stem[i:j]) for i in range(max(0, j - _MAX_WORD), j - 2)
        )
    return reach[n]


def left_edge_ok(s: Segmented, p: int) -> bool:
    """An end of a short katakana word may stand at ``p``, its first character (rule 3)."""
    t = s.folded
    if s.a[p] or p == 0 or not (is_katakana(t[p - 1]) and is_katakana(t[p])):
        return True
    return bool(s.known_left[p])


def right_edge_ok(s: Segmented, p: int) -> bool:
    """... or at ``p``, just after its last character."""
    t = s.folded
    if s.a[p] or p == len(t) or not (is_katakana(t[p - 1]) and is_katakana(t[p])):
        return True
    j = p
    while j < len(t) and not s.a[j] and t[j] == "ー":
        j += 1
    return bool(s.a[j]) or bool(s.known_right[p])


def cut_finer(s: Segmented, p: int) -> bool:
    """Whether the two characters at ``p`` are two whole one-character units a word may
    stand on (rule 2): not a counter after a numeral, not inside one longer word."""
    if not (s.a[p] and s.a[p + 1] and s.a[p + 2]):
        return False
    if p > 0 and s.folded[p - 1] in _NUMERALS:
        return False
    return bool(s.c[p] or s.c[p + 1] or s.c[p + 2])
