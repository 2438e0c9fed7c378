"""HTTP done right: compressed answers, and conditional requests answered with a 304.

Compression is Flask-Compress's: zstd, Brotli or gzip, as the client accepts,
for pages, JSON, feeds and exports (a streamed export is compressed as it
streams, a chunk at a time, never gathered first).

The reading answers (the search and article pages, the feed, OpenSearch, the
API and the exports) carry a weak ``ETag`` and a ``Last-Modified``.  They are
not hashes of the body, which would mean making it first: the ETag is made
from what the answer depends on, the archive's state (the last change stored
and the index generation searched, :meth:`~indexer.archive.Archive.state`),
the request (path and query), who asks (their role and name) and this code's
own version.  So a request with a matching ``If-None-Match`` (or, without
one, an ``If-Modified-Since`` no older than the last change) is answered 304
before any search is run, and an import, an edit or a deletion (on this node
or another that shares the database) changes every ETag at once.

A logged-in user's pages hold their CSRF tokens and messages, and a page
with a message to show once is not the archive's state: they get no
validators and stay ``private, no-store`` (archive.headers).  Answers to a
token or a feed key are ``private, no-cache`` (kept by that client only, asked
again each time); anonymous answers of an open archive ``no-cache`` with
``Vary: Cookie, Authorization``, so a shared cache must ask again too and
never hands them to someone logged in.
"""

from __future__ import annotations

import hashlib
from datetime import UTC
from pathlib import Path

from flask import Flask, Response, current_app, g, request, session
from flask_compress import Compress

from archive.auth import archive, principal

# The answers that depend only on the archive's state, the request and who asks.
CONDITIONAL_ENDPOINTS = {
    "archive.search_page",
    "archive.article_page",
    "archive.feed",
    "archive.opensearch",
    "archive.api_search",
    "archive.api_article",
    "exports.export",
}
COMPRESSED_TYPES = [
    "text/html",
    "text/css",
    "text/plain",
    "text/csv",
    "text/javascript",
    "application/javascript",
    "application/json",
    "application/x-ndjson",
    "application/atom+xml",
    "application/opensearchdescription+xml",
    "application/xml",
    "image/svg+xml",
]


def code_version() -> str:
    """What changes when the pages' code does: the app's and templates' files and times."""
    here = Path(__file__).resolve().parent
    files = sorted([*here.glob("*.py"), *Path(current_app.template_folder or "").glob("*")])
    seen = "|".join(f"{p.name}:{p.stat().st_mtime_ns}" for p in files if p.is_file())
    return hashlib.blake2b(seen.encode(), digest_size=8).hexdigest()


def _validated() -> bool:
    # A message waiting to be shown once (flash: "ログアウトしました") is not part of
    # the archive's state: the page that shows it gets no validators either.
    return (
        request.method in ("GET", "HEAD")
        and request.endpoint in CONDITIONAL_ENDPOINTS
        and not principal().is_user
        and not session.get("_flashes")
    )


def answer_unchanged() -> Response | None:
    """A 304 when the client holds this answer already (before any work is done)."""
    if not _validated():
        return None
    state = archive().state()
    who = principal()
    parts = [
        current_app.config["CODE_VERSION"],
        state.version,
        who.kind,
        who.name,
        who.role or "",
        request.full_path,
    ]
    etag = hashlib.blake2b("\n".join(parts).encode(), digest_size=12).hexdigest()
    modified = state.changed_at.astimezone(UTC).replace(microsecond=0) if state.changed_at else None
    g.validators = (etag, modified)
    if request.if_none_match:
        unchanged = request.if_none_match.contains_weak(etag)
    else:
        since = request.if_modified_since
        unchanged = bool(modified and since and modified <= since)
    if not unchanged:
        return None
    response = Response(status=304)
    _describe(response, etag, modified)
    return response


def _describe(response: Response, etag: str, modified) -> None:
    response.set_etag(etag, weak=True)
    if modified is not None:
        response.last_modified = modified
    response.headers["Cache-Control"] = "private, no-cache" if principal().role else "no-cache"
    response.vary.update(("Cookie", "Authorization"))


def add_validators(response: Response) -> Response:
    found = g.pop("validators", None)
    if found is not None and response.status_code == 200:
        _describe(response, *found)
    return response


def register(app: Flask) -> None:
    """Compression and conditional requests on ``app`` (after archive.auth's identify)."""
    app.config.setdefault("COMPRESS_MIMETYPES", COMPRESSED_TYPES)
    # Flask-Compress leaves gzip out of streams by default; curl and many scripts ask for it.
    app.config.setdefault("COMPRESS_ALGORITHM_STREAMING", ["zstd", "br", "gzip", "deflate"])
    with app.app_context():
        app.config["CODE_VERSION"] = code_version()
    Compress(app)
    app.before_request(answer_unchanged)
    # After Flask-Compress's in registration, so run before it (after_request runs in
    # reverse): the validators are on the response when it is compressed.
    app.after_request(add_validators)
