"""The web front of the archive: a search page, article pages and a JSON API."""

from __future__ import annotations

import os
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from archive import auth
from archive.hosts import DEFAULT_PUBLIC_URL, host_name, public_host, public_url
from indexer.archive import Archive, Settings


def _beside_or_inside(name: str) -> Path:
    """``name``/ beside the package in a checkout; inside it once installed from a wheel."""
    here = Path(__file__).resolve().parent
    return next(path for path in (here.parent / name, here / name) if path.is_dir())


TEMPLATES = _beside_or_inside("templates")
STATIC = _beside_or_inside("static")


# What one request may send: a few saved pages or a JSON Lines file of some size.
MAX_REQUEST_BYTES = 64 * 1024 * 1024
# A form field (the bookmarklet's page, pasted HTML) may hold one article's page.
MAX_FORM_FIELD_BYTES = 12 * 1024 * 1024


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app; ``test_config`` may set ``ARCHIVE_HOME``, ``ARCHIVE_DATABASE_URL``,
    ``ARCHIVE_SEARCH_BUDGET_MS`` (how long one search may take), ``ALLOWED_HOSTS`` (the
    ``Host`` names it answers to; ``None``: any), ``PUBLIC_URL`` (the address its feeds
    and absolute links start with: ``ARCHIVE_PUBLIC_URL``, else ``http://127.0.0.1:8000``),
    ``ACCESS`` (``private``: log in first, the default; ``open``: anyone may read) and
    ``HTTPS`` (served behind an HTTPS proxy: secure cookies).

    A ``ValueError`` says what is wrong with a name or address given.
    """
    app = Flask(__name__, template_folder=str(TEMPLATES), static_folder=str(STATIC))
    app.config.from_mapping(
        ARCHIVE_HOME=os.environ.get("ARCHIVE_HOME"),
        ARCHIVE_DATABASE_URL=os.environ.get("ARCHIVE_DATABASE_URL"),
        ARCHIVE_SEARCH_BUDGET_MS=os.environ.get("ARCHIVE_SEARCH_BUDGET_MS"),
        ALLOWED_HOSTS=None,
        PUBLIC_URL=os.environ.get("ARCHIVE_PUBLIC_URL") or DEFAULT_PUBLIC_URL,
        # Closed unless whoever starts the app says otherwise (serve does, on loopback).
        ACCESS=os.environ.get("ARCHIVE_ACCESS", "private"),
        HTTPS=False,
        # Per client address.  Counted in each process unless the limits are kept
        # elsewhere (ARCHIVE_RATELIMIT_STORAGE_URI, e.g. redis://host:6379).
        LOGIN_RATE_LIMIT="5 per minute; 30 per hour",
        RATELIMIT_STORAGE_URI=os.environ.get("ARCHIVE_RATELIMIT_STORAGE_URI", "memory://"),
        MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
        MAX_FORM_MEMORY_SIZE=MAX_FORM_FIELD_BYTES,
        SESSION_COOKIE_NAME="archive_session",
        SESSION_COOKIE_HTTPONLY=True,
        # Sent with a link followed from elsewhere, never with a post from elsewhere.
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(days=14),
        # A CSRF token lasts as long as the session it belongs to.
        WTF_CSRF_TIME_LIMIT=None,
    )
    if test_config is not None:
        app.config.from_mapping(test_config)
    if app.config["ACCESS"] not in auth.ACCESS_MODES:
        raise ValueError(f"ACCESS must be one of {auth.ACCESS_MODES}, not {app.config['ACCESS']!r}")
    app.config["PUBLIC_URL"] = public_url(app.config["PUBLIC_URL"])
    if app.config["ALLOWED_HOSTS"] is not None:
        # The public name is the one a reverse proxy in front passes on.
        names = [*app.config["ALLOWED_HOSTS"], public_host(app.config["PUBLIC_URL"])]
        app.config["ALLOWED_HOSTS"] = frozenset(host_name(name) for name in names)
    if app.config["HTTPS"]:
        app.config.update(SESSION_COOKIE_SECURE=True, PREFERRED_URL_SCHEME="https")
        # The proxy in front says it was HTTPS (X-Forwarded-Proto) and who asked.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)
    keys = ("ARCHIVE_HOME", "ARCHIVE_DATABASE_URL", "ARCHIVE_SEARCH_BUDGET_MS")
    given = {k: str(app.config[k]) for k in keys if app.config.get(k) not in (None, "")}
    settings = Settings.from_env(given)
    app.json.ensure_ascii = False
    app.extensions["archive"] = archive = Archive(settings)
    # Signed with the database's secret, so that every worker and node reads every session.
    if not app.config.get("SECRET_KEY"):
        app.secret_key = archive.web_secret()
    # The synonym map takes a second or two to build the first time: not on a reader's search.
    threading.Thread(target=archive.load_synonyms, name="load-synonyms", daemon=True).start()

    from archive import accounts, caching, desk, editing, exports, headers, views

    app.register_blueprint(views.bp)
    app.register_blueprint(accounts.bp)
    app.register_blueprint(editing.bp)
    app.register_blueprint(desk.bp)
    exports.register(app)
    views.register_error_pages(app)
    limiter = auth.register(app)
    # Each app has its limiter (its own counts); the login view is wrapped by it.
    app.view_functions["accounts.login"] = limiter.limit(
        lambda: app.config["LOGIN_RATE_LIMIT"], methods=["POST"]
    )(accounts.login)
    caching.register(app)
    headers.register(app)
    return app
