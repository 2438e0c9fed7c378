"""Writing articles out as JSON Lines that ``import`` reads back to the same articles."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, TextIO

from indexer.store.articles import CONTENT_FIELDS, article_record
from indexer.store.models import Article


def export_record(article: Article) -> dict[str, Any]:
    record = article_record(article)
    return {key: record[key] for key in CONTENT_FIELDS}


def write_jsonl(articles: Iterable[Article], out: TextIO) -> int:
    """Write one JSON object per article; returns how many were written."""
    count = 0
    for article in articles:
        out.write(json.dumps(export_record(article), ensure_ascii=False) + "\n")
        count += 1
    return count
