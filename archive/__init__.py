"""The web front of the archive: a search page, article pages and a JSON API."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from flask import Flask

from archive.hosts import DEFAULT_PUBLIC_URL, host_name, public_host, public_url
from indexer.archive import Archive, Settings


def _beside_or_inside(name: str) -> Path:
    """``name``/ beside the package in a checkout; inside it once installed from a wheel."""
    here = Path(__file__).resolve().parent
    return next(path for path in (here.parent / name, here / name) if path.is_dir())


TEMPLATES = _beside_or_inside("templates")
STATIC = _beside_or_inside("static")


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app; ``test_config`` may set ``ARCHIVE_HOME``, ``ARCHIVE_DATABASE_URL``,
    ``ARCHIVE_SEARCH_BUDGET_MS`` (how long one search may take), ``ALLOWED_HOSTS``, the ``Host`` names it answers to (``None``: any), and
    ``PUBLIC_URL``, the address its feeds and absolute links start with
    (``ARCHIVE_PUBLIC_URL``, else ``http://127.0.0.1:8000``).

    A ``ValueError`` says what is wrong with a name or address given.
    """
    app = Flask(__name__, template_folder=str(TEMPLATES), static_folder=str(STATIC))
    app.config.from_mapping(
        ARCHIVE_HOME=os.environ.get("ARCHIVE_HOME"),
        ARCHIVE_DATABASE_URL=os.environ.get("ARCHIVE_DATABASE_URL"),
        ARCHIVE_SEARCH_BUDGET_MS=os.environ.get("ARCHIVE_SEARCH_BUDGET_MS"),
        ALLOWED_HOSTS=None,
        PUBLIC_URL=os.environ.get("ARCHIVE_PUBLIC_URL") or DEFAULT_PUBLIC_URL,
    )
    if test_config is not None:
        app.config.from_mapping(test_config)
    app.config["PUBLIC_URL"] = public_url(app.config["PUBLIC_URL"])
    if app.config["ALLOWED_HOSTS"] is not None:
        # The public name is the one a reverse proxy in front passes on.
        names = [*app.config["ALLOWED_HOSTS"], public_host(app.config["PUBLIC_URL"])]
        app.config["ALLOWED_HOSTS"] = frozenset(host_name(name) for name in names)
    keys = ("ARCHIVE_HOME", "ARCHIVE_DATABASE_URL", "ARCHIVE_SEARCH_BUDGET_MS")
    given = {k: str(app.config[k]) for k in keys if app.config.get(k) not in (None, "")}
    settings = Settings.from_env(given)
    app.json.ensure_ascii = False
    app.extensions["archive"] = archive = Archive(settings)
    # The synonym map takes a second or two to build the first time: not on a reader's search.
    threading.Thread(target=archive.load_synonyms, name="load-synonyms", daemon=True).start()

    from archive import headers, views

    app.register_blueprint(views.bp)
    views.register_error_pages(app)
    headers.register(app)
    return app
