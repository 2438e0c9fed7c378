"""Exporting a result set: every article a search finds, as CSV or JSON Lines, streamed.

``GET /api/search/export?format=csv|jsonl`` takes the search page's
parameters (``q``, ``sort``, ``from``, ``to``, ``site``, ``category``,
``tag``) and writes one row per article the search's ``total`` counts:
every copy of a story, not only the first page nor one per story.  A row is
the article as ``/api/articles/<id>`` gives it (:func:`archive.views.article_json`,
so a field added to the record is exported too) and ``copies``, the ids of
the other articles of its story; ``body=0`` leaves the body out.

The rows are read from the database a batch at a time and written as they
come (a generator the response streams): an export of the whole
archive never sits in memory.  CSV starts with a UTF-8 byte order mark, which
is how Excel knows the file is UTF-8 (without it, it reads Japanese as
Shift_JIS); its values are quoted where they hold a comma, a quote or a line
break (RFC 4180, CRLF line ends), and a list (tags, copies) is written as a
JSON array in its cell.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import fields
from datetime import datetime
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, request, url_for

from archive.auth import archive
from archive.views import (
    PRIVATE_FIELDS,
    REPEATABLE,
    TOKYO,
    article_json,
    bad_parameter,
    form_values,
    search_filters,
    search_form,
)
from indexer.archive import Archive, ArticleRecord, ExportedArticle
from indexer.errors import QueryError

bp = Blueprint("exports", __name__)

# format → (media type, file extension)
EXPORT_FORMATS = {"csv": ("text/csv", "csv"), "jsonl": ("application/x-ndjson", "jsonl")}
# Rows written to the client at a time: large enough for compression to work on,
# small enough that the first bytes leave at once.
ROWS_PER_CHUNK = 200
BOM = "\ufeff"
# Of the query, this much names the file.
NAME_CHARS = 40


def export_row(item: ExportedArticle, body: bool = True) -> dict[str, Any]:
    """One article as an export writes it: its API record and its story's other articles."""
    row = {**article_json(item.record), "copies": list(item.copies)}
    if not body:
        del row["body"]
    return row


def columns(body: bool = True) -> list[str]:
    """The CSV's columns when there is no row to take them from."""
    names = [f.name for f in fields(ArticleRecord) if f.name not in PRIVATE_FIELDS]
    return [n for n in names if body or n != "body"] + ["copies"]


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | dict | tuple):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def csv_chunks(rows: Iterable[dict[str, Any]], body: bool = True) -> Iterator[str]:
    """The rows as CSV text, a chunk at a time, the header first (the BOM before it)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    header: list[str] | None = None
    written = 0
    for row in rows:
        if header is None:
            header = list(row)
            buffer.write(BOM)
            writer.writerow(header)
        writer.writerow([cell(row.get(name)) for name in header])
        written += 1
        if written % ROWS_PER_CHUNK == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if header is None:
        buffer.write(BOM)
        writer.writerow(columns(body))
    yield buffer.getvalue()


def jsonl_chunks(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    """The rows as JSON Lines (one object a line, UTF-8 as it is), a chunk at a time."""
    lines: list[str] = []
    for row in rows:
        lines.append(json.dumps(row, ensure_ascii=False) + "\n")
        if len(lines) == ROWS_PER_CHUNK:
            yield "".join(lines)
            lines.clear()
    yield "".join(lines)


def write_rows(
    target: Archive, fmt: str, query: str = "", body: bool = True, **search: Any
) -> Iterator[str]:
    """The export of a search (``search``: Archive.export_records' filters), as text chunks.

    The search runs now (a :class:`~indexer.errors.QueryError` is raised here,
    before anything is written); the articles are read as the chunks are taken.
    """
    records = target.export_records(query, **search)
    rows = (export_row(item, body) for item in records)
    return csv_chunks(rows, body) if fmt == "csv" else jsonl_chunks(rows)


def _flag(name: str) -> bool:
    raw = request.args.get(name, "").strip().lower()
    if raw in ("", "1", "true", "yes"):
        return True
    if raw in ("0", "false", "no"):
        return False
    raise QueryError(f"{name} は 1 か 0 で指定してください（{raw[:20]!r} は読めません）。", name)


def file_names(query: str, ext: str) -> str:
    """The Content-Disposition: an ASCII name for every client, the query's in UTF-8 beside it."""
    stamp = datetime.now(TOKYO).strftime("%Y%m%d-%H%M%S")
    plain = f"archive-export-{stamp}.{ext}"
    words = "".join(c if c.isalnum() else "_" for c in query.strip())[:NAME_CHARS].strip("_")
    if not words:
        return f'attachment; filename="{plain}"'
    named = quote(f"archive-{words}-{stamp}.{ext}", safe="")
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{named}"


def export_url(fmt: str) -> str:
    """The export of this request's search (no page or page size: every result)."""
    form: dict[str, str | list[str]] = {
        k: v for k, v in search_form().items() if k not in ("limit", "group", *REPEATABLE) and v
    }
    form.update({name: form_values(name) for name in REPEATABLE if form_values(name)})
    return url_for("exports.export", format=fmt, **form)


@bp.get("/api/search/export")
def export():
    """Every result of a search, as a file: ``format=csv`` (the default) or ``jsonl``."""
    form = search_form()
    fmt = request.args.get("format", "csv").strip().lower()
    try:
        if fmt not in EXPORT_FORMATS:
            raise QueryError(
                f"format は csv か jsonl で指定してください（{fmt[:20]!r} は使えません）。",
                "format",
            )
        body = _flag("body")
        query = form["q"]
        chunks = write_rows(
            archive(),
            fmt,
            query,
            body,
            sort=form["sort"] or ("relevance" if query.strip() else "newest"),
            **search_filters(),
        )
    except QueryError as exc:
        return bad_parameter(exc)
    mimetype, ext = EXPORT_FORMATS[fmt]
    # A plain generator: it needs no request context (the archive was passed in), and
    # Flask-Compress wraps a stream it compresses in stream_with_context itself, which
    # cannot be nested.
    response = Response(chunks, mimetype=mimetype)
    response.headers["Content-Disposition"] = file_names(query, ext)
    return response


def register(app: Any) -> None:
    app.register_blueprint(bp)
    app.add_template_global(export_url)
