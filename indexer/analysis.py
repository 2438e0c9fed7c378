"""Japanese text analysis for the index: Sudachi morphemes and character bigrams.

Two analyzers feed the index:

* the **morphological** analyzer (:func:`morph_analyzer`) runs SudachiPy in
  search mode, the way elasticsearch-sudachi does: every C unit (the longest
  word, 関西国際空港) is indexed together with its A units (関西, 国際, 空港) on the
  position grid, and a query is analyzed into A units only, so 空港 finds
  関西国際空港 and a phrase still lines up;
* the **bigram** analyzer (:func:`bigram_analyzer`) cuts the folded text into
  overlapping character pairs, which finds substrings that cross a word's
  split (東京都 inside 東京都庁).

Whoosh pickles analyzers into the index, so the classes here hold only plain
configuration and create Sudachi objects lazily, one tokenizer per thread.
Changing what they emit changes the index format: bump ``ANALYZER_VERSION``.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata

from sudachipy import Dictionary, SplitMode
from whoosh.analysis import Token, Tokenizer

from indexer.variants import fold_variants

ANALYZER_VERSION = "8"

# Parts of speech that never decide whether an article matches: with particles
# and auxiliaries kept, an OR query matches nearly every document.  Pronouns,
# adnominals, conjunctions and interjections (何, どこ, この, しかし) are the
# scaffolding of a question, not what it asks about.
STOP_PARTS_OF_SPEECH = frozenset(
    {"助詞", "助動詞", "補助記号", "記号", "空白", "代名詞", "連体詞", "接続詞", "感動詞"}
)
# Light verbs, formal nouns and question adverbs, by Sudachi's normalized form
# (する → 為る, ある → 有る, いくら → 幾ら): in nearly every text, or in every question.
STOP_WORDS = frozenset(
    {"為る", "有る", "居る", "成る", "出来る", "無い", "こと", "事", "為", "よう", "様"}
    | {"何", "何故", "どう", "幾つ", "幾ら", "どんな", "そう", "こう", "如何"}
)

# Sudachi refuses input over 49,149 UTF-8 bytes; stay well below.
_MAX_CHUNK_BYTES = 30_000
_SENTENCE_END = re.compile(r"[。！？!?\n]")

_dictionary: Dictionary | None = None
_dictionary_lock = threading.Lock()
_local = threading.local()


def dictionary_version() -> str:
    """Name and version of the Sudachi dictionary the analyzer uses."""
    return f"sudachidict_core {metadata.version('sudachidict_core')}"


def sudachi_version() -> str:
    return f"sudachipy {metadata.version('sudachipy')}"


def sudachi_dictionary() -> Dictionary:
    """The process-wide Sudachi core dictionary (memory-mapped, loaded once)."""
    global _dictionary
    with _dictionary_lock:
        if _dictionary is None:
            _dictionary = Dictionary(dict="core")
        return _dictionary


def _sudachi():
    """This thread's Sudachi tokenizer (a tokenizer is not thread-safe)."""
    tokenizer = getattr(_local, "tokenizer", None)
    if tokenizer is None:
        tokenizer = _local.tokenizer = sudachi_dictionary().tokenizer(SplitMode.C)
    return tokenizer


def sentence_chunks(text: str, max_bytes: int = _MAX_CHUNK_BYTES) -> Iterator[tuple[int, str]]:
    """Cut ``text`` into pieces Sudachi accepts, at sentence ends where possible.

    Yields ``(offset, piece)`` pairs; ``offset`` is the piece's start in ``text``.
    """
    start = 0
    # A character takes at most 4 UTF-8 bytes, so this many always fit.
    safe_chars = max_bytes // 4
    while start < len(text):
        end = start + safe_chars
        if end >= len(text):
            yield start, text[start:]
            return
        window = text[start:end]
        cut = None
        for match in _SENTENCE_END.finditer(window):
            cut = match.end()
        if cut is None or cut < safe_chars // 4:
            cut = safe_chars
        yield start, text[start : start + cut]
        start += cut


@dataclass(frozen=True)
class Morpheme:
    """One word Sudachi found: the form it is indexed as, and where it stands."""

    text: str  # the indexed form: normalized, katakana variants folded
    form: str  # Sudachi's normalized form, for people to read
    start: int
    end: int
    part_of_speech: str
    units: tuple[Morpheme, ...] = ()


_SMALL_KANA = str.maketrans("ァィゥェォッャュョヮヵヶ", "アイウエオツヤユヨワカケ")
_KATAKANA_WORD = re.compile(r"[\u30a1-\u30fa\u30fc]+")


def fold_katakana(word: str) -> str:
    """One spelling for katakana variants Sudachi's dictionary does not know.

    Small kana become large (ウィンドウ → ウインドウ) and a closing long-vowel
    mark after three or more kana is dropped (コンピューター → コンピュータ),
    the two ways the same loanword is commonly written.
    """
    if not _KATAKANA_WORD.fullmatch(word):
        return word
    word = word.translate(_SMALL_KANA)
    if len(word) >= 4 and word.endswith("ー"):
        word = word[:-1]
    return word


@dataclass(frozen=True)
class _Entry:
    """What a dictionary word becomes in the index, worked out once per process.

    ``units`` are its A units as (start, end) relative to the word, index
    form, readable form; empty when the word does not split.
    """

    key: str  # the index form, lower case: what the index stores
    text: str  # the index form
    form: str  # Sudachi's normalized form
    part_of_speech: str
    units: tuple[tuple[int, int, str, str, str], ...]


# Analysis of dictionary words by (word id, surface): a news article repeats most
# of its words, and an archive repeats most of its vocabulary.
_ENTRIES: dict[tuple[int, str], _Entry | None] = {}
_MAX_ENTRIES = 500_000


def _is_stop(m) -> bool:
    return m.part_of_speech()[0] in STOP_PARTS_OF_SPEECH or m.normalized_form() in STOP_WORDS


def _entry_of(m) -> _Entry | None:
    """The index entry of a Sudachi morpheme; ``None`` for a word never indexed."""
    if m.is_oov():
        return _analyzed(m)
    key = (m.word_id(), m.surface())
    try:
        return _ENTRIES[key]
    except KeyError:
        pass
    entry = _analyzed(m)
    if len(_ENTRIES) >= _MAX_ENTRIES:
        _ENTRIES.clear()
    _ENTRIES[key] = entry
    return entry


def _analyzed(m) -> _Entry | None:
    if _is_stop(m):
        return None
    begin = m.begin()
    units = tuple(
        (a.begin() - begin, a.end() - begin, text, text.lower(), form)
        for a in m.split(SplitMode.A)
        if not _is_stop(a)
        for form in (a.normalized_form(),)
        for text in (fold_katakana(form),)
    )
    form = m.normalized_form()
    text = fold_katakana(form)
    return _Entry(text.lower(), text, form, m.part_of_speech()[0], units if len(units) > 1 else ())


def _words(text: str) -> Iterator[tuple[_Entry, int, int]]:
    """The content words of ``text`` (old kanji folded first): entry, start, end."""
    tokenizer = _sudachi()
    for offset, piece in sentence_chunks(fold_variants(text)):
        for m in tokenizer.tokenize(piece):
            entry = _entry_of(m)
            if entry is not None:
                yield entry, offset + m.begin(), offset + m.end()


def morphemes(text: str) -> Iterator[Morpheme]:
    """The content words of ``text`` in C mode, each with its A units.

    Old and variant kanji are folded first (one character for one, so offsets
    hold); particles, auxiliaries, punctuation and spaces are skipped.
    """
    for entry, start, end in _words(text):
        units = tuple(
            Morpheme(
                unit_text, form, *_span(start + a, start + b, start, end), entry.part_of_speech
            )
            for a, b, unit_text, _, form in entry.units
        )
        yield Morpheme(entry.text, entry.form, start, end, entry.part_of_speech, units)


def _span(start: int, end: int, outer_start: int, outer_end: int) -> tuple[int, int]:
    # A unit of an expanded character (㍿ → 株式 会社) has no span of its own:
    # it stands for the whole word.
    return (start, end) if end > start else (outer_start, outer_end)


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
        for entry, start, end in _words(value):
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
                unit_start, unit_end = _span(start + a, start + b, start, end)
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


def normalize_for_grams(text: str) -> str:
    """Fold width, case and kanji variants: the text the bigram field sees."""
    return fold_variants(unicodedata.normalize("NFKC", text)).lower().translate(_SMALL_KANA)


# Bigrams are taken from kanji and katakana runs, where compounds hide words;
# hiragana is left to Sudachi (it is mostly particles and endings, and its
# bigrams would double the index for little recall).
_GRAM_RUN = re.compile(
    r"[a-z0-9]+|[\u3400-\u9fff\uf900-\ufaff\U00020000-\U0003134fー々〆ヵヶ\u30a1-\u30fa\u30fc-\u30ff]+"
)


def gram_runs(text: str) -> Iterator[str]:
    """Runs of kanji, of katakana and of ASCII letters and digits, in normalized text."""
    for match in _GRAM_RUN.finditer(normalize_for_grams(text)):
        yield match.group(0)


def gram_word(text: str) -> str | None:
    """``text`` normalized, if it is one run the bigram field can find; else ``None``."""
    normalized = normalize_for_grams(text)
    match = _GRAM_RUN.fullmatch(normalized)
    return normalized if match else None


def character_bigrams(run: str) -> list[str]:
    """Overlapping pairs of characters; a one-character run stays whole."""
    if run.isascii() or len(run) < 2:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


# A kanji or katakana run this short is one word or two single characters, which
# the morphological fields hold already: its bigrams (a third of them all) found
# nothing those did not, and now that a word's best alternative counts, not the
# sum, they added nothing to a score either.
SHORT_RUN = 2


class BigramTokenizer(Tokenizer):
    """Whoosh tokenizer emitting character bigrams of each run of letters (not short ones).

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
        pos = start_pos
        for run in gram_runs(value):
            if len(run) <= SHORT_RUN and not run.isascii():
                continue
            for gram in character_bigrams(run):
                token.text = gram
                token.boost = 1.0
                token.stopped = False
                if positions:
                    token.pos = pos
                yield token
                pos += 1
            pos += 1


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


# The core dictionary's longest entry has 133 characters; a longer "word" is text
# pasted whole (and over 49,149 bytes Sudachi's lookup raises instead of answering).
_MAX_ENTRY_CHARS = 200


def dictionary_readings(word: str) -> list[str]:
    """Index forms of the dictionary entries spelled exactly ``word``.

    Out of context Sudachi may read a fragment typed alone differently from
    the same characters in a sentence (付け as a noun, 付けた as the verb
    付ける; 嫌わ cut into 嫌 + わ); the dictionary lists every reading.
    """
    if len(word) > _MAX_ENTRY_CHARS:
        return []
    readings = []
    for m in sudachi_dictionary().lookup(fold_variants(word)):
        if m.part_of_speech()[0] in STOP_PARTS_OF_SPEECH or m.normalized_form() in STOP_WORDS:
            continue
        form = fold_katakana(m.normalized_form()).lower()
        if form not in readings:
            readings.append(form)
    return readings


def query_words(word: str) -> list[Morpheme]:
    """The A units a query word is searched as, in order."""
    return [unit for m in morphemes(word) for unit in (m.units or (m,))]


def query_units(word: str) -> list[str]:
    """The index terms a query word is searched as (its A units, lower case)."""
    return [m.text.lower() for m in query_words(word)]
