"""Character bigrams: what the bigram field holds, to find a word inside any longer one.

Sudachi's A units miss some substrings (東京都 is not an A unit of 東京都庁), so
a second field holds the text cut into overlapping character pairs, taken from
runs of kanji, katakana and ASCII letters and digits in folded text (NFKC,
lower case, old kanji and small kana folded).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from indexer.analysis.variants import SMALL_KANA, fold_variants


def normalize_for_grams(text: str) -> str:
    """Fold width, case and kanji variants: the text the bigram field sees."""
    return fold_variants(unicodedata.normalize("NFKC", text)).lower().translate(SMALL_KANA)


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
