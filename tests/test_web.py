"""The Flask app through its test client: pages, JSON API, errors, escaping."""

from __future__ import annotations

import json
import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner

from indexer.cli import cli

from .conftest import BACKENDS, SAMPLE, SAMPLE_ARTICLES, import_into, make_archive, write_jsonl


@pytest.fixture(params=BACKENDS)
def sample_archive(request, monkeypatch):
    """The sample archive on each backend, also named in the environment for the CLI."""
    if request.param == "sqlite":
        home, url = request.getfixturevalue("sample_home"), None
        monkeypatch.delenv("ARCHIVE_DATABASE_URL", raising=False)
    else:
        home, url = request.getfixturevalue("sample_postgres")
        monkeypatch.setenv("ARCHIVE_DATABASE_URL", url)
    monkeypatch.setenv("ARCHIVE_HOME", str(home))
    with make_archive(home, url) as archive:
        yield archive


@pytest.fixture
def client(sample_archive, open_client):
    settings = sample_archive.settings
    return open_client(ARCHIVE_HOME=str(settings.home), ARCHIVE_DATABASE_URL=settings.database_url)


def page_text(response) -> str:
    return response.get_data(as_text=True)


def test_search_page_is_japanese_and_shows_results(client):
    response = client.get("/", query_string={"q": "空港"})
    html = page_text(response)
    assert response.status_code == 200
    assert '<html lang="ja">' in html
    assert "1件中 1〜1件目" in html
    assert "関西国際<mark>空港</mark>の新国際線エリアが完成" in html
    assert 'href="/articles/' in html
    assert '<span class="unit">空港</span>' in html


def test_front_page_without_a_query_shows_the_form(client):
    html = page_text(client.get("/"))
    assert 'name="q"' in html
    assert f"{SAMPLE_ARTICLES}件の記事を収録" in html


def test_pagination_links_keep_the_query(client):
    first = page_text(client.get("/", query_string={"q": "観光", "sort": "newest", "limit": 2}))
    assert first.count('class="hit"') == 2
    next_link = first.split('rel="next" href="')[1].split('"')[0].replace("&amp;", "&")
    assert "page=2" in next_link and "sort=newest" in next_link and "limit=2" in next_link
    second = page_text(client.get(next_link))
    assert "件中 3〜4件目" in second
    assert 'rel="prev"' in second


def test_sort_choice_is_applied(client):
    html = page_text(client.get("/", query_string={"q": "観光", "sort": "oldest"}))
    dates = [part.split('"')[0] for part in html.split('<time datetime="')[1:]]
    assert dates == sorted(dates)


def test_article_page_has_metadata_and_marked_body(client, sample_archive):
    hit = sample_archive.search("京都").hits[0]
    response = client.get(f"/articles/{hit.id}", query_string={"q": "京都"})
    html = page_text(response)
    assert response.status_code == 200
    # The title is marked as the body is.
    assert (
        "<h1><mark>京都</mark>の寺院で紅葉が見頃を迎え、早朝から多くの観光客が訪れています</h1>"
        in html
    )
    assert "<mark>京都</mark>" in html
    assert 'href="https://kinki-times.example/kyoto-koyo-kankou-post118204.html"' in html
    assert "KNA" in html
    assert "<dd>kyoto-koyo.txt（text）</dd>" in html
    assert str(SAMPLE) not in html


def test_json_api_matches_the_cli(client):
    api = client.get("/api/search", query_string={"q": "サーバ", "limit": 5}).get_json()
    cli_json = json.loads(
        CliRunner().invoke(cli, ["search", "--json", "--limit", "5", "サーバ"]).output
    )
    assert api == cli_json
    assert api["total"] == 2
    article_id = api["hits"][0]["id"]
    record = client.get(f"/api/articles/{article_id}").get_json()
    shown = json.loads(CliRunner().invoke(cli, ["show", "--json", str(article_id)]).output)
    assert shown["source_path"].startswith(str(SAMPLE))
    # Where the importing machine keeps its files is for the command line only; the API
    # adds the article's story and the articles related to it.
    assert {k: v for k, v in record.items() if k not in ("copies", "related")} == {
        k: v for k, v in shown.items() if k != "source_path"
    }


def test_every_article_of_a_story_carries_its_id_and_lists_the_others(client, sample_archive):
    """The sample's wire story: its first article carries the story's id as its copies do."""
    [hit] = sample_archive.search("リチウム", group=True, sort="oldest").hits[:1]
    members = sorted([hit.id, *(c.id for c in hit.copies)])
    assert len(members) == 3
    records = {i: client.get(f"/api/articles/{i}").get_json() for i in members}
    assert {r["story_id"] for r in records.values()} == {members[0]}
    for article_id, record in records.items():
        assert sorted(c["id"] for c in record["copies"]) == [m for m in members if m != article_id]
        assert all(c["title"] for c in record["copies"])
        # Related articles are other stories: a copy is listed as such, not as related.
        assert not {r["id"] for r in record["related"]} & set(members)
        assert all(isinstance(r["id"], int) and r["title"] for r in record["related"])
    alone = client.get(f"/api/articles/{sample_archive.search('京都').hits[0].id}").get_json()
    assert alone["story_id"] is None and alone["copies"] == []


def test_hits_carry_author_category_and_tags(client, sample_archive):
    hits = client.get("/api/search", query_string={"q": "リチウム", "group": 0}).get_json()["hits"]
    records = {r.id: r for r in sample_archive.articles([h["id"] for h in hits])}
    assert hits and any(h["author"] for h in hits) and any(h["tags"] for h in hits)
    for found in hits:
        record = records[found["id"]]
        assert found["author"] == record.author
        assert found["category"] == record.category
        assert found["tags"] == list(record.tags)


@pytest.mark.parametrize(
    ("path", "status", "text"),
    [
        ("/?q=の", 400, "検索できる語がありません"),
        ("/?q=空港&page=abc", 400, "page は整数で"),
        ("/?q=空港&sort=random", 400, "並べ替え"),
        ("/?q=空港&undated=maybe", 400, "undated は 1 か 0 で"),
        ("/?not_site=" + "x" * 301, 400, "site が長すぎます"),
        (f"/?q=空港&from=2025-01-20{'+' * 200}x", 400, "日付が長すぎます"),
        ("/articles/99999", 404, "記事が見つかりません"),
        ("/articles/99999999999999999999", 404, "記事が見つかりません"),
        ("/articles/0", 404, "記事が見つかりません"),
        ("/articles/abc", 404, "ページが見つかりません"),
        ("/no/such/page", 404, "ページが見つかりません"),
    ],
)
def test_errors_are_pages_with_the_right_status(client, path, status, text):
    response = client.get(path)
    assert response.status_code == status
    html = page_text(response)
    assert text in html
    assert "Traceback" not in html


@pytest.mark.parametrize(
    ("path", "status", "code", "parameter"),
    [
        ("/api/search?q=", 400, "bad_parameter", "q"),
        ("/api/search?q=の", 400, "bad_parameter", "q"),
        (f"/api/search?q=空港&to=2025-01-20{'+' * 200}x", 400, "bad_parameter", "to"),
        ("/api/search?q=空港&from=2025-02-01&to=2025-01-01", 400, "bad_parameter", "from"),
        ("/api/search?q=空港&limit=x", 400, "bad_parameter", "limit"),
        ("/api/search?q=空港&limit=0", 400, "bad_parameter", "limit"),
        ("/api/search?q=空港&page=0", 400, "bad_parameter", "page"),
        ("/api/search?q=空港&sort=random", 400, "bad_parameter", "sort"),
        ("/api/search?q=空港&group=maybe", 400, "bad_parameter", "group"),
        ("/api/search?q=空港&site=" + "x" * 400, 400, "bad_parameter", "site"),
        ("/api/search/export?q=空港&format=xlsx", 400, "bad_parameter", "format"),
        ("/api/search/export?q=の", 400, "bad_parameter", "q"),
        ("/api/articles/99999", 404, "article_not_found", None),
        ("/api/articles/99999999999999999999", 404, "article_not_found", None),
        ("/api/nothing", 404, "not_found", None),
    ],
)
def test_api_errors_are_json(client, path, status, code, parameter):
    """Every API error: {"error": {"code", "parameter", "message"}}, the message in Japanese."""
    response = client.get(path)
    assert response.status_code == status
    error = response.get_json()["error"]
    assert set(error) == {"code", "parameter", "message"}
    assert (error["code"], error["parameter"]) == (code, parameter)
    assert re.search("[\u3040-\u30ff\u4e00-\u9fff]", error["message"]), error


def test_post_is_refused_politely(client):
    response = client.post("/")
    assert response.status_code == 405
    assert "この方法では使えません" in page_text(response)


def test_everything_from_an_article_or_a_query_is_escaped(archive, home, open_client, tmp_path):
    evil = '<script>alert("x")</script>'
    import_into(
        archive,
        write_jsonl(
            tmp_path / "evil.jsonl",
            [
                {
                    "title": f"危険な見出し{evil}",
                    "body": f"本文に{evil}が入った記事。",
                    "url": "javascript:alert(1)",
                    "tags": [evil],
                    "category": evil,
                }
            ],
        ),
    )
    client = open_client(ARCHIVE_HOME=str(home))
    search_html = page_text(client.get("/", query_string={"q": f"危険 {evil}"}))
    article_id = archive.search("危険").hits[0].id
    article_html = page_text(client.get(f"/articles/{article_id}", query_string={"q": evil}))
    for html in (search_html, article_html):
        assert "<script>" not in html
        assert "&lt;script&gt;" in html
    assert 'href="javascript:' not in article_html


def test_missing_index_is_a_clear_page(home, open_client):
    client = open_client(ARCHIVE_HOME=str(home))
    response = client.get("/", query_string={"q": "空港"})
    assert response.status_code == 503
    assert "索引がありません" in page_text(response)


@pytest.mark.parametrize("limit", ["", "1"])
def test_a_page_past_the_end_says_so_and_links_to_the_last_page(client, limit):
    html = page_text(client.get("/", query_string={"q": "観光", "page": 999, "limit": limit}))
    assert "999ページ目には結果がありません" in html and "0〜0件目" not in html
    assert 'class="hit"' not in html
    total, pages = map(int, re.search(r"(\d+)件（全(\d+)ページ）", html).groups())
    assert pages == (total if limit else 1) and total > 1
    assert f"最後のページ（{pages}ページ目）へ" in html
    assert 'rel="prev"' not in html  # no 前へ to page 998, past the end too
    if pages > 1:
        link = re.search(r'<a href="([^"]+)">最後のページ', html).group(1).replace("&amp;", "&")
        assert f"page={pages}" in link
        assert f"{pages}〜{pages}件目" in page_text(client.get(link))


def test_a_mistyped_query_gets_a_did_you_mean_link(client):
    html = page_text(client.get("/", query_string={"q": "関西国祭空港"}))
    assert "もしかして" in html
    assert 'href="/?q=%E9%96%A2%E8%A5%BF%E5%9B%BD%E9%9A%9B%E7%A9%BA%E6%B8%AF' in html


@pytest.mark.parametrize(
    "args",
    [
        {"q": "関西国祭空港 category:経済"},  # the airport article has no category
        {"q": "関西国祭空港", "from": "2030-01-01"},
        {"q": "量子"},  # a word of the dictionary the archive does not hold: no slip to mend
        {"q": "空巷"},  # two characters: 空港, 空間, 空気 … lie one slip away
    ],
)
def test_no_suggestion_is_shown_that_would_not_find_more(client, args):
    html = page_text(client.get("/", query_string=args))
    assert "もしかして" not in html


def test_the_page_shows_synonyms_it_searched(client):
    html = page_text(client.get("/", query_string={"q": "米国"}))
    assert "同義語: " in html and "アメリカ" in html
    assert "高橋投手が<mark>アメリカ</mark>で初勝利" in html


def test_article_page_lists_related_articles(client, sample_archive):
    hit = sample_archive.search("使用済み電池").hits[0]
    html = page_text(client.get(f"/articles/{hit.id}"))
    assert "関連する記事" in html
    related = html.split("関連する記事")[1]
    assert "海水からリチウムを効率よく回収" in related  # battery recycling ~ lithium from seawater


def test_an_article_with_nothing_alike_lists_no_related_articles(client, sample_archive):
    hit = sample_archive.search("関西国際空港").hits[0]
    html = page_text(client.get(f"/articles/{hit.id}"))
    assert "関連する記事" not in html


def test_the_article_page_marks_the_synonyms_the_results_marked(client):
    results = page_text(client.get("/", query_string={"q": "米国"}))
    [hit] = [h for h in results.split('<li class="hit">')[1:] if "<mark>アメリカ</mark>" in h]
    link = hit.split('<h2><a href="')[1].split('"')[0].replace("&amp;", "&")
    assert parse_qs(urlsplit(link).query)["q"] == ["米国"]
    article = page_text(client.get(link))
    assert "<mark>アメリカ</mark>" in article


@pytest.mark.parametrize(
    ("query", "kept"),
    [
        ("関西国祭空港 site:ldnews.example", "関西国際空港 site:ldnews.example"),
        ('関西国祭空港 "出国 手続き"', '関西国際空港 "出国 手続き"'),
        ("関西国祭空港 -成田 -category:経済", "関西国際空港 -成田 -category:経済"),
    ],
)
def test_a_suggestion_keeps_the_rest_of_the_query_and_the_form(client, query, kept):
    args = {"q": query, "sort": "newest", "from": "2025-01-01", "to": "2025-12-31", "limit": "5"}
    html = page_text(client.get("/", query_string=args))
    suggestion = html.split('<p class="suggestion">')[1].split("</p>")[0]
    link = suggestion.split('href="')[1].split('"')[0].replace("&amp;", "&")
    assert parse_qs(urlsplit(link).query) == {
        "q": [kept],
        "sort": ["newest"],
        "from": ["2025-01-01"],
        "to": ["2025-12-31"],
        "limit": ["5"],
    }


@pytest.mark.parametrize(
    "args",
    [
        {"q": ["京都"], "sort": ["oldest"], "limit": ["3"]},
        {"q": ["京都"], "limit": ["1"], "page": ["2"], "site": ["a.example", "b.example"]},
        {"site": ["kinki-times.example"], "not_tag": ["観光", "寺"], "undated": ["1"]},
        {"sort": ["newest"], "page": ["3"]},
    ],
)
def test_the_way_back_from_an_article_keeps_the_whole_search(client, sample_archive, args):
    article_id = sample_archive.search("京都").hits[0].id
    html = page_text(client.get(f"/articles/{article_id}", query_string=args))
    back = html.split("検索結果に戻る")[0].rsplit('href="', 1)[1].split('"')[0]
    assert parse_qs(urlsplit(back.replace("&amp;", "&")).query) == args
    assert ("「京都」の検索結果に戻る" in html) == ("q" in args)


def test_an_article_opened_from_a_result_links_back_with_its_page(client):
    html = page_text(client.get("/", query_string={"q": "観光", "limit": 1, "page": 2}))
    opened = html.split('<ol class="hits">')[1].split('href="')[1].split('"')[0]
    article = page_text(client.get(opened.replace("&amp;", "&")))
    back = article.split("検索結果に戻る")[0].rsplit('href="', 1)[1].split('"')[0]
    assert parse_qs(urlsplit(back.replace("&amp;", "&")).query) == {
        "q": ["観光"],
        "limit": ["1"],
        "page": ["2"],
    }


def test_an_article_opened_from_nowhere_has_no_way_back_but_a_search_box(client, sample_archive):
    article_id = sample_archive.search("京都").hits[0].id
    html = page_text(client.get(f"/articles/{article_id}"))
    assert "検索結果に戻る" not in html
    assert '<form class="search"' in html and 'name="q" value=""' in html


def test_an_articles_title_is_marked_and_its_site_category_and_tags_are_searches(
    client, sample_archive
):
    hit = sample_archive.search("関西国際空港").hits[0]
    article = sample_archive.article(hit.id)
    html = page_text(client.get(f"/articles/{hit.id}", query_string={"q": "空港"}))
    heading = html.split("<h1>")[1].split("</h1>")[0]
    assert "<mark>空港</mark>" in heading
    assert 'value="空港"' in html  # the box holds the search
    links = re.findall(r'<a href="(/\?[^"]+)">([^<]+)</a>', html.split('class="metadata"')[1])
    shown = {text: parse_qs(urlsplit(href.replace("&amp;", "&")).query) for href, text in links}
    assert shown[article.site] == {"site": [article.site]}
    if article.category:
        assert shown[article.category] == {"category": [article.category]}
    for tag in article.tags:
        assert shown[tag] == {"tag": [tag]}
    unmarked = page_text(client.get(f"/articles/{hit.id}"))
    assert "<mark>" not in unmarked.split("<h1>")[1].split("</h1>")[0]


def test_every_page_writes_times_one_way(client, sample_archive):
    hit = sample_archive.search("関西国際空港").hits[0]
    pages = [
        page_text(client.get("/")),
        page_text(client.get("/", query_string={"q": "空港"})),
        page_text(client.get(f"/articles/{hit.id}")),
    ]
    for html in pages:
        shown = re.findall(r"<time datetime=\"[^\"]+\">([^<]+)</time>", html)
        assert shown, html[:200]
        for text in shown:
            assert re.fullmatch(r"\d{4}年\d{2}月\d{2}日 \d{2}:\d{2}", text), text
    assert "2025年03月14日 09:30" in pages[2]


# One unspaced word of 60,000 UTF-8 bytes: more than Sudachi takes in one piece.
LONG_WORD = "あ" * 20_000


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("空港" * 501, "検索語が長すぎます（1,002文字）。1,000文字まで"),
        (LONG_WORD, "検索語が長すぎます（20,000文字）"),
        (" ".join(f"語{i}" for i in range(40)), "検索語が多すぎます（40語）。32語まで"),
    ],
    ids=["1,002 characters", "60,000 bytes unspaced", "40 words"],
)
def test_a_query_past_the_limits_is_a_400_page_or_json_error(client, query, message):
    page = client.get("/", query_string={"q": query})
    assert page.status_code == 400
    assert message in page_text(page)
    assert 'name="q"' in page_text(page)
    api = client.get("/api/search", query_string={"q": query})
    assert api.status_code == 400
    assert message in api.get_json()["error"]["message"]


def test_an_article_opened_with_a_query_past_the_limits_is_shown_unmarked(client, sample_archive):
    article_id = sample_archive.search("京都").hits[0].id
    response = client.get(f"/articles/{article_id}", query_string={"q": LONG_WORD})
    assert response.status_code == 200
    assert "<h1>京都の寺院で紅葉が見頃を迎え" in page_text(response)
    assert "<mark>" not in page_text(response)


def test_a_word_repeated_hundreds_of_times_is_searched_once(client):
    client.get("/api/search", query_string={"q": "空港"})  # the synonym map is loaded
    started = time.perf_counter()
    response = client.get("/api/search", query_string={"q": "ほげら " * 250})
    assert time.perf_counter() - started < 1.0
    assert response.status_code == 200
    assert [term["text"] for term in response.get_json()["terms"]] == ["ほげら"]


@pytest.mark.parametrize(
    "dates", [{"from": "1960-01-01"}, {"to": "1969-12-31"}, {"from": "1970-01-01"}]
)
def test_a_date_before_1970_is_searched_not_a_server_error(client, dates):
    response = client.get("/api/search", query_string={"q": "空港", **dates})
    assert response.status_code == 200


def test_the_home_page_of_an_empty_archive_says_how_to_fill_it(home, open_client, database_url):
    response = open_client(ARCHIVE_HOME=str(home), ARCHIVE_DATABASE_URL=database_url).get("/")
    assert response.status_code == 200
    assert "まだ記事がありません" in page_text(response)
    assert "python -m indexer import" in page_text(response)
