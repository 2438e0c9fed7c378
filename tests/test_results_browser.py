"""The article page and the facets' new links in Debian's Chromium, over the sample archive.

An article opened from the results has a search box, its title marked, the
way back to the same page of results, and its site, category and tags as
searches; a facet takes two values at once, leaves one out, and finds the
articles without a date.  Screenshots at 1280 and 390 px wide are saved with
the others (``SCREENSHOTS``).
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect

from .test_browse_browser import complaints, page, screenshots, shoot, summary_count  # noqa: F401
from .test_browser import KIX_TITLE, browser, server_url  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

WIDTHS = {"wide": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


def query_of(tab: Page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(tab.url).query)


def test_an_article_from_the_results_has_a_box_a_marked_title_and_links(page: Page) -> None:  # noqa: F811
    page.goto("/?q=空港&page=1")
    with page.expect_navigation():
        page.locator("ol.hits > li.hit h2 a").first.click()
    expect(page.locator("article h1")).to_have_text(KIX_TITLE)
    expect(page.locator("article h1 mark").first).to_have_text("空港")
    expect(page.locator("form.search input[name=q]")).to_have_value("空港")
    back = page.get_by_role("link", name="← 「空港」の検索結果に戻る")
    assert parse_qs(urlsplit(back.get_attribute("href")).query) == {"q": ["空港"], "page": ["1"]}

    site = page.locator("dl.metadata dd a").first
    name = site.inner_text()
    with page.expect_navigation():
        site.click()
    assert query_of(page) == {"site": [name]}
    expect(page.locator("ul.active-filters")).to_contain_text(f"サイト: {name}")

    # The box on an article starts a new search.
    page.go_back()
    page.fill("form.search input[name=q]", "台風")
    with page.expect_navigation():
        page.press("form.search input[name=q]", "Enter")
    assert query_of(page)["q"] == ["台風"]
    expect(page.locator("#summary")).to_contain_text("件中")


def test_the_way_back_returns_to_the_same_page_of_results(page: Page) -> None:  # noqa: F811
    page.goto("/?q=観光&limit=1")
    with page.expect_navigation():
        page.locator("nav.pages a[rel=next]").click()
    expect(page.locator("#summary")).to_contain_text("2〜2件目")
    with page.expect_navigation():
        page.locator("ol.hits > li.hit h2 a").first.click()
    with page.expect_navigation():
        page.get_by_role("link", name=re.compile("検索結果に戻る")).click()
    assert query_of(page) == {"q": ["観光"], "limit": ["1"], "page": ["2"]}
    expect(page.locator("#summary")).to_contain_text("2〜2件目")


def test_a_category_and_a_tag_of_an_article_are_searches(page: Page) -> None:  # noqa: F811
    page.goto("/?q=リチウム")
    with page.expect_navigation():
        page.locator("ol.hits > li.hit h2 a").first.click()
    metadata = page.locator("dl.metadata")
    category = metadata.locator("dt:has-text('カテゴリー') + dd a")
    expect(category).to_have_count(1)
    chosen = category.inner_text()
    tags = metadata.locator("dt:has-text('タグ') + dd a")
    expect(tags.first).to_have_text("リチウム")
    with page.expect_navigation():
        tags.first.click()
    assert query_of(page) == {"tag": ["リチウム"]}
    expect(page.locator("ol.hits > li.hit")).not_to_have_count(0)
    page.go_back()
    with page.expect_navigation():
        category.click()
    assert query_of(page) == {"category": [chosen]}
    expect(page.locator("ul.active-filters")).to_contain_text(f"カテゴリー: {chosen}")


def test_two_sites_at_once_then_a_category_left_out(page: Page, screenshots: Path) -> None:  # noqa: F811
    page.goto("/?q=者 OR リチウム")
    everything = summary_count(page)
    sites = page.locator("aside.facets ul[data-facet=site] li")
    first, second = sites.nth(0), sites.nth(1)
    counts = [int(s.locator(".count").inner_text()) for s in (first, second)]
    names = [s.locator("a").first.inner_text() for s in (first, second)]
    with page.expect_navigation():
        first.locator("a").first.click()
    assert summary_count(page) == counts[0]
    other = page.get_by_role("link", name=f"サイト「{names[1]}」も含める")
    with page.expect_navigation():
        other.click()
    assert query_of(page)["site"] == names
    assert summary_count(page) == sum(counts)
    expect(page.locator("ul.active-filters li")).to_have_count(2)
    expect(page.locator("aside.facets ul[data-facet=site] li.active")).to_have_count(2)
    hits_sites = page.locator("ol.hits > li.hit .meta").all_inner_texts()
    assert all(any(n in text for n in names) for text in hits_sites), hits_sites

    category = page.locator("aside.facets ul[data-facet=category] li").first
    value = category.locator("a").first.inner_text()
    left_out = int(category.locator(".count").inner_text())
    with page.expect_navigation():
        page.get_by_role("link", name=f"カテゴリー「{value}」を除く").click()
    assert query_of(page)["not_category"] == [value]
    assert summary_count(page) == sum(counts) - left_out < everything
    expect(page.locator("ul.active-filters")).to_contain_text(f"カテゴリー（除外）: {value}")
    expect(page.locator("ol.hits > li.hit .meta", has_text=value)).to_have_count(0)
    expect(page.locator("aside.facets li.excluded del")).to_have_text(value)
    for name, size in WIDTHS.items():
        page.set_viewport_size(size)
        shoot(page, screenshots, f"results-facets-{name}")

    # The chip brings the category back.
    with page.expect_navigation():
        page.get_by_role("link", name=f"カテゴリー（除外）「{value}」の絞り込みを外す").click()
    assert summary_count(page) == sum(counts)


def test_the_articles_without_a_date_are_one_click_away(page: Page) -> None:  # noqa: F811
    page.goto("/")
    undated = page.locator("ul[data-facet=undated] li")
    count = int(re.search(r"\d+", undated.locator(".count").inner_text()).group())
    with page.expect_navigation():
        undated.get_by_role("link", name="日付なし").click()
    assert query_of(page) == {"undated": ["1"]}
    assert summary_count(page) == count
    expect(page.locator("ol.hits > li.hit .meta time")).to_have_count(0)
    expect(page.locator("ol.hits > li.hit .meta", has_text="日付なし")).to_have_count(
        min(count, 20)
    )
    expect(page.locator("ul.active-filters")).to_contain_text("期間: 日付なし")


@pytest.mark.parametrize("width", list(WIDTHS))
def test_screenshots_of_the_results_and_an_article(
    browser: Browser,  # noqa: F811
    server_url: str,  # noqa: F811
    screenshots: Path,  # noqa: F811
    width: str,
) -> None:
    context = browser.new_context(base_url=server_url, locale="ja-JP", viewport=WIDTHS[width])
    try:
        page = context.new_page()
        page.goto("/?q=空港 OR 観光")
        shoot(page, screenshots, f"results-{width}")
        with page.expect_navigation():
            page.locator("ol.hits > li.hit h2 a").first.click()
        expect(page.locator("article h1 mark").first).to_be_visible()
        shoot(page, screenshots, f"article-{width}")
        overflow = page.evaluate("document.documentElement.scrollWidth - innerWidth")
        assert overflow <= 0, overflow
    finally:
        context.close()
