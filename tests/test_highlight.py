"""Marking literal matches: folding text at C speed keeps every offset right."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from indexer.analysis import fold_variants
from indexer.search.highlight import Highlighter, folded_with_offsets, literal_ranges


def folded_one_by_one(text: str) -> tuple[str, list[int]]:
    """The plain definition: each character folded alone, each folded character's source."""
    out, origin = [], []
    for index, char in enumerate(fold_variants(text)):
        for folded in unicodedata.normalize("NFKC", char).lower():
            out.append(folded)
            origin.append(index)
    return "".join(out), origin


@given(st.text(alphabet="あいう…㍻ＡＢｃ髙①ｶﾞ東京都ﬁ ab㈱", max_size=40))
def test_folding_and_offsets_match_the_plain_definition(text):
    folded, offsets = folded_with_offsets(text)
    expected, origin = folded_one_by_one(text)
    assert folded == expected
    assert [offsets[i] for i in range(len(folded))] == origin


def test_a_literal_is_marked_where_it_stands_after_expanded_characters():
    text = "…㍻の東京都庁…"
    assert literal_ranges(text, ["東京都"]) == [(3, 6)]
    assert Highlighter(literals=("東京都",)).whole(text).marked == ("東京都",)


@pytest.mark.parametrize(
    ("text", "literal", "marked"),
    [
        ("東京都庁の展望室と京都府の寺", "京都", [(9, 11)]),  # not inside 東京|都庁
        ("東京都庁の展望室", "東京都", [(0, 3)]),  # 東京|都: on its own units' boundary
        ("ジャパンのパン屋", "パン", [(5, 7)]),  # bread, not the end of ジャパン
        ("出版業界の話", "業界", [(2, 4)]),  # 出版|業|界: cut finer, still the word
    ],
)
def test_a_literal_is_marked_only_where_it_is_a_word(text, literal, marked):
    assert literal_ranges(text, [literal]) == marked
