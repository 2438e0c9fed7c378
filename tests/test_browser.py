"""Real-browser tests: headless Debian Chromium against the app served by waitress.

The app runs as ``python -m archive serve`` in a subprocess over the sample archive,
and Playwright drives the pages the way a reader would.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from playwright.sync_api import Browser, Dialog, Page, expect, sync_playwright

from .conftest import served

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SCREENSHOT = Path("/tmp/archive-search.png")
KIX_TITLE = "関西国際空港の新国際線エリアが完成、出国手続きの待ち時間短縮へ"
KYOTO_TITLE = "京都の寺院で紅葉が見頃を迎え、早朝から多くの観光客が訪れています"


@pytest.fixture(scope="module")
def server_url(sample_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of ``python -m archive serve`` over the sample archive."""
    with served(sample_home, tmp_path_factory.mktemp("server") / "serve.log") as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser: Browser, server_url: str) -> Iterator[Page]:
    context = browser.new_context(base_url=server_url, locale="ja-JP")
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


def search_for(page: Page, query: str) -> None:
    """Open the search page, type ``query`` into the box and press Enter."""
    page.goto("/")
    page.fill("input[name=q]", query)
    with page.expect_navigation():
        page.press("input[name=q]", "Enter")


def test_search_from_the_box_shows_the_marked_hit(page: Page) -> None:
    search_for(page, "空港")

    assert parse_qs(urlsplit(page.url).query)["q"] == ["空港"]
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.locator("#summary")).to_contain_text("1件中 1〜1件目")
    hits = page.locator("ol.hits > li.hit")
    expect(hits).to_have_count(1)
    expect(hits.locator("h2 > a")).to_contain_text("関西国際空港")
    expect(hits.locator("p.snippet mark").first).to_have_text("空港")
    expect(page.locator("p.understood span.unit")).to_have_text(["空港"])
    expect(page.locator("input[name=q]")).to_have_value("空港")


def test_clicking_a_hit_opens_the_marked_article(page: Page) -> None:
    search_for(page, "空港")
    first = page.locator("ol.hits > li.hit").first
    site = first.locator(".meta").inner_text().split("·")[0].strip()
    assert site

    with page.expect_navigation():
        first.locator("h2 > a").click()

    assert re.search(r"/articles/\d+\?q=", page.url), page.url
    expect(page).to_have_title(re.compile("^" + re.escape(KIX_TITLE)))
    expect(page.locator("article h1")).to_have_text(KIX_TITLE)
    metadata = page.locator("dl.metadata")
    expect(metadata.locator("dt", has_text="サイト")).to_be_visible()
    expect(metadata.locator("dd").first).to_have_text(site)
    expect(metadata.locator("a[href^='https://']")).to_have_count(1)
    marks = page.locator("article .body p mark")
    expect(marks.first).to_have_text("空港")
    assert marks.count() >= 1


def test_newest_first_sort_orders_the_dates(page: Page) -> None:
    page.goto("/")
    page.fill("input[name=q]", "観光")
    page.select_option("select[name=sort]", label="新しい順")
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="検索").click()

    response = navigation.value
    assert response is not None
    assert response.status == 200
    query = parse_qs(urlsplit(page.url).query)
    assert query["q"] == ["観光"] and query["sort"] == ["newest"]
    expect(page.locator("select[name=sort]")).to_have_value("newest")
    expect(page.locator("ol.hits > li.hit").first).to_be_visible()
    stamps = page.locator(".meta time").evaluate_all(
        "els => els.map(el => el.getAttribute('datetime'))"
    )
    dates = [datetime.fromisoformat(s) for s in stamps]
    assert len(dates) >= 2, stamps
    assert dates == sorted(dates, reverse=True), stamps
    # Undated articles (shown as 日付なし, without a <time>) come after every dated one.
    dated = [hit.locator("time").count() == 1 for hit in page.locator("li.hit").all()]
    assert dated == sorted(dated, reverse=True), dated


def test_a_particle_alone_is_a_400_with_an_alert(page: Page) -> None:
    page.goto("/")
    page.fill("input[name=q]", "の")
    with page.expect_navigation() as navigation:
        page.press("input[name=q]", "Enter")

    response = navigation.value
    assert response is not None and response.status == 400
    alert = page.get_by_role("alert")
    expect(alert).to_be_visible()
    expect(alert).to_have_class(re.compile(r"\berror\b"))
    expect(alert).to_contain_text("「の」")
    expect(page.locator("ol.hits")).to_have_count(0)
    expect(page.locator("#summary")).to_have_count(0)
    expect(page.locator("input[name=q]")).to_have_value("の")


def test_a_markup_query_is_shown_escaped_and_never_runs(page: Page) -> None:
    query = "<img src=x onerror=alert(1)>"
    dialogs: list[Dialog] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    search_for(page, query)
    # Also load the results URL directly, as a link someone was sent would be.
    response = page.goto("/?q=" + quote(query))
    assert response is not None
    html = response.text()
    page.wait_for_load_state("load")

    assert dialogs == []
    expect(page.locator("input[name=q]")).to_have_value(query)
    expect(page).to_have_title(query + " - 記事アーカイブ")
    assert page.locator("img").count() == 0
    assert page.locator("[onerror]").count() == 0
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert query not in html


def test_kyoto_results_screenshot(page: Page) -> None:
    page.set_viewport_size({"width": 1280, "height": 900})
    search_for(page, "京都")

    first_title = page.locator("ol.hits > li.hit h2 > a").first
    expect(first_title).to_contain_text("京都")
    expect(first_title).to_have_text(KYOTO_TITLE)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert SCREENSHOT.stat().st_size > 0


def test_next_page_link_shows_the_following_hits(page: Page) -> None:
    search_for(page, "者")  # 13 hits in the sample: two pages of ten
    expect(page.locator("#summary")).to_contain_text("13件中 1〜10件目")
    expect(page.locator("ol.hits > li.hit")).to_have_count(10)
    first_page = page.locator("ol.hits h2 > a").all_inner_texts()

    with page.expect_navigation():
        page.locator("nav.pages a[rel=next]").click()

    assert parse_qs(urlsplit(page.url).query)["page"] == ["2"]
    expect(page.locator("#summary")).to_contain_text("13件中 11〜13件目")
    expect(page.locator("nav.pages [aria-current=page]")).to_have_text("2")
    expect(page.locator("nav.pages a[rel=next]")).to_have_count(0)
    expect(page.locator("nav.pages a[rel=prev]")).to_have_count(1)
    second_page = page.locator("ol.hits h2 > a").all_inner_texts()
    assert len(second_page) == 3 and not set(second_page) & set(first_page)


def test_next_page_link_keeps_the_page_size(page: Page) -> None:
    page.goto("/?q=" + quote("観光") + "&limit=2")  # 4 hits: two pages of two
    expect(page.locator("#summary")).to_contain_text("4件中 1〜2件目")
    first_page = page.locator("ol.hits h2 > a").all_inner_texts()

    with page.expect_navigation():
        page.locator("nav.pages a[rel=next]").click()

    assert parse_qs(urlsplit(page.url).query).get("limit") == ["2"], page.url
    expect(page.locator("#summary")).to_contain_text("4件中 3〜4件目")
    second_page = page.locator("ol.hits h2 > a").all_inner_texts()
    assert len(second_page) == 2 and not set(second_page) & set(first_page)


def test_did_you_mean_and_related_articles(page: Page) -> None:
    search_for(page, "関西国祭空港")
    suggestion = page.locator("p.suggestion a")
    expect(suggestion).to_have_text("関西国際空港")

    with page.expect_navigation():
        suggestion.click()
    expect(page.locator("#summary")).to_contain_text("1件中 1〜1件目")
    expect(page.locator("p.suggestion")).to_have_count(0)

    # The airport article has nothing alike in the sample; the battery-recycling one has.
    search_for(page, "使用済み電池")
    with page.expect_navigation():
        page.locator("ol.hits > li.hit h2 > a").first.click()
    related = page.locator("section.related li a")
    expect(related.first).to_be_visible()
    title = related.first.inner_text()
    with page.expect_navigation():
        related.first.click()
    expect(page.locator("article h1")).to_have_text(title)


@pytest.mark.parametrize(("host", "status"), [("localhost", 200), ("rebind.attacker.example", 400)])
def test_the_server_answers_only_its_own_names(server_url: str, host: str, status: int) -> None:
    """A page elsewhere that points its own name at 127.0.0.1 (DNS rebinding) reads nothing."""
    port = urlsplit(server_url).port
    request = urllib.request.Request(
        server_url + "/?q=" + quote("空港"), headers={"Host": f"{host}:{port}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            answered, html = response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        answered, html = error.code, error.read().decode()
    assert answered == status
    assert ("関西国際" in html) == (status == 200)
