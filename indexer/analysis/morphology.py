"""Sudachi's words: the content words of a text, their A units, and what a query word becomes.

SudachiPy runs in C mode (the longest words, 関西国際空港) and each word is
split again into its A units (関西, 国際, 空港), as elasticsearch-sudachi does in
search mode.  Particles, auxiliaries, punctuation and a few light words are
dropped: they never decide whether an article matches.  Words are folded to
one spelling (Sudachi's normalized form, katakana variants, old kanji), and
every word keeps its character offsets in the text as given, for marking.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata

from sudachipy import Dictionary, SplitMode

from indexer.analysis.variants import SMALL_KANA, fold_variants

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


def sudachi_tokenizer():
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


_KATAKANA_WORD = re.compile(r"[\u30a1-\u30fa\u30fc]+")


def fold_katakana(word: str) -> str:
    """One spelling for katakana variants Sudachi's dictionary does not know.

    Small kana become large (ウィンドウ → ウインドウ) and a closing long-vowel
    mark after three or more kana is dropped (コンピューター → コンピュータ),
    the two ways the same loanword is commonly written.
    """
    if not _KATAKANA_WORD.fullmatch(word):
        return word
    word = word.translate(SMALL_KANA)
    if len(word) >= 4 and word.endswith("ー"):
        word = word[:-1]
    return word


@dataclass(frozen=True)
class Entry:
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
_ENTRIES: dict[tuple[int, str], Entry | None] = {}
_MAX_ENTRIES = 500_000


def _is_stop(m) -> bool:
    return m.part_of_speech()[0] in STOP_PARTS_OF_SPEECH or m.normalized_form() in STOP_WORDS


def _entry_of(m) -> Entry | None:
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


def _analyzed(m) -> Entry | None:
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
    return Entry(text.lower(), text, form, m.part_of_speech()[0], units if len(units) > 1 else ())


def content_words(text: str) -> Iterator[tuple[Entry, int, int]]:
    """The content words of ``text`` (old kanji folded first): entry, start, end."""
    tokenizer = sudachi_tokenizer()
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
    for entry, start, end in content_words(text):
        units = tuple(
            Morpheme(
                unit_text, form, *unit_span(start + a, start + b, start, end), entry.part_of_speech
            )
            for a, b, unit_text, _, form in entry.units
        )
        yield Morpheme(entry.text, entry.form, start, end, entry.part_of_speech, units)


def unit_span(start: int, end: int, outer_start: int, outer_end: int) -> tuple[int, int]:
    # A unit of an expanded character (㍿ → 株式 会社) has no span of its own:
    # it stands for the whole word.
    return (start, end) if end > start else (outer_start, outer_end)


# The core dictionary's longest entry has 133 characters; a longer "word" is text
# pasted whole (and over 49,149 bytes Sudachi's lookup raises instead of answering).
_MAX_ENTRY_CHARS = 200
# Words a katakana spelling is rarely meant as (dictionaries list サル for 去る).
_INFLECTED = frozenset({"動詞", "形容詞", "助動詞"})


def dictionary_readings(word: str) -> list[str]:
    """Index forms of the dictionary entries spelled exactly ``word``.

    Out of context Sudachi may read a fragment typed alone differently from
    the same characters in a sentence (付け as a noun, 付けた as the verb
    付ける; 嫌わ cut into 嫌 + わ); the dictionary lists every reading.
    """
    if len(word) > _MAX_ENTRY_CHARS:
        return []
    readings = []
    katakana = bool(_KATAKANA_WORD.fullmatch(word))
    for m in sudachi_dictionary().lookup(fold_variants(word)):
        if m.part_of_speech()[0] in STOP_PARTS_OF_SPEECH or m.normalized_form() in STOP_WORDS:
            continue
        if katakana and m.part_of_speech()[0] in _INFLECTED:
            continue  # サル typed is the monkey, not 去る written in katakana
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


# What asks: the question words (by Sudachi's normalized form, or as written).
_QUESTION_WORDS = frozenset(
    {"何", "誰", "何時", "何処", "何れ", "何方", "何故", "如何", "どんな", "幾つ", "幾ら"}
    | {"どう", "いつ", "どこ", "どの", "どれ", "どちら", "どっち", "なぜ"}
)
_ASKED_ENDING = re.compile(r"(は|の|って|とは|なの)[?？]$")


def asks(text: str) -> bool:
    """Whether ``text`` is a question (ゾング号の乗組員は何人か) rather than a statement
    such as a headline (ゾング号の乗組員を救助).

    A question word (何, 誰, どこ, いつ …), a topic left open before the question
    mark (…とは？), or a final か after a verb, an auxiliary or an adjective
    (…したか; a headline's 買収か follows a noun).
    """
    text = text.rstrip()
    if _ASKED_ENDING.search(text):
        return True
    found = [
        m
        for _, piece in sentence_chunks(fold_variants(text))
        for m in sudachi_tokenizer().tokenize(piece)
        if m.part_of_speech()[0] not in ("補助記号", "空白")
    ]
    for m in found:
        surface = m.surface()
        if m.normalized_form() in _QUESTION_WORDS or surface in _QUESTION_WORDS:
            return True
        if surface.startswith(("どの", "どう", "どれ", "どこ", "どちら", "どんな")):
            return True
        if surface.startswith("何") and m.part_of_speech()[0] in ("名詞", "代名詞"):
            return True
    for i in range(len(found) - 1, 0, -1):
        if found[i].surface() == "か":
            return found[i - 1].part_of_speech()[0] in ("動詞", "助動詞", "形容詞")
    return False
