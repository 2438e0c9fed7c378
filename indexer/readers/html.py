"""A news or blog article page saved as HTML.

The main text is found by trafilatura, after ruby readings (``<rt>``, ``<rp>``)
are dropped so that 漢字 stays whole, and after ad boxes trafilatura does not
know are pruned.  Each metadata field is taken from the first source that has
it, in this order:

1. JSON-LD (``<script type="application/ld+json">``): the first
   ``NewsArticle``/``Article``/``BlogPosting`` object, also inside a list,
   ``@graph`` or ``mainEntity``;
2. ``<meta>`` and Open Graph (``og:title``, ``article:published_time``, …),
   and ``<link rel="canonical">`` for the URL, which it prefers to every other;
3. what trafilatura makes of the page.

A date is only ever read from the page's markup, never guessed from its text
(trafilatura's date search would take a footer's "© 2003-2024" for 2024-01-01).
The bytes are read in the charset the page declares (``<meta charset>``, the
``http-equiv`` content type, an XML declaration) when they really are in it,
except that valid UTF-8 stays UTF-8; otherwise they are read as any text file.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.etree
import lxml.html
import trafilatura

from indexer.errors import ReadError
from indexer.readers.dates import parse_date
from indexer.readers.decoding import decode_declared
from indexer.readers.drafts import ArticleDraft, normalized_text, shortened_title, site_of

FORMAT = "html"

NO_TEXT = "HTMLページに記事の本文が見つかりません"

# --- Parsing and cleaning ---------------------------------------------------

_XML_DECLARATION_TEXT = re.compile(r"^\s*<\?xml[^>]*\?>")

# Ad boxes under names trafilatura does not prune ("sponsored", "pr-box", "ads", …).
_AD_BOXES = lxml.etree.XPath(
    """
    //*[self::div or self::section or self::aside or self::p or self::span or self::ul
        or self::ins or self::figure or self::iframe]
       [re:test(@class, $ad, 'i') or re:test(@id, $ad, 'i')]
    """,
    namespaces={"re": "http://exslt.org/regular-expressions"},
)
_AD_NAME = r"(^|[\s_-])(ads?|pr|advert\w*|sponsor\w*|promo\w*|adsbygoogle)($|[\s_-])"


def parse_page(text: str, path: str) -> lxml.html.HtmlElement:
    # lxml refuses a str that still declares its (already applied) encoding.
    text = _XML_DECLARATION_TEXT.sub("", text.lstrip("\ufeff"), count=1)
    try:
        return lxml.html.document_fromstring(text)
    except (lxml.etree.ParserError, ValueError):
        raise ReadError(path, NO_TEXT) from None


def drop_ruby_readings(tree: lxml.html.HtmlElement) -> None:
    """Keep the base text of every ``<ruby>`` and drop its readings: 漢<rt>かん</rt>字 → 漢字."""
    for element in list(tree.iter("rt", "rp", "rtc")):
        element.drop_tree()  # keeps the element's tail, the next base character
    lxml.etree.strip_tags(tree, "ruby", "rb", "rbc")


def _unwrap_times_in_sentences(tree: lxml.html.HtmlElement) -> None:
    # trafilatura deletes every <time>, even one in the middle of a sentence:
    # "会見は<time>1月20日</time>に開かれた" would come out as "会見はに開かれた".
    for element in list(tree.iter("time")):
        if element.tail and element.tail.strip():
            element.drop_tag()


def _drop_ad_boxes(tree: lxml.html.HtmlElement) -> None:
    for element in _AD_BOXES(tree, ad=_AD_NAME):
        if element.getparent() is not None and element.find(".//h1") is None:
            element.drop_tree()


# --- Metadata ---------------------------------------------------------------


@dataclass(frozen=True)
class PageMetadata:
    """One source's view of the article; every field may be missing."""

    title: str | None = None
    url: str | None = None
    author: str | None = None
    published: str | None = None
    category: str | None = None
    tags: tuple[str, ...] = ()
    site_name: str | None = None


_ASCII_SPACE = re.compile(r"[ \t\r\n\f\v]+")
_KEYWORD_SEPARATOR = re.compile(r"[,，、]")


def _clean(value: Any) -> str | None:
    """A metadata string with entities undone and spacing tidied; ``None`` for anything else."""
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str) and v.strip()), None)
    if not isinstance(value, str):
        return None
    return _ASCII_SPACE.sub(" ", unescape(value)).strip() or None


def _is_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
        return parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:  # "http://[oops"
        return False


def _keywords(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    words: list[str] = []
    for item in items:
        text = _clean(item)
        if text:
            words.extend(w.strip() for w in _KEYWORD_SEPARATOR.split(text))
    return tuple(dict.fromkeys(w for w in words if w))


# JSON-LD


def _json_ld_documents(tree: lxml.html.HtmlElement) -> Iterator[Any]:
    for script in tree.iter("script"):
        kind = (script.get("type") or "").strip().lower()
        if not kind.startswith("application/ld+json") or not script.text:
            continue
        try:
            document = json.loads(script.text)
            # Half a surrogate pair ("\ud800") parses, but no text holding it can be stored.
            json.dumps(document, ensure_ascii=False).encode("utf-8")
        except (ValueError, RecursionError):
            continue  # a broken block (or one nested past reason) costs that block, not the page
        yield document


def _nodes(documents: list[Any]) -> Iterator[dict[str, Any]]:
    """Every object in ``documents``, shallow ones first (top level and ``@graph``)."""
    queue: deque[Any] = deque(documents)
    while queue:
        item = queue.popleft()
        if isinstance(item, list):
            queue.extend(item)
        elif isinstance(item, dict):
            yield item
            queue.extend(v for v in item.values() if isinstance(v, dict | list))


def _types(node: dict[str, Any]) -> list[str]:
    kinds = node.get("@type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    return [re.split(r"[/:#]", k)[-1] for k in kinds if isinstance(k, str)]


def _is_article(node: dict[str, Any]) -> bool:
    return any(k.endswith(("Article", "BlogPosting")) for k in _types(node))


def _names(value: Any, ids: dict[str, dict[str, Any]]) -> list[str]:
    """The names in an ``author``/``publisher`` value: a string, an object, a reference, a list."""
    names = []
    # A loop, not recursion: lists may nest as deep as JSON allows.
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, list):
            pending.extend(reversed(item))
            continue
        if isinstance(item, dict):
            if "name" not in item and isinstance(item.get("@id"), str):
                item = ids.get(item["@id"], item)
            if name := _clean(item.get("name")):
                names.append(name)
        elif (name := _clean(item)) and not _is_url(name):
            names.append(name)
    return names


def _json_ld_url(node: dict[str, Any]) -> str | None:
    for value in (node.get("url"), node.get("mainEntityOfPage")):
        if isinstance(value, dict):
            value = value.get("@id") or value.get("url")
        url = _clean(value)
        if url and _is_url(url):
            return url
    return None


def json_ld_metadata(tree: lxml.html.HtmlElement) -> PageMetadata:
    """What the page's first JSON-LD article object says about it."""
    nodes = list(_nodes(list(_json_ld_documents(tree))))
    article = next((node for node in nodes if _is_article(node)), None)
    if article is None:
        return PageMetadata()
    ids: dict[str, dict[str, Any]] = {}
    for node in nodes:
        if isinstance(node.get("@id"), str) and node.keys() - {"@id"}:  # not a bare reference
            ids.setdefault(node["@id"], node)
    authors = list(dict.fromkeys(_names(article.get("author"), ids)))
    publishers = _names(article.get("publisher"), ids)
    return PageMetadata(
        title=_clean(article.get("headline")) or _clean(article.get("name")),
        url=_json_ld_url(article),
        author="、".join(authors) or None,
        published=_clean(article.get("datePublished")),
        category=_clean(article.get("articleSection")),
        tags=_keywords(article.get("keywords")),
        site_name=publishers[0] if publishers else None,
    )


# <meta>, Open Graph and <link rel="canonical">


def _meta_values(tree: lxml.html.HtmlElement) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for meta in tree.iter("meta"):
        key = meta.get("property") or meta.get("name") or meta.get("itemprop")
        content = _clean(meta.get("content"))
        if key and content:
            values.setdefault(key.strip().lower(), []).append(content)
    return values


def _canonical(tree: lxml.html.HtmlElement) -> str | None:
    for link in tree.iter("link"):
        if "canonical" in (link.get("rel") or "").lower().split():
            return _clean(link.get("href"))
    return None


def _absolute(url: str | None, *bases: str | None) -> str | None:
    """``url`` made absolute against the first absolute base; ``None`` if it cannot be."""
    if not url:
        return None
    if _is_url(url):
        return url
    for base in bases:
        if base and _is_url(base):
            try:
                joined = urljoin(base, url)
            except ValueError:  # "//[oops"
                return None
            return joined if _is_url(joined) else None
    return None


def meta_metadata(tree: lxml.html.HtmlElement, base: str | None = None) -> PageMetadata:
    """What the page's ``<meta>`` tags (Open Graph first) and canonical link say about it."""
    meta = _meta_values(tree)

    def first(*keys: str) -> str | None:
        return next((meta[key][0] for key in keys if key in meta), None)

    og_url = _absolute(first("og:url"), base)
    authors = [a for a in meta.get("article:author", []) if not _is_url(a)] or meta.get("author")
    return PageMetadata(
        title=first("og:title"),
        url=_absolute(_canonical(tree), og_url, base) or og_url,
        author=authors[0] if authors else None,
        published=first("article:published_time"),
        category=first("article:section"),
        tags=tuple(dict.fromkeys(meta.get("article:tag", []))),
        site_name=first("og:site_name"),
    )


# trafilatura

# Dates only from markup (meta, JSON-LD, <time>, the URL), never from the
# text; with the time of day and offset when the markup gives them.
_DATE_PARAMS = {
    "extensive_search": False,
    "original_date": True,
    "outputformat": "%Y-%m-%dT%H:%M:%S%z",
}


def _extract(tree: lxml.html.HtmlElement, path: str) -> Any:
    try:
        return trafilatura.bare_extraction(
            tree,
            with_metadata=True,
            include_comments=False,
            include_tables=False,
            favor_precision=True,
            date_extraction_params=dict(_DATE_PARAMS),
        )
    except Exception as exc:  # a third-party parser's bug must cost one page, not the import
        raise ReadError(path, f"HTMLページとして読めません（{exc.__class__.__name__}）") from exc


def _trafilatura_metadata(document: Any) -> PageMetadata:
    categories = [c for c in (document.categories or []) if c.strip()]
    url = _clean(document.url)
    return PageMetadata(
        title=_clean(document.title),
        url=url if url and _is_url(url) else None,
        author=_clean(document.author),
        published=_clean(document.date),
        category=categories[0].strip() if categories else None,
        tags=_keywords(document.tags or []),
        site_name=_clean(document.sitename),
    )


# --- The article ------------------------------------------------------------

# A label left alone on its line once trafilatura has dropped the <time> after it: "掲載日：".
_LABEL_ONLY = re.compile(r"^\S{1,10}\s*[:：]$")


def _body_lines(text: str, titles: set[str]) -> list[str]:
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if line and not _LABEL_ONLY.match(line)]
    # The page's own headline often opens the extracted text: it is the title, not the body.
    if lines and normalized_text(lines[0]) in titles:
        lines = lines[1:]
    return lines


def _first(*values: str | None) -> str | None:
    return next((v for v in values if v), None)


def read_bytes(data: bytes, path: str) -> ArticleDraft:
    """The article in a saved HTML page; a :class:`ReadError` naming ``path`` if it has none."""
    tree = parse_page(decode_declared(data, path), path)
    drop_ruby_readings(tree)
    from_json_ld = json_ld_metadata(tree)
    from_meta = meta_metadata(tree, base=from_json_ld.url)
    _unwrap_times_in_sentences(tree)
    _drop_ad_boxes(tree)
    document = _extract(tree, path)
    if document is None:
        raise ReadError(path, NO_TEXT)
    from_page = _trafilatura_metadata(document)
    sources = (from_json_ld, from_meta, from_page)

    titles = {normalized_text(s.title) for s in sources if s.title}
    paragraphs = _body_lines(document.text or "", titles)
    if not paragraphs:
        raise ReadError(path, NO_TEXT)
    title = shortened_title(_first(*(s.title for s in sources)) or paragraphs[0])
    url = _first(from_meta.url, from_json_ld.url, from_page.url)
    published = next(
        (date for s in sources if s.published and (date := parse_date(s.published))), None
    )
    return ArticleDraft(
        title=title,
        body="\n".join(paragraphs),
        url=url,
        site=site_of(url),
        author=_first(*(s.author for s in sources)),
        published_at=published,
        category=_first(*(s.category for s in sources)),
        tags=next((s.tags for s in sources if s.tags), ()),
        source_path=path,
        source_format=FORMAT,
    )
