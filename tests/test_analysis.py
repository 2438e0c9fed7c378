"""The Sudachi analyzer: what gets indexed, what a query becomes, and what finds what."""

from __future__ import annotations

import pickle

import pytest

from indexer.analysis import (
    analyze,
    dictionary_readings,
    gram_runs,
    morph_analyzer,
    query_tokens,
    query_units,
    text_tokens,
)
from indexer.archive import Archive

from .conftest import import_into, write_jsonl


def texts(text: str, *, query: bool = False) -> list[str]:
    return [t.text for t in analyze(text, query=query)]


def test_compound_is_indexed_with_its_units_on_the_position_grid():
    tokens = [(t.text, t.position) for t in analyze("関西国際空港に行った")]
    assert tokens == [("関西国際空港", 0), ("関西", 0), ("国際", 1), ("空港", 2), ("行く", 3)]


def test_query_is_analyzed_into_units_only():
    assert query_units("関西国際空港") == ["関西", "国際", "空港"]


def test_offsets_point_into_the_original_text():
    text = "ｻｰﾊﾞｰと㍿と髙橋さん、DeepSeek"
    for token in analyze(text):
        assert token.end > token.start
    spans = {t.text: text[t.start : t.end] for t in analyze(text)}
    assert spans["サーバ"] == "ｻｰﾊﾞｰ"
    assert spans["高橋"] == "髙橋"
    assert spans["deepseek"] == "DeepSeek"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("サーバ", ["サーバ"]),
        ("サーバー", ["サーバ"]),
        ("コンピューター", ["コンピユータ"]),
        ("コンピュータ", ["コンピユータ"]),
        ("附属", ["付属"]),
        ("ＡＩ", ["ai"]),
        ("DeepSeek", ["deepseek"]),
        ("髙橋", ["高橋"]),
        ("行なった", ["行う"]),
    ],
)
def test_variants_fold_to_one_form(text, expected):
    assert texts(text, query=True) == expected


def test_particles_auxiliaries_and_punctuation_are_dropped():
    assert texts("空港には、行きました。") == ["空港", "行く"]


def test_text_longer_than_sudachi_accepts_is_analyzed_whole():
    sentence = "関西国際空港の新しいターミナルが完成した。"
    text = sentence * 4000  # about 250,000 UTF-8 bytes; Sudachi alone refuses 49,149
    tokens = analyze(text)
    assert sum(1 for t in tokens if t.text == "関西国際空港") == 4000
    last = [t for t in tokens if t.text == "完成"][-1]
    assert text[last.start : last.end] == "完成"
    assert last.start == len(text) - len("完成した。")
    positions = [t.position for t in tokens]
    assert positions == sorted(positions)


@pytest.mark.parametrize(
    ("word", "readings"),
    [("付け", ["付ける", "付く", "付け"]), ("嫌わ", ["嫌う"]), ("あ" * 20_000, [])],
    ids=["付け", "嫌わ", "60,000 bytes"],
)
def test_a_word_is_looked_up_in_the_dictionary_only_if_an_entry_could_be_that_long(word, readings):
    assert dictionary_readings(word) == readings


def test_analyzer_survives_pickling_as_whoosh_stores_it():
    analyzer = pickle.loads(pickle.dumps(morph_analyzer()))
    assert [t.text for t in analyzer("東京都庁")] == ["東京都庁", "東京", "都庁"]


def test_bigrams_cross_word_boundaries():
    assert list(gram_runs("東京都庁、ＡＩ")) == ["東京都庁", "ai"]


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        # A bigram across a word boundary is marked |, one within a word is not.
        ("東京都庁の展望室", ["東京", "京|都", "都庁", "展望", "望|室"]),
        ("外国人参政権", ["外国", "国|人", "人|参", "参政", "政|権"]),
        ("関西国際空港", ["関西", "西|国", "国際", "際|空", "空港"]),
        # Two whole one-character units a two-character word may stand on: +.
        ("出版業界", ["出版", "版|業", "業+界"]),
        # Katakana inside a longer katakana word: ~; bread on its own is plain.
        ("ジャパンのパン屋", ["ジヤ~", "ヤパ~", "パン~", "パン", "ン|屋"]),
        # Inside a person's name: #.
        ("市川海老蔵", ["市川#", "川|海", "海老#", "老蔵#"]),
        # ASCII runs are whole tokens; a run of two is one bigram, of one none.
        ("ＡＩと京都と空", ["ai", "京都"]),
        ("一人っ子", ["一人"]),
    ],
)
def test_the_bigram_field_says_how_the_text_is_cut_around_each_bigram(text, tokens):
    assert [t for t, *_ in text_tokens(text)] == tokens


def test_a_query_word_asks_for_the_bigrams_it_can_stand_on():
    # One unit: never across a boundary of the text.
    assert query_tokens("京都") == (frozenset({"京都", "京+都"}),)
    # 東京|都: across the text's boundary only where the query has its own.
    assert query_tokens("東京都") == (
        frozenset({"東京", "東京~"}),
        frozenset({"京都", "京都~", "京|都", "京+都"}),
    )
    assert query_tokens("ずんだもん") is None  # hiragana: not in the bigram field


DOCUMENTS = {
    "kix": "関西国際空港の発着便が増えた。",
    "server_long": "サーバーが停止した。",
    "server_short": "サーバの障害が続いた。",
    "fuzoku": "大学附属病院で手術が行われた。",
    "ai_wide": "市役所にＡＩの案内係が登場した。",
    "deepseek": "DeepSeekが新モデルを公開した。",
    "order": "空港の周辺で国際会議が開かれる。",
}


@pytest.fixture(scope="module")
def small_archive(tmp_path_factory) -> Archive:
    from .conftest import make_archive

    home = tmp_path_factory.mktemp("analysis-home")
    archive = make_archive(home)
    records = [{"title": key, "body": body} for key, body in DOCUMENTS.items()]
    summary = import_into(archive, write_jsonl(home / "docs.jsonl", records))
    assert summary.added == len(DOCUMENTS)
    return archive


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("空港", {"kix", "order"}),
        ("関西国際空港", {"kix"}),
        ("サーバ", {"server_long", "server_short"}),
        ("サーバー", {"server_long", "server_short"}),
        ("付属", {"fuzoku"}),
        ("AI", {"ai_wide"}),
        ("deepseek", {"deepseek"}),
        ('"国際 空港"', {"kix"}),
        ('"空港 国際"', set()),
    ],
)
def test_what_finds_what(small_archive, query, found):
    page = small_archive.search(query, page_size=50)
    assert {hit.title for hit in page.hits} == found
