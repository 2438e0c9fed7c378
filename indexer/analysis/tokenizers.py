"""The Whoosh tokenizers of the index's fields: Sudachi in search mode, and character bigrams.

Two analyzers feed the index:

* the **morphological** analyzer (:func:`morph_analyzer`) runs SudachiPy in
  search mode, the way elasticsearch-sudachi does: every C unit (the longest
  word, 関西国際空港) is indexed together with its A units (関西, 国際, 空港) on the
  position grid, and a query is analyzed into A units only, so 空港 finds
  関西国際空港 and a phrase still lines up;
* the **bigram** analyzer (:func:`bigram_analyzer`) cuts the folded text into
  overlapping character pairs, which finds substrings that cross a word's
  split (東京都 inside 東京都庁).

Whoosh pickles analyzers into the index, by this module's import path, so
the classes here hold only plain configuration and create Sudachi objects
lazily, one tokenizer per thread.  Moving them is a change of the index
format (``SCHEMA_VERSION`` in :mod:`indexer.engine.documents`); changing
what they emit is one too: bump ``ANALYZER_VERSION``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from whoosh.analysis import Token, Tokenizer

from indexer.analysis.grams import text_tokens
from indexer.analysis.morphology import content_words, unit_span

# 9: the bigram field says how the text is segmented around each bigram
#    (indexer.analysis.grams), so a word found inside a longer one is a word there.
ANALYZER_VERSION = "9"


class SudachiTokenizer(Tokenizer):
    """Whoosh tokenizer on SudachiPy in search mode.

    At index time a compound is emitted at position p and its A units at
    p…p+k−1, the next word at p+k.  At query time (``mode="query"``) only A
    units are emitted, on consecutive positions, so phrases match the grid.
    """

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs,
    ) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        token.boost = 1.0
        token.stopped = False
        query = mode == "query"
        pos = start_pos
        for entry, start, end in content_words(value):
            units = entry.units
            if not units:
                token.text = entry.key
                if keeporiginal:
                    token.original = value[start:end]
                if positions:
                    token.pos = pos
                if chars:
                    token.startchar = start_char + start
                    token.endchar = start_char + end
                yield token
                pos += 1
                continue
            if not query:
                # The compound itself, at its first unit's position.
                token.text = entry.key
                if keeporiginal:
                    token.original = value[start:end]
                if positions:
                    token.pos = pos
                if chars:
                    token.startchar = start_char + start
                    token.endchar = start_char + end
                yield token
            for a, b, _, key, _ in units:
                unit_start, unit_end = unit_span(start + a, start + b, start, end)
                token.text = key
                if keeporiginal:
                    token.original = value[unit_start:unit_end]
                if positions:
                    token.pos = pos
                if chars:
                    token.startchar = start_char + unit_start
                    token.endchar = start_char + unit_end
                yield token
                pos += 1


class BigramTokenizer(Tokenizer):
    """Whoosh tokenizer of the bigram field: each bigram of a run, marked with how the
    text is segmented around it (:mod:`indexer.analysis.grams`).

    Runs are separated by a gap of one position so that a phrase never
    matches across punctuation or spaces.
    """

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs,
    ) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for text, position, _, _ in text_tokens(value):
            token.text = text
            token.boost = 1.0
            token.stopped = False
            if positions:
                token.pos = start_pos + position
            yield token


def morph_analyzer():
    """The analyzer of the title, body and caption fields (it lowercases words itself)."""
    return SudachiTokenizer()


def bigram_analyzer():
    """The analyzer of the character-bigram field."""
    return BigramTokenizer()


@dataclass(frozen=True)
class AnalyzedToken:
    """A token as the index stores it, for ``python -m indexer analyze``."""

    text: str
    position: int
    start: int
    end: int


def analyze(text: str, *, query: bool = False) -> list[AnalyzedToken]:
    """The tokens the morphological field stores for ``text`` (or a query becomes)."""
    mode = "query" if query else "index"
    return [
        AnalyzedToken(t.text, t.pos, t.startchar, t.endchar)
        for t in morph_analyzer()(text, positions=True, chars=True, mode=mode)
    ]
