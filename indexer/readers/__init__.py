"""Reading article files of every supported format.

The format is detected per file (``--format`` overrides it): ``.jsonl`` and
``.ndjson`` are JSON Lines; ``.html`` and ``.htm`` are saved HTML pages; a text
file whose first two lines are a URL and a date is livedoor-style; any other
text file is a saved news page.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

from indexer.errors import ReadError
from indexer.readers import html, jsonl, livedoor, plaintext
from indexer.readers.decoding import decode
from indexer.readers.drafts import ArticleDraft

log = logging.getLogger(__name__)

FORMATS = ("auto", plaintext.FORMAT, livedoor.FORMAT, jsonl.FORMAT, html.FORMAT)

# One article in a text file is never this big; a larger file is a mistake.
MAX_ARTICLE_BYTES = 10 * 1024 * 1024

_JSONL_SUFFIXES = {".jsonl", ".ndjson"}
_HTML_SUFFIXES = {".html", ".htm"}


def detect_format(path: Path, text: str | None = None) -> str:
    suffix = path.suffix.lower()
    if suffix in _JSONL_SUFFIXES:
        return jsonl.FORMAT
    if suffix in _HTML_SUFFIXES:
        return html.FORMAT
    if text is not None and livedoor.looks_like(text):
        return livedoor.FORMAT
    return plaintext.FORMAT


def _read_bytes(path: Path, limit: int | None) -> bytes:
    try:
        size = path.stat().st_size
        if limit is not None and size > limit:
            raise ReadError(
                str(path),
                f"1件の記事としては大きすぎます（{size / 1_048_576:.1f} MB、"
                f"上限は {limit // 1_048_576} MB）",
            )
        return path.read_bytes()
    except FileNotFoundError:
        raise ReadError(str(path), "ファイルがありません") from None
    except PermissionError:
        raise ReadError(str(path), "読み取る権限がありません") from None
    except IsADirectoryError:
        raise ReadError(str(path), "フォルダーです") from None
    except OSError as exc:
        raise ReadError(str(path), f"読み取れません（{exc.strerror or exc}）") from None


def read_file(path: Path, fmt: str = "auto") -> Iterator[ArticleDraft | ReadError]:
    """Every article in ``path``, and an error for each part that cannot be read.

    Errors are yielded, not raised, so that one bad line of a JSON Lines file
    costs only that line.
    """
    name = str(path)
    try:
        if fmt == "auto" and (by_suffix := detect_format(path)) in (jsonl.FORMAT, html.FORMAT):
            fmt = by_suffix
        data = _read_bytes(path, None if fmt == jsonl.FORMAT else MAX_ARTICLE_BYTES)
    except ReadError as exc:
        yield exc
        return
    yield from read_data(data, name, fmt)


def read_data(data: bytes, name: str, fmt: str = "auto") -> Iterator[ArticleDraft | ReadError]:
    """Every article in the bytes of a file called ``name`` (an upload, say), as :func:`read_file`."""
    try:
        if fmt == "auto" and (by_suffix := detect_format(Path(name))) in (
            jsonl.FORMAT,
            html.FORMAT,
        ):
            fmt = by_suffix
        is_jsonl = fmt == jsonl.FORMAT
        if not is_jsonl and len(data) > MAX_ARTICLE_BYTES:
            raise ReadError(
                name,
                f"1件の記事としては大きすぎます（{len(data) / 1_048_576:.1f} MB、"
                f"上限は {MAX_ARTICLE_BYTES // 1_048_576} MB）",
            )
        if fmt == html.FORMAT:
            # Decoded by the reader, which heeds the charset the page declares.
            yield html.read_bytes(data, name)
            return
        if is_jsonl:
            yield from jsonl.read_bytes(data, name)
            return
        text = decode(data, name)
        if fmt == "auto":
            fmt = detect_format(Path(name), text)
        reader = livedoor if fmt == livedoor.FORMAT else plaintext
        yield reader.read_text(text, name)
    except ReadError as exc:
        yield exc
    except Exception as exc:  # a reader's (or a parser's) bug costs this file, not the import
        log.exception("%s: unexpected error while reading", name)
        yield ReadError(name, f"読み取れませんでした（予期しないエラー: {exc.__class__.__name__}）")
