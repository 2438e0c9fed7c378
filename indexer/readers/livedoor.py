"""The livedoor news corpus layout: URL, ISO date and title on lines 1–3, then the body.

The corpus keeps each category in a folder of its name, its files named after
it (``sports-watch/sports-watch-4764756.txt``): that folder is the category.
"""

from __future__ import annotations

import re
from pathlib import PurePath

from indexer.errors import ReadError
from indexer.readers.dates import parse_date
from indexer.readers.drafts import ArticleDraft, site_of

FORMAT = "livedoor"

_URL = re.compile(r"^https?://\S+$")
# Detection wants the whole second line to be a timestamp, as in the corpus
# (2010-05-22T14:30:00+0900): a saved page with a dated second line is not livedoor.
_TIMESTAMP_LINE = re.compile(
    r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?)?(?:Z|[+-]\d{2}:?\d{2})?$"
)


def looks_like(text: str) -> bool:
    """Whether ``text`` opens with a URL line and a date line."""
    lines = text.lstrip("\ufeff").split("\n", 3)
    return (
        len(lines) >= 3
        and bool(_URL.match(lines[0].strip()))
        and bool(_TIMESTAMP_LINE.match(lines[1].strip()))
    )


def category_of(path: str) -> str | None:
    """The corpus's category: the folder, when the file is named after it as in the corpus."""
    file = PurePath(path.replace("\\", "/"))
    folder = file.parent.name
    return folder if folder and file.stem.startswith(f"{folder}-") else None


def read_text(text: str, path: str) -> ArticleDraft:
    lines = text.lstrip("\ufeff").splitlines()
    if len(lines) < 3 or not _URL.match(lines[0].strip()):
        raise ReadError(path, "livedoor 形式ではありません（1行目は記事のURLです）")
    url = lines[0].strip()
    published = parse_date(lines[1])
    if published is None:
        raise ReadError(path, f"2行目を日付として読めません: {lines[1].strip()[:40]!r}")
    title = lines[2].strip()
    body = "\n".join(line.strip() for line in lines[3:] if line.strip())
    if not title:
        raise ReadError(path, "3行目（見出し）が空です")
    if not body:
        raise ReadError(path, "記事に本文がありません")
    return ArticleDraft(
        title=title,
        body=body,
        url=url,
        site=site_of(url),
        published_at=published,
        category=category_of(path),
        source_path=path,
        source_format=FORMAT,
    )
