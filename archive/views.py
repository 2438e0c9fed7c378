"""Pages and JSON endpoints.  Views go through :class:`~indexer.archive.Archive`, nothing lower."""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify, render_template, request, url_for
from werkzeug.exceptions import HTTPException

from archive.hosts import host_name
from indexer.archive import DEFAULT_PAGE_SIZE, Archive, SearchPage
from indexer.errors import (
    ArchiveError,
    ArticleNotFound,
    IndexDamaged,
    IndexMissing,
    IndexOutdated,
    QueryError,
)

log = logging.getLogger(__name__)

bp = Blueprint("archive", __name__)

HTTP_MESSAGES = {
    400: ("リクエストが正しくありません", "送られた内容を読み取れませんでした。"),
    404: (
        "ページが見つかりません",
        "お探しのページは見つかりませんでした。アドレスをご確認ください。",
    ),
    405: ("この方法では使えません", "このページはその方法（HTTPメソッド）では使えません。"),
}
SORT_LABELS = {"relevance": "関連度順", "newest": "新しい順", "oldest": "古い順"}
# Where the importing machine keeps its files is no visitor's business: the article
# page shows only the file's name, and the API (unlike ``show --json``) leaves it out.
PRIVATE_FIELDS = ("source_path",)


def archive() -> Archive:
    return current_app.extensions["archive"]


# The search form's fields: every link that keeps the search (pages, the
# suggestion, the way back from an article) carries all of them.
FORM_FIELDS = ("q", "sort", "from", "to", "limit")


def search_form() -> dict[str, str]:
    """The search form as the request filled it in."""
    return {name: request.args.get(name, "") for name in FORM_FIELDS}


@bp.before_app_request
def refuse_unknown_hosts():
    """A 400 for a ``Host`` the app does not answer to (``ALLOWED_HOSTS``; see archive.hosts)."""
    allowed = current_app.config.get("ALLOWED_HOSTS")
    header = request.headers.get("Host")
    # Browsers always send a Host; a request without one is no rebinding attack.
    if not allowed or header is None:
        return None
    name = host_name(header)
    if name in {host_name(h) for h in allowed}:
        return None
    shown = name[:100]
    return _error(
        400,
        "このアドレスでは公開していません",
        f"このサーバーは「{shown}」という名前では公開していません。"
        f"この名前で使うには python -m archive serve --allowed-host {shown} で起動してください。",
    )


def _filled(args: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in args.items() if v not in ("", None)}


@bp.app_template_filter()
def file_name(path: str | None) -> str:
    """The last part of a path, whichever system wrote it."""
    return re.split(r"[\\/]", path)[-1] if path else ""


@bp.app_template_global()
def search_url(**changes: Any) -> str:
    """The results page for this request's search, with ``changes`` (empty fields left out)."""
    return url_for("archive.search_page", **_filled({**search_form(), **changes}))


@bp.app_template_global()
def article_url(article_id: int) -> str:
    """An article's page, keeping this request's search (its words are marked there)."""
    return url_for("archive.article_page", article_id=article_id, **_filled(search_form()))


def _int_arg(name: str, default: int) -> int:
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise QueryError(f"{name} は整数で指定してください（{raw!r} は読めません）。") from None


def _run_search(default_limit: int) -> SearchPage:
    """The search the request asks for (q, page, limit, sort, from, to)."""
    return archive().search(
        request.args.get("q", ""),
        page=_int_arg("page", 1),
        page_size=_int_arg("limit", default_limit),
        sort=request.args.get("sort", "relevance") or "relevance",
        date_from=request.args.get("from"),
        date_to=request.args.get("to"),
    )


@bp.get("/")
def search_page():
    form = search_form()
    form["sort"] = form["sort"] or "relevance"
    context: dict[str, Any] = {"form": form, "sorts": SORT_LABELS, "result": None, "error": None}
    if not form["q"].strip():
        context["article_count"] = archive().article_count()
        return render_template("search.html", **context)
    try:
        context["result"] = _run_search(DEFAULT_PAGE_SIZE)
    except QueryError as exc:
        context["error"] = str(exc)
        return render_template("search.html", **context), 400
    return render_template("search.html", **context)


@bp.get("/articles/<int:article_id>")
def article_page(article_id: int):
    article = archive().article(article_id)
    form = search_form()
    marker = None
    if form["q"].strip():
        try:
            marker = archive().highlighter(form["q"])
        except QueryError:
            marker = None
    paragraphs = [
        marker.whole(p).parts if marker else ((p, False),) for p in article.body.split("\n")
    ]
    try:
        related = archive().related(article_id)
    except ArchiveError as exc:
        log.warning("no related articles for %s: %s", article_id, exc)
        related = ()
    return render_template(
        "article.html", article=article, paragraphs=paragraphs, form=form, related=related
    )


@bp.get("/api/search")
def api_search():
    try:
        return jsonify(_run_search(DEFAULT_PAGE_SIZE).to_json())
    except QueryError as exc:
        return jsonify({"error": str(exc)}), 400


@bp.get("/api/articles/<int:article_id>")
def api_article(article_id: int):
    record = archive().article(article_id).to_json()
    for name in PRIVATE_FIELDS:
        del record[name]
    return jsonify(record)


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _error(status: int, title: str, message: str):
    if _wants_json():
        return jsonify({"error": message}), status
    return render_template("error.html", status=status, title=title, message=message), status


def register_error_pages(app: Flask) -> None:
    """Every error is a page (or JSON under /api/) with the right status, never a traceback."""

    @app.errorhandler(ArticleNotFound)
    def article_not_found(exc: ArticleNotFound):
        return _error(404, "記事が見つかりません", str(exc))

    @app.errorhandler(IndexMissing)
    def index_missing(exc: IndexMissing):
        return _error(503, "索引がありません", str(exc))

    @app.errorhandler(IndexDamaged)
    def index_damaged(exc: IndexDamaged):
        return _error(503, "索引が壊れています", str(exc))

    @app.errorhandler(IndexOutdated)
    def index_outdated(exc: IndexOutdated):
        return _error(503, "索引の再構築が必要です", str(exc))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        status = exc.code or 500
        title, message = HTTP_MESSAGES.get(status, (exc.name, exc.description or exc.name))
        return _error(status, title, message)

    @app.errorhandler(Exception)
    def unexpected_error(exc: Exception):
        log.exception("unexpected error on %s", request.path)
        return _error(
            500, "内部エラー", "処理中に問題が起きました。時間をおいてもう一度お試しください。"
        )
