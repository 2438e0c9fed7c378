"""Pages and JSON endpoints.  Views go through :class:`~indexer.archive.Archive`, nothing lower."""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    jsonify,
    render_template,
    request,
    url_for,
)
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from archive.auth import error_json, feed_key, principal, wants_json
from archive.hosts import parse_host
from archive.timeline import chosen_period, timeline
from indexer.archive import (
    DEFAULT_PAGE_SIZE,
    Archive,
    ArticleRecord,
    SearchPage,
    month_bounds,
    parse_day,
)
from indexer.errors import (
    ArchiveError,
    ArticleNotFound,
    IndexDamaged,
    IndexMissing,
    IndexOutdated,
    QueryError,
    SearchTooSlow,
)

log = logging.getLogger(__name__)

bp = Blueprint("archive", __name__)

HTTP_MESSAGES = {
    400: ("リクエストが正しくありません", "送られた内容を読み取れませんでした。"),
    404: (
        "ページが見つかりません",
        "お探しのページは見つかりませんでした。アドレスをご確認ください。",
    ),
    401: ("ログインが必要です", "ログインしてから使ってください。"),
    403: ("権限がありません", "この操作をする権限がありません。"),
    405: ("この方法では使えません", "このページはその方法（HTTPメソッド）では使えません。"),
    413: (
        "大きすぎます",
        "送られたデータが大きすぎます（1回に64 MB、フォームの1項目は12 MBまで）。分けて送ってください。",
    ),
    429: (
        "試行が多すぎます",
        "短い間に何度も試されました。しばらく待ってからもう一度お試しください。",
    ),
}
SORT_LABELS = {"relevance": "関連度順", "newest": "新しい順", "oldest": "古い順"}
# The home page lists the newest articles, and its box starts a search by relevance:
# its order says both (an empty sort is each one's default).
HOME_SORTS = {"": "新しい順（検索すると関連度順）", **SORT_LABELS}
# Where the importing machine keeps its files is no visitor's business: the article
# page shows only the file's name, and the API (unlike ``show --json``) leaves it out.
PRIVATE_FIELDS = ("source_path",)


def archive() -> Archive:
    return current_app.extensions["archive"]


# The search form's fields: every link that keeps the search (pages, the
# suggestion, facets, the way back from an article) carries all of them.
FORM_FIELDS = ("q", "sort", "from", "to", "limit", "site", "category", "tag", "group")
FORM_FIELDS += ("person", "org", "place")
# The filters besides the query, as URL parameters (the date range is from/to).
# Each may be given several times (site=a&site=b: either site), and its values
# left out with not_site=… (a facet's 除く); undated=1 keeps the articles without a date.
FILTERS = {"site": "サイト", "category": "カテゴリー", "tag": "タグ"}
FILTERS.update(person="人物", org="組織", place="地名")
EXCLUSIONS = {f"not_{name}": name for name in FILTERS}
FORM_FIELDS += (*EXCLUSIONS, "undated")
REPEATABLE = (*FILTERS, *EXCLUSIONS)
NARROWING = ("from", "to", *FILTERS, *EXCLUSIONS, "undated")
# The home page lists this many of each facet (the results pages show FACET_LIMIT).
HOME_FACETS = 30
HOME_NEWEST = 10
# A feed holds a query's newest results.
FEED_ENTRIES = 20
# The archive's times are shown in Japan's time, as its articles' are.
TOKYO = ZoneInfo("Asia/Tokyo")
# What XML 1.0 cannot hold at all, even escaped (control characters, lone surrogates).
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def search_form() -> dict[str, str]:
    """The search form as the request filled it in (a repeated field by its first value)."""
    return {name: request.args.get(name, "") for name in FORM_FIELDS}


@bp.app_template_global()
def form_values(name: str) -> list[str]:
    """Every value the request gives a field (``site=a&site=b``), empty ones left out."""
    return [v for v in request.args.getlist(name) if v.strip()]


def _repeated() -> dict[str, list[str]]:
    """The repeatable fields the request gives several values, with all of them."""
    return {name: form_values(name) for name in REPEATABLE if len(form_values(name)) > 1}


@bp.app_template_global()
def kept_fields() -> list[tuple[str, str]]:
    """What the search box carries besides its own fields: the filters, every value of each."""
    kept = [(name, value) for name in REPEATABLE for value in form_values(name)]
    return kept + [(name, search_form()[name]) for name in ("undated", "limit", "group")]


def _is_home(form: dict[str, str]) -> bool:
    """Nothing asked for (no query, filter, order or page): the home page, which browses."""
    return not _asks(form, ("q", "sort", *NARROWING)) and not request.args.get("page", "").strip()


def _lists_everything(form: dict[str, str]) -> bool:
    """No query and no filter, but an order or a page: every article, as results."""
    return not _asks(form, ("q", *NARROWING))


def _asks(form: dict[str, str], names: tuple[str, ...]) -> bool:
    """Whether any of these fields is filled in (a repeated one by any of its values)."""
    return any(form[name].strip() or form_values(name) for name in names)


def _default_sort(form: dict[str, str]) -> str:
    """Relevance for a query; a listing (filters without words) is newest first."""
    return form["sort"] or ("relevance" if form["q"].strip() else "newest")


@bp.before_app_request
def refuse_unknown_hosts():
    """A 400 for a ``Host`` that names no host, or one the app does not answer to
    (``ALLOWED_HOSTS``; see archive.hosts)."""
    header = request.headers.get("Host")
    # Browsers always send a Host; a request without one is no rebinding attack.
    if header is None:
        return None
    host = parse_host(header)
    if host is None:
        shown = header[:100]
        return _error(
            400,
            "bad_host",
            "このアドレスは読み取れません",
            f"「{shown}」はホスト名として読み取れません。名前かIPアドレスに、"
            "数字のポート番号だけを付けられます（IPv6 アドレスは [::1]:8000 のように括弧に入れます）。",
        )
    allowed = current_app.config.get("ALLOWED_HOSTS")
    if not allowed or host.name in allowed:
        return None
    shown = host.name[:100]
    return _error(
        400,
        "unknown_host",
        "このアドレスでは公開していません",
        f"このサーバーは「{shown}」という名前では公開していません。"
        f"この名前で使うには python -m archive serve --allowed-host {shown} で起動してください。",
    )


@bp.app_template_global()
def absolute_url(endpoint: str, **values: Any) -> str:
    """A link to give out (feeds, OpenSearch): the configured public address, never the
    ``Host`` the request named."""
    path = url_for(endpoint, **values)
    root = request.script_root
    if root and path.startswith(root):
        path = path[len(root) :]  # the public address already says where the app is
    return current_app.config["PUBLIC_URL"] + path


def _filled(args: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in args.items() if v not in ("", None, [], ())}


@bp.app_template_filter()
def file_name(path: str | None) -> str:
    """The last part of a path, whichever system wrote it."""
    return re.split(r"[\\/]", path)[-1] if path else ""


@bp.app_template_global()
def search_url(**changes: Any) -> str:
    """The results page for this request's search, with ``changes`` (empty fields left out)."""
    return url_for("archive.search_page", **_filled({**search_form(), **_repeated(), **changes}))


@bp.app_template_global()
def filter_url(name: str, value: str | None) -> str:
    """The results with this filter set to ``value`` (``None`` removes it), from page 1."""
    return search_url(**{name: value, f"not_{name}": None, "page": None})


@bp.app_template_global()
def facet_url(name: str, value: str, how: str) -> str:
    """The results with ``value`` of facet ``name`` chosen besides the others (``how="add"``),
    left out (``"exclude"``), or neither any more (``"drop"``), from page 1."""
    chosen = [v for v in form_values(name) if v != value]
    left_out = [v for v in form_values(f"not_{name}") if v != value]
    if how == "add":
        chosen.append(value)
    elif how == "exclude":
        left_out.append(value)
    return search_url(**{name: chosen, f"not_{name}": left_out, "page": None})


@bp.app_template_global()
def undated_url() -> str:
    """The results without a date (the date range dropped), from page 1."""
    return search_url(**{"from": None, "to": None, "undated": "1", "page": None})


@bp.app_template_global()
def range_url(first: date | str | None, last: date | str | None) -> str:
    """The results within these days (either end open), from page 1."""
    return search_url(
        **{"from": str(first or "") or None, "to": str(last or "") or None},
        undated=None,
        page=None,
    )


@bp.app_template_global()
def month_url(month: str) -> str:
    """The results of one month (``YYYY-MM``)."""
    return range_url(*month_bounds(month))


@bp.app_template_global()
def year_url(year: str) -> str:
    return range_url(f"{year}-01-01", f"{year}-12-31")


@bp.app_template_global()
def feed_url() -> str:
    """The Atom feed of this request's search (newest first: no sort, page or size).

    For someone logged in it carries their feed key, which a feed reader (no
    session) needs to read a private archive.
    """
    form = {k: v for k, v in {**search_form(), **_repeated()}.items() if k not in ("sort", "limit")}
    return url_for("archive.feed", key=feed_key(), **_filled(form))


@bp.app_template_global()
def opensearch_url() -> str:
    return url_for("archive.opensearch", key=feed_key())


@bp.app_template_filter()
def xml_safe(text: str | None) -> str:
    """Text without the characters no XML document may contain (escaping is still Jinja's)."""
    return _NOT_XML.sub("", text or "")


@bp.app_template_filter()
def atom_time(moment: datetime) -> str:
    """An instant as Atom writes it (RFC 3339, in UTC)."""
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@bp.app_template_filter()
def when(moment: datetime | None) -> str:
    """An instant as every page shows one: Tokyo time, to the minute (2012年05月15日 13:55)."""
    return moment.astimezone(TOKYO).strftime("%Y年%m月%d日 %H:%M") if moment else "-"


@bp.app_template_filter()
def month_label(month: str) -> str:
    """``2025-03`` → 2025年3月."""
    return f"{int(month[:4])}年{int(month[5:7])}月"


def date_range_label(first: date | None, last: date | None) -> str:
    """How a date range reads: a whole month or year by its name, else its ends."""
    if first and last and first.day == 1:
        if (first.year, first.month) == (last.year, last.month) and last == month_bounds(
            f"{first.year:04d}-{first.month:02d}"
        )[1]:
            return f"{first.year}年{first.month}月"
        if first.month == 1 and (last.month, last.day) == (12, 31) and first.year == last.year:
            return f"{first.year}年"
    shown = (f"{d.year}年{d.month}月{d.day}日" if d else "" for d in (first, last))
    return "〜".join(shown)


def active_filters(form: dict[str, str]) -> list[tuple[str, str, str]]:
    """The filters in force, as (what, value, the link that removes it)."""
    chips = []
    for name, label in FILTERS.items():
        chips += [(label, v, facet_url(name, v, "drop")) for v in form_values(name)]
        chips += [
            (f"{label}（除外）", v, facet_url(name, v, "drop")) for v in form_values(f"not_{name}")
        ]
    if form["undated"].strip().lower() in ("1", "true", "yes"):
        chips.append(("期間", "日付なし", range_url(None, None)))
    elif form["from"].strip() or form["to"].strip():
        shown = f"{form['from'][:20]}〜{form['to'][:20]}"
        try:
            if max(len(form["from"]), len(form["to"])) <= 100:
                shown = date_range_label(parse_day(form["from"]), parse_day(form["to"]))
        except (QueryError, ValueError):
            pass  # the search says what is wrong with the date
        chips.append(("期間", shown, range_url(None, None)))
    return chips


@bp.app_template_global()
def article_url(article_id: int) -> str:
    """An article's page, keeping this request's search (its words are marked there)."""
    form = {**search_form(), **_repeated(), "page": request.args.get("page", "")}
    return url_for("archive.article_page", article_id=article_id, **_filled(form))


def _int_arg(name: str, default: int) -> int:
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise QueryError(
            f"{name} は整数で指定してください（{raw!r} は読めません）。", name
        ) from None


def _group_arg() -> bool:
    """Near-identical articles as one result, unless ``group=0`` asks for every copy."""
    raw = request.args.get("group", "").strip().lower()
    if raw in ("", "1", "true", "yes"):
        return True
    if raw in ("0", "false", "no"):
        return False
    raise QueryError(f"group は 1 か 0 で指定してください（{raw[:20]!r} は読めません）。", "group")


def _undated() -> bool:
    """Whether ``undated=1`` asks for the articles without a date."""
    raw = request.args.get("undated", "").strip().lower()
    if raw in ("", "0", "false", "no"):
        return False
    if raw in ("1", "true", "yes"):
        return True
    raise QueryError(f"undated は 1 か 0 で指定してください（{raw[:20]!r} は読めません）。")


def search_filters() -> dict[str, Any]:
    """The request's filters (from, to, site, category, tag, not_site, not_category,
    not_tag, undated) as :meth:`Archive.search` and the desk's methods take them."""
    form = search_form()
    return {
        "date_from": form["from"] or None,
        "date_to": form["to"] or None,
        **{name: form_values(name) or None for name in FILTERS},
        "exclude": {f: form_values(n) for n, f in EXCLUSIONS.items() if form_values(n)},
        "undated": _undated(),
    }


def _run_search(default_limit: int, **fixed: Any) -> SearchPage:
    """The search the request asks for (q, page, limit, sort, the filters, group)."""
    form = search_form()
    options: dict[str, Any] = {
        "page": _int_arg("page", 1),
        "page_size": _int_arg("limit", default_limit),
        "sort": _default_sort(form),
        **search_filters(),
        "group": _group_arg(),
    }
    if _lists_everything(form):
        del options["date_from"], options["date_to"], options["exclude"], options["undated"]
        for name in FILTERS:
            del options[name]
        return archive().browse(**{**options, **fixed})
    return archive().search(form["q"], **{**options, **fixed})


@bp.get("/")
def search_page():
    form = search_form()
    home = _is_home(form)
    form["sort"] = "" if home else _default_sort(form)
    context: dict[str, Any] = {
        "form": form,
        "sorts": HOME_SORTS if home else SORT_LABELS,
        "result": None,
        "error": None,
        "filters": active_filters(form),
        "filter_names": FILTERS,
    }
    if home:
        if not archive().article_count():
            # A new archive has no index yet either: say how to fill it, not "503".
            return render_template("home.html", listing=None, **context)
        listing = archive().browse(page_size=HOME_NEWEST, facet_limit=HOME_FACETS, group=True)
        context["listing"] = listing
        context["timeline"] = timeline(listing.facets.month, None, None)
        return render_template("home.html", **context)
    try:
        result = context["result"] = _run_search(DEFAULT_PAGE_SIZE)
    except QueryError as exc:
        context["error"] = str(exc)
        return render_template("search.html", **context), 400
    context["timeline"] = timeline(
        result.facets.month, result.filters.date_from, result.filters.date_to
    )
    context["period"] = chosen_period(result.filters.date_from, result.filters.date_to)
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
    title = (
        marker.whole(article.title, field="title").parts if marker else ((article.title, False),)
    )
    # Opened from results (a query, a filter, an order or a page): the way back to them.
    back = None if _is_home(form) else search_url(page=request.args.get("page", "").strip() or None)
    copies = archive().story(article_id)
    try:
        related = archive().related(article_id)
    except ArchiveError as exc:
        log.warning("no related articles for %s: %s", article_id, exc)
        related = ()
    # A copy of the same story is listed as such, not as a related article.
    same = {c.id for c in copies}
    related = [r for r in related if r.id not in same]
    # Who added and changed it is the team's business, not an anonymous reader's.
    history = archive().history(article_id) if principal().role else []
    return render_template(
        "article.html",
        article=article,
        title=title,
        paragraphs=paragraphs,
        back=back,
        form=form,
        sorts=SORT_LABELS,
        related=related,
        copies=copies,
        history=history,
    )


# The search's arguments by the names the URL gives them.
URL_PARAMETERS = {"query": "q", "page_size": "limit", "date_from": "from", "date_to": "to"}


def bad_parameter(exc: QueryError) -> Response:
    """A search the request's parameters cannot make: a 400 naming the parameter at fault."""
    parameter = URL_PARAMETERS.get(exc.parameter or "", exc.parameter)
    return error_json(400, str(exc), "bad_parameter", parameter)


@bp.get("/api/search")
def api_search():
    try:
        if _lists_everything(search_form()):
            # A listing needs a filter here; the home page is for browsing everything.
            raise QueryError(
                "検索語（q）か絞り込み（site、category、tag、from、to）を指定してください。", "q"
            )
        return jsonify(_run_search(DEFAULT_PAGE_SIZE).to_json())
    except QueryError as exc:
        return bad_parameter(exc)


@bp.get("/feed")
def feed():
    """An Atom feed of the newest results of a search (every filter of the page accepted)."""
    form = search_form()
    try:
        result = _run_search(FEED_ENTRIES, page=1, page_size=FEED_ENTRIES, sort="newest")
    except QueryError as exc:
        return _error(400, "bad_parameter", "フィードを作れません", str(exc))
    records = {r.id: r for r in archive().articles([hit.id for hit in result.hits])}
    entries = [(hit, records[hit.id]) for hit in result.hits if hit.id in records]
    times = [r.updated_at or r.imported_at for _, r in entries if r.updated_at or r.imported_at]
    described = [form["q"].strip()] if form["q"].strip() else []
    described += [value for _, value, _ in active_filters(form)]
    title = f"「{' '.join(described)}」の新着記事" if described else "新着記事"
    params = _filled({k: v for k, v in form.items() if k not in ("sort", "limit")})
    xml = render_template(
        "feed.xml",
        title=f"{title} - 記事アーカイブ",
        feed_id=absolute_url("archive.feed", **dict(sorted(params.items()))),
        page_url=absolute_url("archive.search_page", **params),
        updated=max(times, default=None) or datetime.now(UTC),
        entries=entries,
    )
    return Response(xml, mimetype="application/atom+xml")


@bp.get("/opensearch.xml")
def opensearch():
    """How a browser adds the archive as a search engine (OpenSearch 1.1)."""
    xml = render_template("opensearch.xml", key=feed_key())
    return Response(xml, mimetype="application/opensearchdescription+xml")


def article_json(record: ArticleRecord) -> dict[str, Any]:
    """An article as the API and the exports give it: every field of its record but
    where the importing machine kept its file."""
    data = record.to_json()
    for name in PRIVATE_FIELDS:
        data.pop(name, None)
    return data


@bp.get("/api/articles/<int:article_id>")
def api_article(article_id: int):
    """One article, with the other articles of its story and the articles related to it."""
    record = archive().article(article_id)
    copies = archive().story(article_id)
    try:
        related = archive().related(article_id)
    except ArchiveError as exc:  # no index to ask: the article itself is still there
        log.warning("no related articles for %s: %s", article_id, exc)
        related = ()
    same = {c.id for c in copies}
    return jsonify(
        {
            **article_json(record),
            "copies": [{"id": c.id, "title": c.title, "site": c.site} for c in copies],
            "related": [{"id": r.id, "title": r.title} for r in related if r.id not in same],
        }
    )


def _error(status: int, code: str | None, title: str, message: str):
    # The API, and a script asking for JSON (a login past its limit, say), get JSON.
    if wants_json():
        return error_json(status, message, code)
    return render_template("error.html", status=status, title=title, message=message), status


def _csrf_reason(exc: CSRFError) -> str:
    reasons = {
        "The CSRF token is missing.": "確認用のトークンがありません",
        "The CSRF session token is missing.": "セッションが切れています",
        "The CSRF token is invalid.": "確認用のトークンが正しくありません",
        "The CSRF token has expired.": "確認用のトークンの期限が切れています",
        "The referrer header is missing.": "Referer がありません",
        "The referrer does not match the host.": "別のサイトから送られています",
    }
    return reasons.get(exc.description, "確認用のトークンが正しくありません")


def register_error_pages(app: Flask) -> None:
    """Every error is a page (or JSON under /api/) with the right status, never a traceback."""

    @app.errorhandler(ArticleNotFound)
    def article_not_found(exc: ArticleNotFound):
        return _error(404, "article_not_found", "記事が見つかりません", str(exc))

    @app.errorhandler(IndexMissing)
    def index_missing(exc: IndexMissing):
        return _error(503, "index_missing", "索引がありません", str(exc))

    @app.errorhandler(IndexDamaged)
    def index_damaged(exc: IndexDamaged):
        return _error(503, "index_damaged", "索引が壊れています", str(exc))

    @app.errorhandler(IndexOutdated)
    def index_outdated(exc: IndexOutdated):
        return _error(503, "index_outdated", "索引の再構築が必要です", str(exc))

    @app.errorhandler(SearchTooSlow)
    def search_too_slow(exc: SearchTooSlow):
        return _error(503, "search_too_slow", "検索を打ち切りました", str(exc))

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        return _error(
            400,
            "csrf_failed",
            "フォームを確かめられません",
            "このフォームはこのサイトのページから送られたものと確かめられませんでした"
            f"（{_csrf_reason(exc)}）。ページを読み込み直してから、もう一度送ってください。",
        )

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        status = exc.code or 500
        title, message = HTTP_MESSAGES.get(status, (exc.name, exc.description or exc.name))
        return _error(status, None, title, message)

    @app.errorhandler(Exception)
    def unexpected_error(exc: Exception):
        log.exception("unexpected error on %s", request.path)
        return _error(
            500,
            None,
            "内部エラー",
            "処理中に問題が起きました。時間をおいてもう一度お試しください。",
        )
