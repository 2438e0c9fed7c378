"""In Chromium: the people, organisations and places named are facets that narrow a search."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect

from .conftest import import_into, make_archive, served, write_jsonl
from .test_browser import browser  # noqa: F401 (a fixture)
from .test_entities import ARTICLES

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("entities-home")
    with make_archive(home) as archive:
        summary = import_into(archive, write_jsonl(home / "entities.jsonl", ARTICLES))
    assert summary.ok and summary.added == len(ARTICLES), summary
    with served(home, tmp_path_factory.mktemp("server") / "serve.log") as url:
        yield url


@pytest.fixture
def page(browser: Browser, server_url: str) -> Iterator[Page]:  # noqa: F811
    context = browser.new_context(base_url=server_url, locale="ja-JP")
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


def hit_titles(page: Page) -> list[str]:
    return page.locator("ol.hits > li.hit h2").all_inner_texts()


def test_clicking_a_person_narrows_the_results_and_the_chip_removes_it(page: Page) -> None:
    page.goto("/")
    page.fill("input[name=q]", "大阪")
    with page.expect_navigation():
        page.press("input[name=q]", "Enter")
    before = hit_titles(page)
    assert len(before) == 2  # the Expo site and the prime minister's visit

    people = page.locator("ul.facet[data-facet=person]")
    expect(page.locator("#facet-person")).to_have_text("人物")
    link = people.locator("a", has_text="岸田文雄")
    expect(link).to_be_visible()
    expect(people.locator("li", has_text="岸田文雄").locator(".count")).to_have_text("1")
    with page.expect_navigation():
        link.click()

    assert parse_qs(urlsplit(page.url).query)["person"] == ["岸田文雄"]
    assert hit_titles(page) == ["首相、大阪で中小企業の経営者と懇談"]
    chosen = page.locator("ul.facet[data-facet=person] li.active a")
    expect(chosen).to_have_text("岸田文雄")
    expect(chosen).to_have_attribute("aria-current", "true")
    chip = page.locator(".active-filters a", has_text="人物: 岸田文雄")
    expect(chip).to_be_visible()

    with page.expect_navigation():
        chip.click()
    assert "person" not in parse_qs(urlsplit(page.url).query)
    assert sorted(hit_titles(page)) == sorted(before)


def test_the_query_language_and_the_place_facet_agree(page: Page) -> None:
    page.goto("/?q=place:北海道")
    assert hit_titles(page) == ["北海道で記録的な大雪"]
    places = page.locator("ul.facet[data-facet=place]")
    expect(places.locator("li", has_text="札幌").locator(".count")).to_have_text("1")
    with page.expect_navigation():
        places.locator("a", has_text="札幌").click()
    assert parse_qs(urlsplit(page.url).query)["place"] == ["札幌"]
    assert hit_titles(page) == ["北海道で記録的な大雪"]
