"""JSON Lines exports: one article per line.

Each line is an object with ``title`` and ``body`` and optionally ``url``,
``published_at``, ``site``, ``author``, ``tags``, ``category`` (and the other
fields ``python -m indexer export`` writes).  A bad line is reported with its
number; the good lines around it are kept.
"""

from __future__ import annotations

import codecs
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

from indexer.errors import ReadError
from indexer.readers.dates import parse_date
from indexer.readers.decoding import decode
from indexer.readers.drafts import ArticleDraft, lone_surrogate, site_of

FORMAT = "jsonl"


def _checked(key: str, value: str) -> str:
    """The string as an article field: half a surrogate pair is refused, a NUL dropped.

    A NUL ("\\u0000") stands for nothing in an article's text (an exporter's
    slip), and PostgreSQL's text cannot hold one: the rest of the line is kept.
    """
    if found := lone_surrogate(value):
        raise ValueError(
            f"{key} に文字として読めないコード（対のないサロゲート U+{ord(found):04X}）があります"
        )
    return value.replace("\x00", "")


def _text(record: dict[str, Any], key: str) -> str | None:
    value = record.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{key} は文字列にしてください（{type(value).__name__} になっています）")
    return _checked(key, value).strip() or None


def _strings(record: dict[str, Any], key: str) -> tuple[str, ...]:
    value = record.get(key)
    if value is None:
        return ()
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{key} は文字列のリストにしてください")
    return tuple(_checked(key, v).strip() for v in value if v.strip())


def draft_from_record(record: Any, path: str, line: int | None = None) -> ArticleDraft:
    """The article a JSON object describes; ``ValueError`` says what is wrong with it."""
    if not isinstance(record, dict):
        raise ValueError(f"JSONオブジェクトではありません（{type(record).__name__}）")
    title = _text(record, "title")
    body = _text(record, "body")
    if not title:
        raise ValueError("記事に見出し（title）がありません")
    if not body:
        raise ValueError("記事に本文（body）がありません")
    published = None
    if raw_date := _text(record, "published_at"):
        published = parse_date(raw_date)
        if published is None:
            raise ValueError(f"published_at を日付として読めません: {raw_date[:40]!r}")
    url = _text(record, "url")
    return ArticleDraft(
        title=title,
        body=body,
        url=url,
        # The site is the URL's host; a "site" field only stands in when there is no URL.
        site=site_of(url) or (_text(record, "site") or "").lower() or None,
        agency=_text(record, "agency"),
        author=_text(record, "author"),
        credit_sources=_strings(record, "credit_sources"),
        captions=_strings(record, "captions"),
        published_at=published,
        category=_text(record, "category"),
        tags=_strings(record, "tags"),
        source_path=path,
        source_format=FORMAT,
        line=line,
    )


def read_bytes(data: bytes, path: str) -> Iterator[ArticleDraft | ReadError]:
    """The articles of a JSON Lines file, and an error for each line that holds none.

    JSON Lines are UTF-8, and each line is read on its own: a line that is not
    UTF-8, or holds a NUL byte, costs that line.  Only a file mostly of such
    lines is read as a whole, as a legacy Japanese encoding, or refused as no text.
    """
    lines = [_utf8(raw) for raw in data.removeprefix(codecs.BOM_UTF8).split(b"\n")]
    filled = [line for line in lines if line is None or line.strip()]
    garbage = sum(1 for line in filled if line is None or "\x00" in line)
    if filled and garbage * 2 <= len(filled):
        yield from read_lines(lines, path)
    else:
        yield from read_lines(io.StringIO(decode(data, path)), path)


def _utf8(line: bytes) -> str | None:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        return None


def read_lines(lines: Iterable[str | None], path: str) -> Iterator[ArticleDraft | ReadError]:
    """Each line's article, or the error that line has, in file order (``None``: not UTF-8)."""
    for number, line in enumerate(lines, start=1):
        if line is None:
            yield ReadError(
                path,
                "UTF-8 として読めない文字があります（JSON Lines は UTF-8 で書きます）",
                line=number,
            )
            continue
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield ReadError(path, f"JSONとして読めません（{exc.msg}）", line=number)
            continue
        except RecursionError:
            yield ReadError(path, "JSONとして読めません（入れ子が深すぎます）", line=number)
            continue
        except ValueError:  # an integer of more than 4,300 digits
            yield ReadError(path, "JSONとして読めません（桁数の多すぎる数があります）", line=number)
            continue
        try:
            yield draft_from_record(record, path, line=number)
        except ValueError as exc:
            yield ReadError(path, str(exc), line=number)
