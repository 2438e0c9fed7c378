"""Browsing in a real browser: Debian's Chromium against ``python -m archive serve``.

From the home page to a listing, facets and the timeline narrowing the
results and their chips undoing it, a story's copies opened, pages, an
article; the keyboard, a phone-sized screen, no JavaScript, and no
Content-Security-Policy complaint anywhere.  Screenshots of the home, results
and article pages are saved under the run's temporary folder and copied to
``SCREENSHOTS`` for people to look at.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from .conftest import SAMPLE_ARTICLES
from .test_browser import browser, search_for, server_url  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

SCREENSHOTS = Path("/tmp/archive-screenshots")
WIRE_TITLE = "海水からリチウムを効率よく回収、国立研究所が新しい膜を開発"


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


def shoot(page: Page, folder: Path, name: str) -> Path:
    """A full-page screenshot in the run's folder, copied where people look for it."""
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, SCREENSHOTS / path.name)
    return path


@pytest.fixture
def complaints() -> list[str]:
    return []


def _open(chromium: Browser, base_url: str, complaints: list[str], **options) -> Iterator[Page]:
    context = chromium.new_context(base_url=base_url, locale="ja-JP", **options)
    context.set_default_timeout(10_000)
    page = context.new_page()

    def on_console(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            complaints.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: complaints.append(str(error)))
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def page(browser: Browser, server_url: str, complaints: list[str]) -> Iterator[Page]:  # noqa: F811
    yield from _open(browser, server_url, complaints, viewport={"width": 1280, "height": 900})
    # A blocked inline script or style (CSP), a missing file: the console says so.
    assert not [c for c in complaints if "favicon" not in c], complaints


def summary_count(page: Page) -> int:
    return int(re.search(r"(\d+)件中", page.locator("#summary").inner_text()).group(1))


def test_the_home_page_browses_to_a_site_listing_and_pages_through_everything(
    page: Page, screenshots: Path
) -> None:
    page.goto("/")
    expect(page.locator("input[name=q]")).to_be_focused()
    expect(page.locator(".summary").first).to_contain_text(f"{SAMPLE_ARTICLES}件の記事を収録")
    newest = page.locator("ol.newest > li")
    expect(newest).to_have_count(10)
    expect(page.locator("figure.timeline svg a").first).to_be_visible()
    shoot(page, screenshots, "home")

    site = page.locator("nav.facets-home ul[data-facet=site] li", has_text="kinki-times.example")
    count = int(site.locator(".count").inner_text())
    with page.expect_navigation():
        site.locator("a").first.click()
    assert parse_qs(urlsplit(page.url).query) == {"site": ["kinki-times.example"]}
    expect(page.locator("ul.active-filters")).to_contain_text("サイト: kinki-times.example")
    assert summary_count(page) == count
    expect(page.locator("ol.hits > li.hit .meta")).to_contain_text(["kinki-times.example"] * count)

    page.goto("/")
    with page.expect_navigation():
        page.get_by_role("link", name="すべての記事を新しい順に見る").click()
    stories = summary_count(page)
    assert stories < SAMPLE_ARTICLES  # the wire story's copies are one result
    expect(page.locator("#summary")).to_contain_text(f"記事は全{SAMPLE_ARTICLES}件")
    expect(page.locator("#summary")).to_contain_text(f"{stories}件中 1〜10件目")
    with page.expect_navigation():
        page.locator("nav.pages a[rel=next]").click()
    expect(page.locator("#summary")).to_contain_text(f"{stories}件中 11〜20件目")
    stamps = page.locator(".hit .meta time").evaluate_all(
        "els => els.map(el => el.getAttribute('datetime'))"
    )
    dates = [datetime.fromisoformat(s) for s in stamps]
    assert dates == sorted(dates, reverse=True)


def test_a_facet_and_a_timeline_bar_narrow_the_results_and_their_chips_undo_it(
    page: Page, screenshots: Path
) -> None:
    search_for(page, "者 OR リチウム")
    everything = summary_count(page)
    expect(page.locator("ul.active-filters")).to_have_count(0)

    category = page.locator("aside.facets ul[data-facet=category] li", has_text="経済")
    count = int(category.locator(".count").inner_text())
    with page.expect_navigation():
        category.locator("a").first.click()
    expect(page.locator("ul.active-filters")).to_contain_text("カテゴリー: 経済")
    assert summary_count(page) == count < everything
    expect(page.locator("ol.hits > li.hit .meta")).to_contain_text(["経済"] * count)
    # The other facets now count within 経済; the chosen one stands out.
    expect(page.locator("aside.facets li.active")).to_have_text(re.compile("経済"))

    bar = page.locator("figure.timeline svg a").first
    label = bar.get_attribute("aria-label")
    year, month, in_month = map(int, re.fullmatch(r"(\d+)年(\d+)月: (\d+)件", label).groups())
    with page.expect_navigation():
        bar.click()
    query = parse_qs(urlsplit(page.url).query)
    assert query["from"] == [f"{year:04d}-{month:02d}-01"] and query["category"] == ["経済"]
    expect(page.locator("ul.active-filters")).to_contain_text(f"期間: {year}年{month}月")
    assert summary_count(page) == in_month
    expect(page.locator("input[name=from]")).to_have_value(f"{year:04d}-{month:02d}-01")

    with page.expect_navigation():
        page.locator("ul.active-filters a", has_text="期間").click()
    with page.expect_navigation():
        page.locator("ul.active-filters a", has_text="カテゴリー").click()
    expect(page.locator("ul.active-filters")).to_have_count(0)
    assert summary_count(page) == everything
    page.locator("li.hit details.copies summary").first.click()  # a story's copies, open
    shoot(page, screenshots, "results")


def test_a_story_shows_once_and_opens_its_copies(page: Page, screenshots: Path) -> None:
    search_for(page, "リチウム")
    hits = page.locator("ol.hits > li.hit")
    expect(hits).to_have_count(2)  # three copies of the wire story, and the recycling plant
    expect(page.locator("#summary")).to_contain_text("2件中 1〜2件目")
    expect(page.locator("#summary")).to_contain_text("記事は全4件")
    story = hits.filter(has=page.locator("details.copies"))
    copies = story.locator("details.copies")
    expect(copies.locator("summary")).to_have_text("他2件（同じ内容の記事）")
    expect(copies.locator("li a").first).not_to_be_visible()
    copies.locator("summary").click()
    expect(copies.locator("li a")).to_have_count(2)
    expect(copies.locator("li a").first).to_be_visible()
    opened = copies.locator("li a").first.inner_text()

    with page.expect_navigation():
        copies.locator("li a").first.click()
    expect(page.locator("article h1")).to_have_text(opened)
    same = page.locator("section.copies li a")
    expect(same).to_have_count(2)
    with page.expect_navigation():
        same.filter(has_text=WIRE_TITLE).click()
    expect(page.locator("article h1")).to_have_text(WIRE_TITLE)
    expect(page.locator("section.related li a")).to_contain_text(["使用済み電池からリチウムを回収"])
    expect(page.locator("article .body mark").first).to_have_text("リチウム")
    shoot(page, screenshots, "article")


def test_the_keyboard_reaches_the_box_and_the_results(page: Page) -> None:
    search_for(page, "リチウム")
    page.locator("#summary").click()  # focus away from the box
    expect(page.locator("input[name=q]")).not_to_be_focused()
    page.keyboard.press("/")
    expect(page.locator("input[name=q]")).to_be_focused()
    expect(page.locator("input[name=q]")).to_have_value("リチウム")  # "/" was not typed

    first_hit = page.locator("ol.hits > li.hit h2 > a").first
    for _ in range(40):
        page.keyboard.press("Tab")
        if first_hit.evaluate("el => el === document.activeElement"):
            break
    else:
        pytest.fail("Tab never reached the first result")
    outline = first_hit.evaluate("el => getComputedStyle(el).outlineStyle")
    assert outline not in ("none", ""), outline  # the focus can be seen
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/articles/" in page.url


def test_a_phone_gets_one_column_and_nothing_wider_than_the_screen(
    browser: Browser,  # noqa: F811
    server_url: str,  # noqa: F811
    complaints: list[str],
    screenshots: Path,
) -> None:
    options = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
    for page in _open(browser, server_url, complaints, **options):
        search_for(page, "者 OR リチウム")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, width
        results = page.locator("#results").bounding_box()
        facets = page.locator("aside.facets").bounding_box()
        assert facets["y"] > results["y"] + results["height"] - 1  # below, not beside
        assert page.locator("input[name=q]").bounding_box()["width"] > 300
        shoot(page, screenshots, "results-phone")
    assert not complaints, complaints


def test_searching_and_filtering_work_without_javascript(
    browser: Browser,  # noqa: F811
    server_url: str,  # noqa: F811
    complaints: list[str],
) -> None:
    for page in _open(browser, server_url, complaints, java_script_enabled=False):
        search_for(page, "リチウム")
        assert summary_count(page) == 2
        with page.expect_navigation():
            page.locator("aside.facets ul[data-facet=category] a", has_text="科学").click()
        assert summary_count(page) == 1
        page.locator("details.copies summary").click()  # <details> needs no script
        expect(page.locator("details.copies li a")).to_have_count(2)
