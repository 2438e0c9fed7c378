"""Japanese text analysis: Sudachi's words, character bigrams, and the index's tokenizers.

- :mod:`~indexer.analysis.morphology`: the content words of a text (Sudachi C
  units with their A units, folded), and what a query word is searched as;
- :mod:`~indexer.analysis.grams`: the bigram field's tokens, each marked with how the
  text is segmented around it (:mod:`~indexer.analysis.boundaries`), and what a
  query word asks of them;
- :mod:`~indexer.analysis.tokenizers`: the Whoosh tokenizers built on both,
  which the index pickles (their import path is part of the index format);
- :mod:`~indexer.analysis.variants`: old and variant kanji, small kana;
- :mod:`~indexer.analysis.entities`: the people, organisations and places a
  text names, from Sudachi's parts of speech.

The names below are this package's interface; the rest of the code imports them from here.
"""

from indexer.analysis.entities import ENTITY_KINDS, extract_entities
from indexer.analysis.grams import (
    found_as_word,
    gram_runs,
    normalize_for_grams,
    query_tokens,
    text_tokens,
)
from indexer.analysis.morphology import (
    STOP_PARTS_OF_SPEECH,
    STOP_WORDS,
    Morpheme,
    asks,
    dictionary_readings,
    dictionary_version,
    fold_katakana,
    morphemes,
    query_units,
    query_words,
    sentence_chunks,
    sudachi_dictionary,
    sudachi_version,
)
from indexer.analysis.tokenizers import (
    ANALYZER_VERSION,
    AnalyzedToken,
    BigramTokenizer,
    SudachiTokenizer,
    analyze,
    bigram_analyzer,
    morph_analyzer,
)
from indexer.analysis.variants import fold_variants

__all__ = [
    "ANALYZER_VERSION",
    "ENTITY_KINDS",
    "STOP_PARTS_OF_SPEECH",
    "STOP_WORDS",
    "AnalyzedToken",
    "BigramTokenizer",
    "Morpheme",
    "SudachiTokenizer",
    "analyze",
    "asks",
    "bigram_analyzer",
    "dictionary_readings",
    "dictionary_version",
    "extract_entities",
    "fold_katakana",
    "fold_variants",
    "found_as_word",
    "gram_runs",
    "morph_analyzer",
    "morphemes",
    "normalize_for_grams",
    "query_tokens",
    "query_units",
    "query_words",
    "sentence_chunks",
    "sudachi_dictionary",
    "sudachi_version",
    "text_tokens",
]
