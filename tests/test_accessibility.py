"""Every page checked by axe-core in Debian's Chromium, and the keyboard's way to the results.

axe-core (pinned in package.json and package-lock.json; ``scripts/test.sh``
installs it into ``node_modules``) is injected into each page of ``PAGES`` as
the archive serves it, and no serious or critical violation may be found.
Add a page to the table when you add one to the app.  Each run's findings,
every impact included, are written to ``REPORT`` for people to read.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from .conftest import ROOT, SAMPLE, import_into, make_archive, served
from .test_browser import browser  # noqa: F401 (a fixture)

pytestmark = pytest.mark.browser

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
REPORT = Path("/tmp/archive-axe.json")
PASSWORD = "correct horse battery"
# What fails a page: axe's two worst impacts ("moderate" and "minor" are reported only).
FAILING = {"serious", "critical"}

# (name, path, who asks): "{article}" is the 関西国際空港 article's id.  Who asks is
# "anyone" (no login) or "admin" (logged in as an administrator).
PAGES = [
    ("home", "/", "anyone"),
    ("results", "/?q=観光", "anyone"),
    ("results-filtered", "/?q=観光&site=kinki-times.example", "anyone"),
    ("listing", "/?sort=newest", "anyone"),
    (
        "two-sites-one-category-left-out",
        "/?q=者 OR リチウム&site=news.ldnews.example&site=asahi-news.example&not_category=経済",
        "anyone",
    ),
    ("undated", "/?undated=1", "anyone"),
    ("no-results", "/?q=存在しない語句ぬ", "anyone"),
    ("page-past-the-end", "/?q=観光&page=999", "anyone"),
    ("query-error", "/?q=空港&sort=random", "anyone"),
    ("attention", "/attention?q=空港&q=観光", "anyone"),
    ("attention-per-1000", "/attention?q=空港&per=1000&unit=month", "anyone"),
    ("attention-empty", "/attention", "anyone"),
    ("kwic", "/kwic?q=空港", "anyone"),
    ("kwic-sorted-left", "/kwic?q=空港&sort=left", "anyone"),
    ("kwic-empty", "/kwic", "anyone"),
    ("article", "/articles/{article}", "anyone"),
    ("article-from-search", "/articles/{article}?q=空港&page=1", "anyone"),
    ("login", "/login", "anyone"),
    ("not-found", "/no-such-page", "anyone"),
    ("article-not-found", "/articles/999999", "anyone"),
    ("home-logged-in", "/", "admin"),
    ("results-logged-in", "/?q=観光", "admin"),
    ("article-logged-in", "/articles/{article}", "admin"),
    ("account", "/account", "admin"),
    ("saved-searches", "/saved", "admin"),
    ("admin", "/admin", "admin"),
    ("upload", "/upload", "admin"),
    ("edit", "/articles/{article}/edit", "admin"),
    ("delete", "/articles/{article}/delete", "admin"),
    ("save-from-bookmarklet", "/save", "admin"),
]


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.is_file():
        reason = f"axe-core is not installed at {AXE} (bash scripts/test.sh installs it: npm ci)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return AXE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """The sample archive with an administrator and one saved search: its home, an article."""
    home = tmp_path_factory.mktemp("axe-home")
    with make_archive(home) as archive:
        assert import_into(archive, SAMPLE).ok
        admin = archive.add_user("admin", PASSWORD, "admin")
        archive.save_search(admin.id, "観光", {"q": "観光", "sort": "newest"})
        article = archive.search("関西国際空港").hits[0].id
    return home, article


@pytest.fixture(scope="module")
def team_url(team: tuple[Path, int], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with served(team[0], tmp_path_factory.mktemp("axe-server") / "serve.log") as url:
        yield url


@pytest.fixture(scope="module")
def findings() -> Iterator[dict[str, dict[str, list[str]]]]:
    found: dict[str, dict[str, list[str]]] = {}
    yield found
    REPORT.write_text(json.dumps(found, ensure_ascii=False, indent=1), encoding="utf-8")


@pytest.fixture(scope="module")
def admin_session(browser: Browser, team_url: str) -> dict:  # noqa: F811
    """The administrator's cookies, logged in once (logins are throttled)."""
    context = browser.new_context(base_url=team_url, locale="ja-JP")
    page = context.new_page()
    page.goto("/login")
    page.fill("input[name=name]", "admin")
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="ログイン").click()
    expect(page.locator("nav.account .who")).to_have_text("admin")
    state = context.storage_state()
    context.close()
    return state


def open_page(chromium: Browser, base_url: str, session: dict | None = None, **options) -> Page:
    # The archive's Content-Security-Policy allows no inline script: axe is injected past it.
    context = chromium.new_context(
        base_url=base_url, locale="ja-JP", bypass_csp=True, storage_state=session, **options
    )
    context.set_default_timeout(15_000)
    return context.new_page()


def violations(page: Page, axe: str) -> list[dict]:
    page.add_script_tag(content=axe)
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return result["violations"]


@pytest.mark.parametrize(("name", "path", "who"), PAGES, ids=[p[0] for p in PAGES])
def test_no_serious_accessibility_violation(
    name,
    path,
    who,
    request,
    browser: Browser,  # noqa: F811
    team,
    team_url,
    axe_source,
    findings,
) -> None:
    session = request.getfixturevalue("admin_session") if who == "admin" else None
    page = open_page(browser, team_url, session)
    try:
        page.goto(path.format(article=team[1]))
        found = violations(page, axe_source)
    finally:
        page.context.close()
    findings[name] = {
        f"{v['id']} ({v['impact']})": [" ".join(n["target"]) for n in v["nodes"]] for v in found
    }
    bad = {k: v for k, v in findings[name].items() if k.split(" (")[1][:-1] in FAILING}
    assert not bad, f"{name} ({path}): {bad}"


def test_every_page_has_one_main_heading(
    browser: Browser,  # noqa: F811
    team,
    team_url,
    admin_session,
) -> None:
    for name, path, who in PAGES:
        page = open_page(browser, team_url, admin_session if who == "admin" else None)
        try:
            page.goto(path.format(article=team[1]))
            assert page.locator("h1").count() == 1, name
        finally:
            page.context.close()


def tabs_to(page: Page, selector: str, limit: int = 40) -> int:
    """How many Tabs (and an Enter on a skip link, counted as one key) reach ``selector``."""
    target = page.locator(selector).first
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if target.evaluate("e => e === document.activeElement"):
            return presses
        if page.evaluate("document.activeElement.textContent") == "結果へ移動":
            page.keyboard.press("Enter")
    return limit + 1


@pytest.mark.parametrize("viewport", [1280, 390])
@pytest.mark.parametrize("path", ["/?q=観光", "/?q=観光&site=kinki-times.example&page=1"])
def test_the_skip_link_reaches_the_first_result_in_a_few_keys(
    browser: Browser,  # noqa: F811
    team_url,
    path,
    viewport,
) -> None:
    page = open_page(browser, team_url, viewport={"width": viewport, "height": 900})
    try:
        page.goto(path)
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")
        skip = page.locator("a.skip", has_text="結果へ移動")
        expect(skip).to_be_focused()
        expect(skip).to_be_visible()
        page.keyboard.press("Enter")
        page.keyboard.press("Tab")
        expect(page.locator("ol.hits > li.hit h2 a").first).to_be_focused()
    finally:
        page.context.close()


def test_the_results_are_reached_in_four_keys(browser: Browser, team_url) -> None:  # noqa: F811
    page = open_page(browser, team_url)
    try:
        page.goto("/?q=観光")
        assert tabs_to(page, "ol.hits > li.hit h2 a") <= 4
    finally:
        page.context.close()
