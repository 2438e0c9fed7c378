"""Pages and JSON endpoints.  Views call the search service and the store, nothing lower."""

from __future__ import annotations

import logging
from typing import Any

from flask import (
    Blueprint,
    Flask,
    current_app,
    g,
    jsonify,
    render_template,
    request,
)
from werkzeug.exceptions import HTTPException

from indexer.archive import Archive
from indexer.errors import (
    ArchiveError,
    ArticleNotFound,
    IndexMissing,
    IndexOutdated,
    QueryError,
)
from indexer.search import DEFAULT_PAGE_SIZE, parse_day
from indexer.snippets import make_snippet
from indexer.store import article_record, get_article

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


def archive() -> Archive:
    return current_app.extensions["archive"]


def db_session():
    """This request's database session, closed when the request ends."""
    if "db_session" not in g:
        g.db_session = archive().session()
    return g.db_session


@bp.teardown_app_request
def close_db_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def _int_arg(name: str, default: int) -> int:
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise QueryError(f"{name} は整数で指定してください（{raw!r} は読めません）。") from None


def _run_search(default_limit: int):
    """The search the request asks for (q, page, limit, sort, from, to)."""
    return archive().search.search(
        request.args.get("q", ""),
        page=_int_arg("page", 1),
        page_size=_int_arg("limit", default_limit),
        sort=request.args.get("sort", "relevance") or "relevance",
        date_from=parse_day(request.args.get("from")),
        date_to=parse_day(request.args.get("to")),
    )


@bp.get("/")
def search_page():
    query = request.args.get("q", "")
    form = {
        "q": query,
        "sort": request.args.get("sort", "relevance"),
        "from": request.args.get("from", ""),
        "to": request.args.get("to", ""),
        "limit": request.args.get("limit", ""),
    }
    context: dict[str, Any] = {"form": form, "sorts": SORT_LABELS, "result": None, "error": None}
    if not query.strip():
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
    article = get_article(db_session(), article_id)
    query = request.args.get("q", "").strip()
    body = article.body
    paragraphs = body.split("\n")
    if query:
        try:
            _, terms = archive().search.understand(query)
        except QueryError:
            terms = []
        units = {u for t in terms if not t.negated for u in t.units}
        literals = [t.text for t in terms if not t.negated]
        paragraphs = [make_snippet(p, units, literals, width=len(p) + 1).parts for p in paragraphs]
    else:
        paragraphs = [((p, False),) for p in paragraphs]
    try:
        related = archive().search.related(article_id)
    except ArchiveError as exc:
        log.warning("no related articles for %s: %s", article_id, exc)
        related = ()
    return render_template(
        "article.html",
        article=article_record(article),
        paragraphs=paragraphs,
        query=query,
        related=related,
    )


@bp.get("/api/search")
def api_search():
    try:
        return jsonify(_run_search(DEFAULT_PAGE_SIZE).to_json())
    except QueryError as exc:
        return jsonify({"error": str(exc)}), 400


@bp.get("/api/articles/<int:article_id>")
def api_article(article_id: int):
    return jsonify(article_record(get_article(db_session(), article_id)))


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
        return _error(404, "記事が見つかりません", f"指定された記事はありません（{exc}）。")

    @app.errorhandler(IndexMissing)
    def index_missing(exc: IndexMissing):
        return _error(503, "索引がありません", f"まだ検索用の索引がありません: {exc}")

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
