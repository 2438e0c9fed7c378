"""The search service over a real index: syntax, ranking rules, sorting, pages, snippets."""

from __future__ import annotations

from datetime import date

import pytest
from whoosh import query as wq

from indexer.analysis import asks, query_units
from indexer.errors import QueryError
from indexer.search.ranking import FIELD_BOOSTS, WEIGHTING

from .conftest import import_into, index_store, make_archive, plan_of, write_jsonl

ARTICLES = [
    {
        "title": "関西国際空港に新ターミナル",
        "body": "関西国際空港で新しいターミナルが開業した。国際線の利用客が増えている。",
        "url": "https://www.kansai.example/news/1",
        "published_at": "2025-03-14T09:00:00+09:00",
        "category": "経済",
        "tags": ["空港", "観光"],
    },
    {
        "title": "成田の滑走路が延長",
        "body": "成田空港の滑走路を延ばす工事が終わった。発着回数が増える見込みだ。",
        "url": "https://news.tokyo.example/2",
        "published_at": "2024-06-01T12:00:00+09:00",
        "category": "社会",
        "tags": ["ＡＩ"],
    },
    {
        "title": "京都の寺で紅葉が見頃",
        "body": "京都の寺院で紅葉が見頃を迎え、観光客が朝から訪れている。",
        "url": "https://kyoto.example/3",
        "published_at": "2025-11-20T08:00:00+09:00",
        "category": "文化",
    },
    {
        "title": "都庁の展望室が改装",
        "body": "東京都庁の展望室が改装され、夜景を楽しむ人でにぎわった。",
        "url": "https://news.tokyo.example/4",
        "published_at": "2025-08-02T18:00:00+09:00",
    },
    {
        "title": "地方空港の国際便",
        "body": "地方の空港でも国際便が再開した。関西からの乗り継ぎ客も多い。",
        "url": "https://www.kansai.example/news/5",
    },
]


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    home = tmp_path_factory.mktemp("search-home")
    archive = make_archive(home)
    summary = import_into(archive, write_jsonl(home / "articles.jsonl", ARTICLES))
    assert summary.added == len(ARTICLES)
    return archive


def titles(archive, query: str, **options) -> list[str]:
    return [hit.title for hit in archive.search(query, page_size=50, **options).hits]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("空港 滑走路", {"成田の滑走路が延長"}),
        ('"国際 空港"', {"関西国際空港に新ターミナル"}),
        ("「関西国際空港」", {"関西国際空港に新ターミナル"}),
        ("紅葉 OR 滑走路", {"京都の寺で紅葉が見頃", "成田の滑走路が延長"}),
        ("空港 -成田", {"関西国際空港に新ターミナル", "地方空港の国際便"}),
        ("title:空港", {"関西国際空港に新ターミナル", "地方空港の国際便"}),
        ("空港 site:kansai.example", {"関西国際空港に新ターミナル", "地方空港の国際便"}),
        ("空港 -site:kansai.example", {"成田の滑走路が延長"}),
        ("site:tokyo.example", {"成田の滑走路が延長", "都庁の展望室が改装"}),
        ("category:文化", {"京都の寺で紅葉が見頃"}),
        ("tag:観光", {"関西国際空港に新ターミナル"}),
        # Field names in any case or width, values folded as the facets fold them.
        ("TITLE:空港", {"関西国際空港に新ターミナル", "地方空港の国際便"}),
        ("ｔｉｔｌｅ：空港", {"関西国際空港に新ターミナル", "地方空港の国際便"}),
        ("Site:KANSAI.example 空港", {"関西国際空港に新ターミナル", "地方空港の国際便"}),
        ("tag:AI", {"成田の滑走路が延長"}),
        ("tag:ａｉ", {"成田の滑走路が延長"}),
        ("滑走路 -tag:ai", set()),
        ("Category:社会", {"成田の滑走路が延長"}),
        ("東京都", {"都庁の展望室が改装"}),
    ],
)
def test_query_syntax(archive, query, expected):
    assert set(titles(archive, query)) == expected


def test_title_match_ranks_above_body_match(archive):
    ranked = titles(archive, "空港")
    assert set(ranked[:2]) == {"関西国際空港に新ターミナル", "地方空港の国際便"}
    assert ranked[-1] == "成田の滑走路が延長"


def test_a_word_inside_a_longer_one_is_found_only_where_it_is_a_word_there(archive):
    # 京都 stands inside 東京都庁 (東京|都庁) only across a word boundary: not Kyoto.
    assert titles(archive, "京都") == ["京都の寺で紅葉が見頃"]
    # 東京都 (東京|都) stands there on its own units' boundary: found.
    assert titles(archive, "東京都") == ["都庁の展望室が改装"]


def test_articles_holding_every_typed_word_rank_before_those_needing_a_synonym(tmp_path):
    # 投入 is a synonym of 投下: the first article matches 投下 対応 only through
    # it, yet 対応 in its title outscored the second article's two body words.
    archive = make_archive(tmp_path)
    articles = [
        {"title": "新型機の投入に対応", "body": "新型機の投入と対応が決まった。", "url": "u:1"},
        {"title": "記事", "body": "資金を投下して需要に対応する。", "url": "u:2"},
        {"title": "対応を急ぐ", "body": "各社が対応を急いでいる。投入は来月。", "url": "u:3"},
    ]
    import_into(archive, write_jsonl(tmp_path / "a.jsonl", articles))
    page = archive.search("投下 対応", page_size=1)
    assert page.total == 3
    assert [hit.title for hit in page.hits] == ["記事"]
    rest = [archive.search("投下 対応", page=n, page_size=1).hits[0].title for n in (2, 3)]
    assert set(rest) == {"新型機の投入に対応", "対応を急ぐ"}


def test_when_only_synonyms_give_an_article_every_word_partial_matches_are_shown(tmp_path):
    # No article holds both 投下 and 対応; one holds 投入 (a synonym) and 対応.
    archive = make_archive(tmp_path)
    articles = [
        {"title": "新型機の投入に対応", "body": "新型機の投入と対応が決まった。", "url": "u:1"},
        {"title": "資金投下の計画", "body": "資金を投下する計画がまとまった。", "url": "u:2"},
    ]
    import_into(archive, write_jsonl(tmp_path / "a.jsonl", articles))
    page = archive.search("投下 対応")
    assert page.partial
    assert {hit.title for hit in page.hits} == {"新型機の投入に対応", "資金投下の計画"}
    # A word alone, found in one article only through a synonym, is not a partial match.
    single = archive.search("投下")
    assert not single.partial and single.total == 2


def test_another_form_of_a_typed_word_is_not_a_synonym(archive):
    # 別れ and 離別 are both dictionary synonyms of 別れる; 別れ is the word itself
    # in another form (what a typo such as 別れれ also reads as), 離別 another word.
    plan = plan_of(archive, "別れる 描く")
    everything, literal = plan.strict.all_terms(), plan.literal.all_terms()
    assert {("body", "別れ"), ("body", "離別")} <= everything
    assert ("body", "別れ") in literal
    assert ("body", "離別") not in literal
    assert plan_of(archive, "関西 ターミナル").literal is None  # no synonyms


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        ("ThinkPadをNECで生産へ 2012年秋より日本で試験生産【デジ通】", True),
        ("関西国際空港で新しいターミナルが開業した", True),
        ("新型コロナウイルス感染症 ワクチン", False),
        ("関西国際空港 成田", False),
        ('関西国際空港で新しいターミナルが開業した "利用客"', False),
    ],
)
def test_a_pasted_headline_reads_as_a_sentence_even_with_a_space(archive, text, sentence):
    # A run of words with particles between them is prose; a long compound is a keyword.
    assert plan_of(archive, text).sentence is sentence


def test_a_headline_with_a_space_ranks_by_its_words_without_requiring_them_all(archive):
    page = archive.search("関西国際空港で新しいターミナルが開業 利用客は減る見込み")
    assert not page.partial
    assert page.hits[0].title == "関西国際空港に新ターミナル"


def test_all_words_first_then_partial_matches_only_when_none_has_them_all(archive):
    strict = archive.search("空港 滑走路")
    assert not strict.partial and strict.total == 1
    partial = archive.search("滑走路 紅葉 展望室")
    assert partial.partial
    assert partial.total == 3


def test_a_quoted_phrase_is_never_relaxed(archive):
    page = archive.search('"空港 京都"')
    assert page.total == 0 and not page.partial


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        (
            "newest",
            [
                "京都の寺で紅葉が見頃",
                "都庁の展望室が改装",
                "関西国際空港に新ターミナル",
                "成田の滑走路が延長",
                "地方空港の国際便",
            ],
        ),
        (
            "oldest",
            [
                "成田の滑走路が延長",
                "関西国際空港に新ターミナル",
                "都庁の展望室が改装",
                "京都の寺で紅葉が見頃",
                "地方空港の国際便",
            ],
        ),
    ],
)
def test_sorting_by_date_puts_undated_articles_last(archive, sort, expected):
    assert titles(archive, "空港 OR 京都 OR 都庁", sort=sort) == expected


def test_date_range(archive):
    found = titles(
        archive, "空港 OR 京都 OR 都庁", date_from=date(2025, 1, 1), date_to=date(2025, 8, 2)
    )
    assert set(found) == {"関西国際空港に新ターミナル", "都庁の展望室が改装"}


def test_pagination(archive):
    first = archive.search("空港 OR 京都 OR 都庁", page=1, page_size=2, sort="newest")
    third = archive.search("空港 OR 京都 OR 都庁", page=3, page_size=2, sort="newest")
    assert first.total == third.total == 5
    assert first.pages == 3
    assert (first.first, first.last) == (1, 2)
    assert [h.title for h in third.hits] == ["地方空港の国際便"]
    assert (third.first, third.last) == (5, 5)
    beyond = archive.search("空港", page=9)
    assert beyond.hits == () and beyond.total == 3


def test_snippet_marks_the_matched_words(archive):
    [hit] = archive.search("滑走路").hits
    assert "滑走路" in hit.snippet.marked
    assert "<mark>滑走路</mark>" in hit.snippet.html()
    assert hit.title_marked.marked == ("滑走路",)


def test_snippet_marks_a_substring_match(archive):
    hits = archive.search("東京都").hits
    assert hits[0].snippet.marked == ("東京都",)


def test_query_is_shown_as_analyzed(archive):
    page = archive.search("関西国際空港 -成田")
    assert [(t.text, t.forms, t.negated) for t in page.terms] == [
        ("関西国際空港", ("関西", "国際", "空港"), False),
        ("成田", ("成田",), True),
    ]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "検索語を入力してください"),
        ("   ", "検索語を入力してください"),
        ("-成田", "除外する語"),
        ("の", "検索できる語がありません"),
        ("、。", "検索できる語がありません"),
        ("title:", "title: の後に"),
        ("site:", "site: の後に"),
    ],
)
def test_unusable_queries_get_a_helpful_message(archive, query, message):
    with pytest.raises(QueryError, match=message):
        archive.search(query)


@pytest.mark.parametrize(
    "query", ['"', "OR", "- -", "((空港", "空港 OR", 'title:"', "site:a b:c", "\x00", "空港" * 300]
)
def test_odd_queries_never_raise_anything_but_a_query_error(archive, query):
    try:
        archive.search(query)
    except QueryError:
        pass


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"sort": "random"}, "並べ替え"),
        ({"page": 0}, "ページ"),
        ({"page_size": 1000}, "件数"),
        ({"date_from": date(2025, 2, 1), "date_to": date(2025, 1, 1)}, "開始日"),
    ],
)
def test_bad_options_get_a_helpful_message(archive, options, message):
    with pytest.raises(QueryError, match=message):
        archive.search("空港", **options)


def test_a_title_is_shown_whole_with_its_matches_marked(archive):
    [hit] = archive.search("ターミナル").hits
    assert hit.title_marked.text() == "関西国際空港に新ターミナル"
    assert hit.title_marked.marked == ("ターミナル",)


def test_related_articles_come_from_what_an_article_opens_with(home, tmp_path):
    """A long article's related ones are found from its opening, not from all of its text."""
    opening = "関西国際空港の新ターミナルが完成し、出国手続きの待ち時間が短縮された。" * 170
    rest = "京都の寺院で紅葉が見頃を迎え、観光客が朝から訪れている。" * 4000
    archive = make_archive(home)
    import_into(
        archive,
        write_jsonl(
            tmp_path / "long.jsonl",
            [
                {"title": "空港の長い記事", "body": opening + rest},
                {"title": "関西の空港", "body": "関西国際空港の出国手続きについて。"},
                {"title": "京都の秋", "body": "京都の寺院の紅葉と観光について。"},
            ],
        ),
    )
    long_id = archive.search("空港の長い記事").hits[0].id
    assert [r.title for r in archive.related(long_id)] == ["関西の空港"]


@pytest.fixture(scope="module")
def old_and_new(tmp_path_factory):
    """Articles from the Meiji era, the 1960s and 2025: older than 1970 is older than Unix time."""
    home = tmp_path_factory.mktemp("old-and-new")
    archive = make_archive(home)
    summary = import_into(
        archive,
        write_jsonl(
            home.parent / f"{home.name}.jsonl",
            [
                {
                    "title": "明治の鉄道記事",
                    "body": "鉄道が開業した。",
                    "published_at": "明治5年10月14日",
                },
                {
                    "title": "昭和の鉄道記事",
                    "body": "新幹線の鉄道が開業した。",
                    "published_at": "1964-10-01",
                },
                {
                    "title": "令和の鉄道記事",
                    "body": "新しい鉄道の駅が開業した。",
                    "published_at": "2025-03-15",
                },
            ],
        ),
    )
    assert summary.ok and summary.added == 3, summary
    return archive


@pytest.mark.parametrize("sort", ["oldest", "newest"])
def test_articles_older_than_1970_are_indexed_and_sorted_by_their_dates(old_and_new, sort):
    """(A date before 1970 made Whoosh refuse the whole batch: the first import built no index.)"""
    titles = [h.title for h in old_and_new.search("鉄道", sort=sort).hits]
    oldest_first = ["明治の鉄道記事", "昭和の鉄道記事", "令和の鉄道記事"]
    assert titles == (oldest_first if sort == "oldest" else oldest_first[::-1])


@pytest.mark.parametrize(
    ("dates", "found"),
    [
        (("1970-01-01", None), {"令和の鉄道記事"}),
        (("1868-01-01", "1969-12-31"), {"明治の鉄道記事", "昭和の鉄道記事"}),
        ((None, "1900-01-01"), {"明治の鉄道記事"}),
        (("1964-10-01", None), {"昭和の鉄道記事", "令和の鉄道記事"}),
    ],
)
def test_a_date_filter_before_1970_is_searched(old_and_new, dates, found):
    """A day before 1970 begins at a negative Unix time, which the index refused (a 500)."""
    date_from, date_to = dates
    page = old_and_new.search("鉄道", date_from=date_from, date_to=date_to)
    assert {h.title for h in page.hits} == found


def test_equal_scores_go_newest_first_and_stay_so_after_a_rebuild(home, tmp_path):
    archive = make_archive(home)
    import_into(
        archive,
        write_jsonl(
            tmp_path / "ties.jsonl",
            [
                {"title": "港の話一", "body": "港に船が着いた。", "published_at": "2020-05-01"},
                {"title": "港の話二", "body": "港に船が来た。"},
                {"title": "港の話三", "body": "港に船が出た。", "published_at": "2024-05-01"},
                {"title": "港の話四", "body": "港に船が寄った。", "published_at": "2022-05-01"},
            ],
        ),
    )
    page = archive.search("港 船")
    assert len({round(h.score, 6) for h in page.hits}) == 1  # a real tie
    expected = ["港の話三", "港の話四", "港の話一", "港の話二"]
    assert [h.title for h in page.hits] == expected
    archive.reindex()
    assert [h.title for h in archive.search("港 船").hits] == expected


def test_an_article_holding_a_long_katakana_word_is_scored_for_the_word(home, tmp_path):
    """Its bigrams (スマ, マー, ート …) count only where the word itself is not found."""
    archive = make_archive(home)
    holding = {"title": "新機種の発表会", "body": "各社がスマートフォンの新機種を発表した。"}
    inside = {"title": "利用者の声", "body": "ノンスマートフォン派の人が増えている。"}
    import_into(archive, write_jsonl(tmp_path / "a.jsonl", [holding, inside]))
    hits = archive.search("スマートフォン").hits
    assert [h.title for h in hits] == [holding["title"], inside["title"]]  # the word first
    [unit] = query_units("スマートフォン")
    word = wq.Or([wq.Term(field, unit, boost=boost) for field, boost in FIELD_BOOSTS.items()])
    with index_store(archive).open().searcher(weighting=WEIGHTING) as searcher:
        [reference] = searcher.search(word, limit=None)  # Whoosh, the word alone
        assert reference["id"] == str(hits[0].id)
        assert hits[0].score == pytest.approx(reference.score, rel=1e-9)


@pytest.mark.parametrize("query", ['"国際 空港"', "「国際空港」", "“国際空港”"])
def test_a_phrase_marks_where_it_stands_and_nowhere_else(archive, query):
    """国際 in 国際線 and 空港 alone are not the phrase: they stay unmarked."""
    [hit] = archive.search(query).hits
    assert hit.title_marked.marked == ("国際空港",)
    assert hit.snippet.marked == ("国際空港",)
    record = archive.article(hit.id)
    assert archive.highlighter(query).whole(record.body).marked == ("国際空港",)


def test_a_title_word_is_marked_in_titles_only(archive):
    page = archive.search("title:空港 国際便")
    [hit] = page.hits
    assert hit.title_marked.marked == ("空港", "国際便") and "空港" not in hit.snippet.marked


@pytest.mark.parametrize(
    ("typed", "suggested"),
    [("iphon", "iPhone"), ("ダルビシュ", "ダルビッシュ"), ("ウインドウズ11", None)],
)
def test_a_suggestion_is_written_as_the_archive_writes_it(tmp_path, typed, suggested):
    """The index keeps folded forms (iphone, ダルビツシユ); a suggestion shows an article's."""
    archive = make_archive(tmp_path / "home")
    records = [
        {"title": "新型iPhoneの発売日", "body": "アップルは新しいiPhoneを発表した。"},
        {"title": "ダルビッシュが好投", "body": "ダルビッシュ投手が7回を無失点に抑えた。"},
    ]
    import_into(archive, write_jsonl(tmp_path / "a.jsonl", records))
    assert archive.search(typed).suggestion == suggested
    archive.close()


def test_the_api_shows_the_words_as_written_not_as_folded(archive):
    terms = archive.search("スマートフォン iPhone").to_json()["terms"]
    assert [t["units"] for t in terms] == [["スマートフォン"], ["iPhone"]]


UNKNOWN = [
    {
        "title": "聖夜の演奏会",
        "body": "子どもたちがジングルベルを歌い、会場から大きな拍手が起きた。",
    },
    {
        "title": "量子の計算機",
        "body": "量子コンピュータの試作機が公開された。もんじゃ焼きの店も出た。",
    },
    {"title": "電話の発明", "body": "グラハム・ベルは電話を発明したとされる。"},
]


@pytest.fixture(scope="module")
def unknown_archive(tmp_path_factory):
    home = tmp_path_factory.mktemp("unknown-home")
    archive = make_archive(home)
    import_into(archive, write_jsonl(home / "a.jsonl", UNKNOWN))
    yield archive
    archive.close()


@pytest.mark.parametrize(
    ("query", "partial", "not_found"),
    [
        # A name written with ・ is matched whole: not ベル in ジングルベル, and no article
        # holds the whole name, so what is shown is said to be partial.
        ("アレクサンダー・グラハム・ベルはどこで生まれた？", True, {"聖夜の演奏会"}),
        ("グラハム・ベル", False, {"聖夜の演奏会"}),
        # ずんだもん is not in the dictionary; ずん is all of it the index can hold.
        ("ずんだもん", True, set()),
        ("ずんだもん量子コンピュータ", True, set()),
        ("量子コンピュータ", False, set()),
    ],
)
def test_a_query_matched_only_by_fragments_says_so(unknown_archive, query, partial, not_found):
    page = unknown_archive.search(query)
    assert page.partial is partial
    assert page.to_json()["partial"] is partial
    assert not not_found & {hit.title for hit in page.hits}


@pytest.mark.parametrize(
    ("text", "asking"),
    [
        ("ゾング号の乗組員は何人か", True),
        ("文周王が即位したのはいつ？", True),
        ("この条約を結んだ国はどこ", True),
        ("量子コンピュータとは？", True),
        ("新しい駅はどのように設計されたか", True),
        ("台風が上陸したか", True),
        ("ゾング号の乗組員を救助", False),
        ("大手電機メーカーが半導体事業を買収か", False),
        ("関西国際空港で新しいターミナルが開業した", False),
    ],
)
def test_a_question_is_told_from_a_headline(text, asking):
    assert asks(text) is asking


# The same words, the same length: one article says it in its opening lines,
# the other only after a long preamble.  Stored first, the second would win a tie.
_PREAMBLE = "町内の公園では毎朝体操が行われており、参加者は年々増えているという。" * 8
LEAD_ARTICLES = [
    {
        "title": "町の話題",
        "body": _PREAMBLE + "市立図書館が蔵書の電子化を始めたと発表した。",
        "url": "https://town.example/late",
    },
    {
        "title": "町の話題",
        "body": "市立図書館が蔵書の電子化を始めたと発表した。" + _PREAMBLE,
        "url": "https://town.example/lead",
    },
]


@pytest.fixture(scope="module")
def lead_archive(tmp_path_factory):
    home = tmp_path_factory.mktemp("lead-home")
    archive = make_archive(home)
    import_into(archive, write_jsonl(home / "articles.jsonl", LEAD_ARTICLES))
    return archive


def test_a_headline_ranks_the_article_that_opens_with_it_first(lead_archive):
    page = lead_archive.search("市立図書館が蔵書の電子化を開始")
    assert [hit.url for hit in page.hits] == [
        "https://town.example/lead",
        "https://town.example/late",
    ]


def test_only_a_headline_reads_the_lead(lead_archive):
    def fields(text):
        return {field for field, _ in plan_of(lead_archive, text).strict.all_terms()}

    assert "lead" in fields("市立図書館が蔵書の電子化を開始")
    assert "lead" not in fields("市立図書館が電子化を始めたのはいつ？")
    assert "lead" not in fields("図書館 電子化")
