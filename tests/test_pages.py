"""The browsing pages through the Flask test client: home, facets, timeline, feeds, headers.

What a reader (or a feed reader, or a browser adding a search engine) gets,
checked on the real app over a real archive; markup in articles and queries
comes out escaped everywhere.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest

from .conftest import import_into, write_jsonl
from .test_facets import FILTER_CASES, brute_force, facet_archive, fold  # noqa: F401

ATOM = "{http://www.w3.org/2005/Atom}"
OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"


def page_text(response) -> str:
    return response.get_data(as_text=True)


class Links(HTMLParser):
    """Every element's attributes, to follow links and find what a page carries."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def hrefs(self, tag: str = "a") -> list[str]:
        return [a["href"] for t, a in self.elements if t == tag and a.get("href")]


def parsed(html: str) -> Links:
    links = Links()
    links.feed(html)
    return links


@pytest.fixture
def facet_client(facet_archive, open_client):  # noqa: F811 (a fixture)
    settings = facet_archive.settings
    return open_client(ARCHIVE_HOME=str(settings.home), ARCHIVE_DATABASE_URL=settings.database_url)


def _query(filters: dict) -> dict[str, str | list[str]]:
    """The URL parameters of a case: a list repeats its parameter, ``undated`` is 1."""
    return {
        k: [str(x) for x in v] if isinstance(v, list) else "1" if v is True else str(v)
        for k, v in filters.items()
    }


@pytest.mark.parametrize(("word", "filters"), FILTER_CASES)
def test_api_facets_match_counting_by_hand(facet_client, facet_archive, word, filters):  # noqa: F811
    response = facet_client.get(
        "/api/search", query_string={"q": word, "limit": 100, **_query(filters)}
    )
    assert response.status_code == 200, response.get_json()
    data = response.get_json()
    expected_ids, expected_counts = brute_force(facet_archive, word, filters)
    assert {hit["id"] for hit in data["hits"]} == expected_ids
    assert data["total"] == len(expected_ids)
    assert set(data["facets"]) == {"site", "category", "tag", "person", "org", "place", "month"}
    for name in ("site", "category", "tag", "month"):
        shown = {fold(v["value"]): v["count"] for v in data["facets"][name]}
        expected = dict(expected_counts[name])
        if name != "month":  # the top ten, and every one of them right
            top = sorted(expected.values(), reverse=True)[:10]
            assert sorted(shown.values(), reverse=True)[: len(top)] == top, name
            expected = {k: v for k, v in expected.items() if k in shown}
        assert shown == expected, name


def test_clicking_a_facet_filters_and_its_chip_removes_it(facet_client):
    html = page_text(facet_client.get("/", query_string={"q": "灯台"}))
    total = int(re.search(r"(\d+)件中", html).group(1))
    site_link = next(h for h in parsed(html).hrefs() if "site=" in h)
    site = parse_qs(urlsplit(site_link).query)["site"][0]
    count = int(re.search(re.escape(f'>{site}</a> <span class="count">') + r"(\d+)", html).group(1))

    narrowed = page_text(facet_client.get(site_link))
    assert f"{count}件中" in narrowed and count < total
    assert "絞り込み中の条件" in narrowed and f"サイト: {site}" in narrowed
    chip = re.search(r'<ul class="active-filters".*?href="([^"]+)"', narrowed, re.S).group(1)
    assert "site=" not in chip.replace("&amp;", "&")
    back = page_text(facet_client.get(chip.replace("&amp;", "&")))
    assert f"{total}件中" in back and "絞り込み中の条件" not in back


def _link(html: str, pattern: str) -> str:
    """The first link whose tag matches ``pattern`` (its href, unescaped)."""
    tag = re.search(r'<a href="([^"]+)"[^>]*?' + pattern, html)
    assert tag, pattern
    return tag.group(1).replace("&amp;", "&")


def _count(html: str, value: str) -> int:
    return int(re.search(re.escape(f'>{value}</a> <span class="count">') + r"(\d+)", html).group(1))


def _total(html: str) -> int:
    return int(re.search(r"(\d+)件中", html).group(1))


def test_two_sites_at_once_find_the_articles_of_either(facet_client):
    html = page_text(facet_client.get("/", query_string={"q": "灯台"}))
    sites = re.findall(r'<a href="[^"]*site=[^"]*">([^<]+)</a> <span class="count">', html)
    one, other = sites[:2]
    narrowed = page_text(facet_client.get(_link(html, f">{re.escape(one)}</a>")))
    assert 'aria-label="サイト「' + other + '」も含める"' in narrowed
    both_link = _link(narrowed, r' aria-label="サイト「' + re.escape(other) + "」も含める")
    assert parse_qs(urlsplit(both_link).query)["site"] == [one, other]
    both = page_text(facet_client.get(both_link))
    assert _total(both) == _count(html, one) + _count(html, other)
    assert f"サイト: {one}" in both and f"サイト: {other}" in both
    # The facet still counts each site as if it alone were chosen; both stand out.
    assert _count(both, one) == _count(html, one) and both.count('<li class="active">') >= 2
    # The page links, the box and the way to an article keep both sites.
    box = re.findall(r'<input type="hidden" name="site" value="([^"]+)">', both)
    assert box == [one, other]
    article = next(h for h in parsed(both).hrefs() if h.startswith("/articles/"))
    assert parse_qs(urlsplit(article.replace("&amp;", "&")).query)["site"] == [one, other]
    # Its chip takes away one site, not both.
    chip = _link(both, r' aria-label="サイト「' + re.escape(one) + "」の絞り込みを外す")
    assert parse_qs(urlsplit(chip).query)["site"] == [other]


@pytest.mark.parametrize("facet", ["site", "category", "tag"])
def test_excluding_a_value_leaves_its_articles_out(facet_client, facet):
    label = {"site": "サイト", "category": "カテゴリー", "tag": "タグ"}[facet]
    html = page_text(facet_client.get("/", query_string={"q": "灯台"}))
    link = _link(html, r' aria-label="' + label + "「([^」]+)」を除く")
    value = parse_qs(urlsplit(link).query)[f"not_{facet}"][0]
    assert f">{value}</a>" in html
    left = page_text(facet_client.get(link))
    total = _total(left) if "件中" in left else 0
    if facet == "tag":  # an article has several tags: count the ones left by hand
        assert 0 < total < _total(html)
    else:
        assert total == _total(html) - _count(html, value)
    assert f"{label}（除外）: {value}" in left
    assert re.search(r'<li class="excluded">.*?<del>' + re.escape(value) + "</del>", left)
    undo = _link(left, r' aria-label="' + label + "「" + re.escape(value) + "」の除外をやめる")
    assert f"not_{facet}" not in undo
    assert _total(page_text(facet_client.get(undo))) == _total(html)


def test_undated_articles_are_a_link_of_their_own(facet_client):
    html = page_text(facet_client.get("/", query_string={"q": "灯台"}))
    count = int(re.search(r'>日付なし</a> <span class="count">(\d+)件', html).group(1))
    link = _link(html, r">日付なし</a>")
    assert parse_qs(urlsplit(link).query) == {"q": ["灯台"], "undated": ["1"]}
    undated = page_text(facet_client.get(link))
    assert _total(undated) == count
    assert undated.count("日付なし") >= count + 2  # each hit, the chip and the facet
    assert (
        "期間: 日付なし" in undated
        and "<time" not in undated.split('id="results"')[1].split("</ol>")[0]
    )
    # A month of the timeline or the facet replaces it; its chip takes it away.
    month = next(h for h in parsed(undated).hrefs() if "from=" in h).replace("&amp;", "&")
    assert "undated" not in month
    chip = _link(undated, r' aria-label="期間「日付なし」の絞り込みを外す')
    assert _total(page_text(facet_client.get(chip))) == _total(html)


def test_the_home_pages_order_says_newest_first(facet_client):
    html = page_text(facet_client.get("/"))
    selected = re.search(r'<option value="([^"]*)" selected>([^<]+)</option>', html)
    assert selected.groups() == ("", "新しい順（検索すると関連度順）")
    results = page_text(facet_client.get("/", query_string={"q": "灯台", "sort": ""}))
    assert re.search(r'<option value="relevance" selected>関連度順</option>', results)


def test_a_timeline_bar_sets_the_range_to_its_month(facet_client, archive):
    html = page_text(facet_client.get("/", query_string={"q": "灯台"}))
    assert "<svg" in html and 'class="timeline"' in html
    bar = re.search(r'<a href="([^"]+)" aria-label="(\d+)年(\d+)月: (\d+)件"', html)
    href, year, month, count = bar.group(1).replace("&amp;", "&"), *map(int, bar.groups()[1:])
    query = parse_qs(urlsplit(href).query)
    assert query["q"] == ["灯台"]
    assert query["from"][0] == f"{year:04d}-{month:02d}-01"
    chosen = page_text(facet_client.get(href))
    assert f"{count}件中" in chosen
    assert f"期間: {year}年{month}月" in chosen
    assert 'class="active"' in chosen  # the chosen bar stands out


def test_the_home_page_browses_to_a_site_listing(facet_client):
    html = page_text(facet_client.get("/"))
    assert "60件の記事を収録" in html and "新着記事" in html
    assert html.index('name="q"') < html.index('id="newest-heading"')  # the box on top
    links = parsed(html).hrefs()
    site_link = next(h for h in links if h.startswith("/?site="))
    listing = page_text(facet_client.get(site_link))
    site = parse_qs(urlsplit(site_link).query)["site"][0]
    assert f"サイト: {site}" in listing
    dates = re.findall(r'<time datetime="([^"]+)"', listing)
    assert dates == sorted(dates, reverse=True)  # a listing is newest first
    assert any(h.startswith("/?from=") for h in links)  # the months are links too
    assert any("category=" in h for h in links) and any("tag=" in h for h in links)


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/?q=灯台",
        "/?sort=newest&page=2",
        "/?q=の",
        "/articles/1",
        "/articles/999999",
        "/no/such/page",
        "/api/search?q=灯台",
        "/api/search?q=",
        "/api/articles/1",
        "/feed?q=灯台",
        "/feed?q=の",
        "/opensearch.xml",
        "/static/archive.css",
    ],
)
def test_every_response_carries_the_security_headers(facet_client, path):
    response = facet_client.get(path)
    response.close()  # a static file is sent from an open file
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp
    assert "style-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize("path", ["/", "/?q=灯台", "/articles/1", "/no/such/page"])
def test_pages_have_no_inline_script_or_style(facet_client, path):
    links = parsed(page_text(facet_client.get(path)))
    for tag, attrs in links.elements:
        assert tag != "style"
        assert "style" not in attrs, tag
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        if tag == "script":
            assert attrs.get("src", "").startswith("/static/"), attrs
    stylesheets = [
        a["href"] for t, a in links.elements if t == "link" and a.get("rel") == "stylesheet"
    ]
    assert stylesheets == ["/static/archive.css"]
    script = facet_client.get("/static/keys.js")
    script.close()
    assert script.status_code == 200 and script.mimetype == "text/javascript"


def atom(response) -> ET.Element:
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    return ET.fromstring(response.get_data())


def test_the_feed_is_valid_atom_newest_first(facet_client):
    feed = atom(facet_client.get("/feed", query_string={"q": "灯台", "tag": "ai"}))
    assert feed.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated", "author"):
        assert feed.find(f"{ATOM}{name}") is not None, name
    assert "灯台" in feed.findtext(f"{ATOM}title")
    links = {link.get("rel"): link.get("href") for link in feed.findall(f"{ATOM}link")}
    self_query = parse_qs(urlsplit(links["self"]).query)
    assert self_query == {"q": ["灯台"], "tag": ["ai"]} and links["self"].startswith("http")
    entries = feed.findall(f"{ATOM}entry")
    assert entries
    for entry in entries:
        for name in ("id", "title", "updated", "summary"):
            assert entry.findtext(f"{ATOM}{name}"), name
        link = entry.find(f"{ATOM}link[@rel='alternate']")
        assert link.get("href") == entry.findtext(f"{ATOM}id")
        assert re.fullmatch(r"http://127\.0\.0\.1:8000/articles/\d+", link.get("href"))
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", entry.findtext(f"{ATOM}updated"))
    published = [
        e.findtext(f"{ATOM}published") for e in entries if e.find(f"{ATOM}published") is not None
    ]
    assert published == sorted(published, reverse=True)


def test_pages_link_their_feed_and_the_search_engine_description(facet_client):
    html = page_text(
        facet_client.get("/", query_string={"q": "灯台", "site": "hokkai-daily.example"})
    )
    links = parsed(html)
    [alternate] = [
        a for t, a in links.elements if t == "link" and a.get("type") == "application/atom+xml"
    ]
    assert alternate["rel"] == "alternate"
    query = parse_qs(urlsplit(alternate["href"]).query)
    assert query == {"q": ["灯台"], "site": ["hokkai-daily.example"]}
    feed = atom(facet_client.get(alternate["href"]))
    assert all(
        e.findtext(f"{ATOM}author/{ATOM}name") == "hokkai-daily.example"
        for e in feed.findall(f"{ATOM}entry")
    )
    [search] = [a for t, a in links.elements if t == "link" and a.get("rel") == "search"]
    assert search["type"] == "application/opensearchdescription+xml"
    description = facet_client.get(search["href"])
    assert description.mimetype == "application/opensearchdescription+xml"
    root = ET.fromstring(description.get_data())
    assert root.findtext(f"{OPENSEARCH}ShortName") == "記事アーカイブ"
    templates = {u.get("type"): u.get("template") for u in root.findall(f"{OPENSEARCH}Url")}
    assert templates["text/html"] == "http://127.0.0.1:8000/?q={searchTerms}"
    assert templates["application/atom+xml"] == "http://127.0.0.1:8000/feed?q={searchTerms}"


EVIL = '<script>alert("x")</script>'
EVIL_ATTRIBUTE = '"><img src=x onerror=alert(1)>'


@pytest.fixture
def evil_client(archive, home, database_url, tmp_path, open_client):
    record = {
        "title": f"危険な見出し{EVIL}{EVIL_ATTRIBUTE}",
        "body": f"本文に{EVIL}と{EVIL_ATTRIBUTE}が入った危険な記事。\x0b制御文字も。",
        "url": "javascript:alert(1)",
        "site": f"{EVIL_ATTRIBUTE}.example",
        "category": EVIL,
        "tags": [EVIL, EVIL_ATTRIBUTE, "javascript:alert(2)"],
        "published_at": "2025-04-01T09:00:00+09:00",
    }
    summary = import_into(archive, write_jsonl(tmp_path / "evil.jsonl", [record]))
    assert summary.ok and summary.added == 1, summary
    config = {"ARCHIVE_HOME": str(home)}
    if database_url:
        config["ARCHIVE_DATABASE_URL"] = database_url
    return open_client(**config)


def assert_inert(html: str) -> None:
    links = parsed(html)
    assert not [a for t, a in links.elements if t == "img"]
    assert all(not any(n.startswith("on") for n in a) for _, a in links.elements)
    assert [a for t, a in links.elements if t == "script"] == [
        {"src": "/static/keys.js", "defer": None}
    ]
    assert not [h for h in links.hrefs() if h.strip().lower().startswith("javascript:")]
    assert "<script>alert" not in html and "&lt;script&gt;" in html


@pytest.mark.parametrize(
    "args",
    [
        {},
        {"q": "危険"},
        {"q": f"危険 {EVIL}"},
        {"q": EVIL_ATTRIBUTE},
        {"q": "危険", "tag": EVIL},
        {"category": EVIL},
        {"site": f"{EVIL_ATTRIBUTE}.example", "tag": EVIL_ATTRIBUTE},
        {"q": "危険", "from": "2025-04-01", "to": "2025-04-30"},
    ],
)
def test_markup_in_articles_and_queries_is_escaped_on_every_page(evil_client, args):
    response = evil_client.get("/", query_string=args)
    assert response.status_code in (200, 400)
    assert_inert(page_text(response))


def test_markup_is_escaped_on_the_article_page_in_the_api_and_in_the_feed(evil_client, archive):
    [hit] = archive.search("危険").hits
    assert_inert(page_text(evil_client.get(f"/articles/{hit.id}", query_string={"q": EVIL})))

    api = evil_client.get("/api/search", query_string={"q": "危険"})
    assert api.mimetype == "application/json"
    data = api.get_json()
    [found] = data["hits"]
    assert found["title"] == f"危険な見出し{EVIL}{EVIL_ATTRIBUTE}"  # data, as it is
    assert "<script>" not in found["snippet"] and "&lt;script&gt;" in found["snippet"]
    assert {v["value"] for v in data["facets"]["tag"]} == {
        EVIL,
        EVIL_ATTRIBUTE,
        "javascript:alert(2)",
    }

    response = evil_client.get("/feed", query_string={"q": f"危険 {EVIL}"})
    raw = page_text(response)
    assert "<script>" not in raw and "<img" not in raw
    feed = atom(response)
    assert EVIL in feed.findtext(f"{ATOM}title")
    [entry] = feed.findall(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}title") == f"危険な見出し{EVIL}{EVIL_ATTRIBUTE}"
    assert "\x0b" not in entry.findtext(f"{ATOM}summary")
    hrefs = [link.get("href") for link in entry.findall(f"{ATOM}link")]
    assert all(h.startswith("http://127.0.0.1:8000/") for h in hrefs), hrefs
    assert not entry.findtext(f"{ATOM}category")  # the category is an attribute, not markup
    assert entry.find(f"{ATOM}category").get("term") == EVIL


@pytest.mark.parametrize(
    ("path", "status", "text"),
    [
        ("/api/search?site=" + "x" * 400, 400, "site が長すぎます"),
        ("/api/search?q=灯台&from=2025-02-01&to=2025-01-01", 400, "開始日が終了日より後"),
        ("/api/search?tag=ai&limit=0", 400, "1ページの件数"),
        ("/api/search?tag=ai&page=x", 400, "page は整数で"),
        ("/api/search?sort=newest", 400, "検索語（q）か絞り込み"),
        ("/api/search?q=灯台&group=maybe", 400, "group は 1 か 0"),
    ],
)
def test_a_bad_parameter_is_a_400_with_a_json_error(facet_client, path, status, text):
    response = facet_client.get(path)
    assert response.status_code == status
    assert text in response.get_json()["error"]["message"]


@pytest.mark.parametrize(("group", "results"), [("1", 2), ("0", 4), ("", 2)])
def test_the_api_groups_copies_unless_asked_not_to(
    archive, home, tmp_path, open_client, group, results
):
    from .test_stories import WIRE

    import_into(archive, write_jsonl(tmp_path / "wire.jsonl", WIRE))
    client = open_client(ARCHIVE_HOME=str(home), ARCHIVE_DATABASE_URL=archive.settings.database_url)
    data = client.get("/api/search", query_string={"q": "台風 OR 紅葉", "group": group}).get_json()
    assert (data["total"], data["results"], len(data["hits"])) == (4, results, results)
    assert data["grouped"] == (group != "0")
    copies = sorted(h["duplicate_count"] for h in data["hits"])
    assert copies == ([0, 2] if group != "0" else [0, 0, 0, 0])
