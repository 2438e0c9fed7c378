"""The queries the search benchmarks send: keyword pairs from titles, and common words.

Title queries are what a reader types to find an article again: two content
words of its headline.  Content words come from the archive's own analysis
(``Archive.analyze``, as the index stores the title), one per word as written
(a compound such as 関西国際空港 whole, not its parts), kept when the written
word is two or more characters with a letter and no hiragana: nouns, names and
loanwords, not numbers, verb stems such as 語っ or particles.  The 【tags】 that open many
headlines (【Sports Watch】) are left out: they name a column, not the story.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

# High-frequency words and pairs (each in 300 to 2,900 of the 7,367 livedoor
# articles): the long posting lists a search engine must walk.  Two-character
# words are the common case in Japanese; FTS5's trigrams cannot search them.
COMMON_QUERIES = (
    "日本",
    "発表",
    "東京",
    "今年",
    "選手",
    "社会",
    "情報",
    "映画",
    "女性",
    "世界",
    "話題",
    "発売",
    "人気",
    "時間",
    "仕事",
    "写真",
    "スマートフォン",
    "サービス",
    "アプリ",
    "テレビ",
    "ニュース",
    "Android",
    "iPhone",
    "日本 代表",
    "映画 公開",
    "女性 仕事",
    "東京 女性",
    "選手 監督",
    "スマートフォン アプリ",
    "iPhone アプリ",
)
TAG = re.compile(r"【[^】]*】")
HIRAGANA = re.compile(r"[\u3041-\u309f]")
LETTER = re.compile(r"[^\W\d_]")


def content_words(title: str) -> list[str]:
    """The title's content words as written, in order, each once."""
    from indexer.archive import Archive  # loads Sudachi: only when queries are made

    text = TAG.sub(" ", title)
    words: list[str] = []
    end = 0
    # A compound comes first, its parts after it at the same place: take the compound.
    for token in Archive.analyze(text):
        if token.start < end:
            continue
        end = token.end
        word = text[token.start : token.end]
        content = len(word) >= 2 and LETTER.search(word) and not HIRAGANA.search(word)
        if content and word not in words:
            words.append(word)
    return words


def title_queries(titles: Sequence[str], count: int, seed: int) -> list[str]:
    """``count`` queries of two content words (in title order) from titles drawn at random."""
    rng = random.Random(seed)
    queries = []
    for index in rng.sample(range(len(titles)), len(titles)):
        words = content_words(titles[index])
        if len(words) >= 2:
            first, second = sorted(rng.sample(range(len(words)), 2))
            queries.append(f"{words[first]} {words[second]}")
            if len(queries) == count:
                break
    return queries
