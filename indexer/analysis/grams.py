"""The bigram field: a word found inside a longer one, counted only where it is a word there.

Sudachi's A units miss some substrings (東京都 is not an A unit of 東京都庁), so
a second field holds the text cut into overlapping character pairs, taken
from runs of kanji, katakana and ASCII letters and digits in folded text.
Found anywhere, though, a word's characters count where a reader would not:
京都 inside 東京都, 人参 inside 外国人参政権, パン inside ジャパン.  So each
bigram says how the text is segmented around it (:mod:`indexer.analysis.boundaries`),
and a query asks only for the bigrams its word can stand on.  The rule,
measured on hand-labelled livedoor trap words (``bench/precision.py``):

1. **Inside**: no boundary of the text may fall strictly inside one of the
   query's own units (東京都 = 東京|都 in 東京都庁 = 東京|都庁: yes; 京都 in
   東京|都内: no; 人参 in 外国|人|参政|権: no).  A bigram across a boundary is
   written ``a|b``, one within a word ``ab``.
2. **Cut finer**: a two-character word the text cuts into two whole
   one-character units still counts (業界 in 出版|業|界), but not after a
   numeral (3|人|目) nor where both stand inside one longer word (第一人者):
   ``a+b``.
3. **Short katakana words** (two characters: パン, ナス, オス) count only where
   each end of them is an end of a text word, or of a katakana run: not inside
   ジャパン, ボーナス, コンサル; a ー that follows to the end of the word is
   allowed (サーバ in サーバー), and so is an end inside a katakana run unknown
   to Sudachi whose rest is made of known words (ヘッド|スパ).  A bigram
   within a word whose ends fail this is written ``ab~``.
4. **Names**: a bigram inside a person's name is written ``ab#``: 海老 is not
   found inside 海老蔵, but a name typed as a query is.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from indexer.analysis.boundaries import (
    Segmented,
    cut_finer,
    left_edge_ok,
    right_edge_ok,
    segment,
)
from indexer.analysis.variants import SMALL_KANA, fold_variants

# Bigrams are taken from kanji and katakana runs, where compounds hide words;
# hiragana is left to Sudachi (it is mostly particles and endings, and its
# bigrams would double the index for little recall).
GRAM_RUN = re.compile(
    r"[a-z0-9]+|[\u3400-\u9fff\uf900-\ufaff\U00020000-\U0003134fー々〆ヵヶ\u30a1-\u30fa\u30fc-\u30ff]+"
)
# A single kanji or katakana is the words' business.  Runs of two are kept:
# where Sudachi reads them into a longer word (一人っ子, 大人しい) only the bigram
# finds them, which lifted recall on the trap words from 98.5 to 99.2 % for 6 %
# more index (bench/precision.py).
SHORT_RUN = 1
# Words of this many characters or fewer get the short-katakana rule (3. above).
SHORT_WORD = 2
# What a bigram token says about the text around it (see above).
CROSSING, CUT_FINER, KATAKANA_INSIDE, IN_NAME = "|", "+", "~", "#"


def normalize_for_grams(text: str) -> str:
    """Fold width, case and kanji variants: the text the bigram field sees."""
    return fold_variants(unicodedata.normalize("NFKC", text)).lower().translate(SMALL_KANA)


def gram_runs(text: str) -> Iterator[str]:
    """Runs of kanji, of katakana and of ASCII letters and digits, in normalized text."""
    for match in GRAM_RUN.finditer(normalize_for_grams(text)):
        yield match.group(0)


def bigram_token(s: Segmented, p: int) -> str:
    """The token of the bigram at folded offset ``p`` (the characters p and p + 1)."""
    first, second = s.folded[p], s.folded[p + 1]
    if s.in_name[p + 1]:
        return first + second + IN_NAME
    if s.a[p + 1]:
        if cut_finer(s, p) and left_edge_ok(s, p) and right_edge_ok(s, p + 2):
            return first + CUT_FINER + second
        return first + CROSSING + second
    if left_edge_ok(s, p) and right_edge_ok(s, p + 2):
        return first + second
    return first + second + KATAKANA_INSIDE


def text_tokens(text: str) -> Iterator[tuple[str, int, int, int]]:
    """The bigram field's tokens of ``text``: (token, position, folded start, folded end).

    A run of ASCII letters and digits is one token; a kanji or katakana run
    of more than ``SHORT_RUN`` characters gives one token per bigram.  Runs
    are a position apart, so that a phrase never matches across a space or
    punctuation.
    """
    s = segment(text)
    position = 0
    for run in GRAM_RUN.finditer(s.folded):
        start, end = run.span()
        if run.group().isascii():
            yield run.group(), position, start, end
            position += 1
        elif end - start > SHORT_RUN:
            for p in range(start, end - 1):
                yield bigram_token(s, p), position, p, p + 2
                position += 1
        else:
            continue
        position += 1  # the gap between runs


def query_tokens(word: str) -> tuple[frozenset[str], ...] | None:
    """What the bigram field must hold for ``word``: the tokens allowed at each position.

    ``None`` when the word is not one run the field can find (hiragana, or two
    kinds of script).  The word's own units are where the text may cut it.
    """
    s = segment(word)
    match = GRAM_RUN.fullmatch(s.folded)
    if match is None:
        return None
    run = s.folded
    if run.isascii():
        return (frozenset((run,)),)
    if len(run) < 2:
        return None
    positions = []
    for p in range(len(run) - 1):
        a, b = run[p], run[p + 1]
        if s.in_name[p + 1]:
            # A name typed alone: found as a name, or where the text does not call
            # it one; a short one (クマ, read as a given name) not inside a longer
            # katakana word (ブックマーク, ウォークマン), as any short katakana word.
            allowed = {a + b + IN_NAME, a + b}
            if len(run) > SHORT_WORD:
                allowed.add(a + b + KATAKANA_INSIDE)
        elif len(run) <= SHORT_WORD:
            allowed = {a + b, a + CUT_FINER + b}
            if s.a[p + 1]:
                allowed.add(a + CROSSING + b)
        else:
            allowed = {a + b, a + b + KATAKANA_INSIDE}
            if s.a[p + 1]:
                allowed |= {a + CROSSING + b, a + CUT_FINER + b}
        positions.append(frozenset(allowed))
    return tuple(positions)


_BREAKS = "。！？!?\n"
# How far around an occurrence the text is analyzed again, at most, each way.
_WINDOW = 80


def found_as_word(text: str, start: int, end: int, allowed: tuple[frozenset[str], ...]) -> bool:
    """Whether the bigram field holds ``text[start:end]`` as a query asking for ``allowed``
    (what :func:`query_tokens` gives) finds it: the characters stand there as a word.

    The sentence around the occurrence is analyzed again (Sudachi segments a
    word by its context), so that what is marked is what matched.
    """
    left = max((text.rfind(b, max(0, start - _WINDOW), start) for b in _BREAKS), default=-1)
    right = [i for b in _BREAKS if (i := text.find(b, end, end + _WINDOW)) >= 0]
    window_start = left + 1 if left >= 0 else max(0, start - _WINDOW)
    window_end = min(right) if right else min(len(text), end + _WINDOW)
    s = segment(text[window_start:window_end])
    first = len(normalize_for_grams(text[window_start:start]))
    last = first + len(normalize_for_grams(text[start:end]))
    if last - first - 1 != len(allowed) or last > len(s.folded):
        return False
    run = GRAM_RUN.search(s.folded, max(0, first - 1))
    while run is not None and run.end() < last:
        run = GRAM_RUN.search(s.folded, run.end())
    if run is None or run.start() > first or run.end() - run.start() <= SHORT_RUN:
        return False
    return all(bigram_token(s, first + k) in tokens for k, tokens in enumerate(allowed))
