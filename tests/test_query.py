"""The query language: parsing, and printing a parsed query back (for suggestions)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from indexer.errors import QueryError
from indexer.search.query import Clause, Filter, ParsedQuery, Word, format_query, parse_query


@pytest.mark.parametrize(
    ("text", "printed"),
    [
        ("空港 台風", "空港 台風"),
        ('"国際 空港"', '"国際 空港"'),
        ("「国際空港」", '"国際空港"'),
        ("京都 OR 奈良 -東京", "京都 OR 奈良 -東京"),
        ("title:空港 site:Example.jp -site:x.jp", "title:空港 site:example.jp -site:x.jp"),
        ("category:経済 空港 tag:AI", "空港 category:経済 tag:AI"),
        ("TITLE:空港 Tag:ＡＩ", "title:空港 tag:ＡＩ"),
        ('-"国際 空港" title:"新 ターミナル"', '-"国際 空港" title:"新 ターミナル"'),
        ("「天洋丸」が沈んだのはなぜ？", "「天洋丸」が沈んだのはなぜ？"),
        ('"彼は「はい」と言った"', '"彼は「はい」と言った"'),
        ('「"引用"の話」', '“"引用"の話”'),
        ("“あげまん女”って何ですか？", "“あげまん女”って何ですか？"),
        ("新生活を“いつもの音楽”で彩る", "新生活を“いつもの音楽”で彩る"),
        ("“国際 空港”", '"国際 空港"'),
    ],
)
def test_a_parsed_query_prints_back_to_the_same_query(text, printed):
    parsed = parse_query(text)
    assert format_query(parsed) == printed
    assert parse_query(printed) == parsed


_WORD_TEXT = st.text(st.sampled_from('空港台風京都 ab「」"“-:OR'), min_size=1, max_size=8)


@st.composite
def parsed_queries(draw) -> ParsedQuery:
    """Queries as the parser makes them: words (some quoted or title:), OR, -, filters,
    each clause, alternative and filter once."""
    clauses = []
    for _ in range(draw(st.integers(1, 4))):
        negated = bool(clauses) and draw(st.booleans())
        count = 1 if negated else draw(st.integers(1, 3))
        words = []
        for _ in range(count):
            phrase = draw(st.booleans())
            text = draw(_WORD_TEXT).strip()
            text = text if phrase else "".join(c for c in text if c not in ' 「」"“-:')
            if not text or (not phrase and text in ("OR",)):
                text = "語"
            words.append(Word(text, draw(st.sampled_from([None, "title"])), phrase))
        clause = Clause(tuple(dict.fromkeys(words)), negated)
        if clause not in clauses:
            clauses.append(clause)
    filters = tuple(
        dict.fromkeys(
            Filter(field, value, draw(st.booleans()))
            for field, value in draw(
                st.lists(
                    st.tuples(st.sampled_from(["site", "tag"]), st.sampled_from(["a.jp", "ai"]))
                )
            )
        )
    )
    return ParsedQuery(tuple(clauses), filters)


@given(parsed_queries())
def test_printing_then_parsing_gives_the_same_query(query):
    assert parse_query(format_query(query)) == query


def test_replacing_words_keeps_everything_else():
    parsed = parse_query('関西国祭空港 OR 成田 "出国 手続き" -羽田 site:ldnews.example')
    mended = parsed.replace_words({Word("関西国祭空港"): Word("関西国際空港"), Word("成田"): None})
    assert format_query(mended) == '関西国際空港 "出国 手続き" -羽田 site:ldnews.example'


@pytest.mark.parametrize(
    ("text", "printed"),
    [
        ("空港 空港 空港", "空港"),
        ("京都 OR 京都 OR 奈良", "京都 OR 奈良"),
        ("空港 -成田 -成田 site:a.jp site:a.jp", "空港 -成田 site:a.jp"),
        ("ほげ " * 333, "ほげ"),
        (" ".join(f"語{i}" for i in range(32)), " ".join(f"語{i}" for i in range(32))),
    ],
    ids=["word", "alternative", "exclusion and filter", "333 times", "32 words"],
)
def test_a_repeated_word_is_asked_for_once(text, printed):
    assert format_query(parse_query(text)) == printed


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("空" * 1001, "検索語が長すぎます（1,001文字）。1,000文字までにしてください。"),
        ("あ" * 20_000, "検索語が長すぎます（20,000文字）"),
        (" ".join(f"語{i}" for i in range(33)), "検索語が多すぎます（33語）。32語まで"),
        (" ".join(f"語{i}" for i in range(30)) + " site:a.jp tag:x tag:y", "多すぎます（33語）"),
    ],
    ids=["1,001 characters", "20,000 characters", "33 words", "30 words and 3 filters"],
)
def test_a_query_past_the_limits_is_refused_with_a_message(text, message):
    with pytest.raises(QueryError) as error:
        parse_query(text)
    assert message in str(error.value)
