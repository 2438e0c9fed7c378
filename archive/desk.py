"""The research desk's pages: attention over time (/attention) and keyword in context (/kwic).

Both take the search page's filters (``from``, ``to``, ``site``, ``category``,
``tag``, each several times, ``not_…``, ``undated``) and count what the search counts; each has its table as a download
(``/attention.csv``, ``/kwic.csv``, ``/kwic.tsv``) with the same parameters.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, render_template, request, url_for

from archive import attention as charts
from archive import kwic
from archive.views import NARROWING, archive, form_values, search_filters
from indexer.errors import QueryError

bp = Blueprint("desk", __name__)
bp.add_app_template_filter(charts.number, "number")

# The chart drawn twice: for screens, and for phones (390 px wide, text still ~12 px).
WIDE = {"width": 720, "height": 320, "font": 13, "max_x_labels": 8}
NARROW = {"width": 360, "height": 300, "font": 13, "max_x_labels": 4}


@bp.app_template_global()
def desk_url(endpoint: str) -> str:
    """A desk page for this request's search: its query and filters, nothing else."""
    return url_for(endpoint, **{"q": request.args.get("q", ""), **_filter_args()})


def _filters() -> dict[str, Any]:
    """The search page's filters as the request gives them, for Archive's methods."""
    return search_filters()


def _filter_pairs() -> list[tuple[str, str]]:
    """The filters as URL parameters, every value of each (site=a&site=b), in order."""
    return [(n, v.strip()) for n in NARROWING for v in form_values(n)]


def _filter_args() -> dict[str, str | list[str]]:
    """The filters as URL parameters for ``url_for`` (a list where one is repeated)."""
    args: dict[str, list[str]] = {}
    for name, value in _filter_pairs():
        args.setdefault(name, []).append(value)
    return {n: vs[0] if len(vs) == 1 else vs for n, vs in args.items()}


def _queries() -> tuple[list[str], str | None]:
    """The queries asked for (the first ``MAX_QUERIES``, each once) and what was left out."""
    queries = list(dict.fromkeys(q.strip() for q in request.args.getlist("q") if q.strip()))
    dropped = None
    if len(queries) > charts.MAX_QUERIES:
        dropped = "、".join(f"「{q[:40]}」" for q in queries[charts.MAX_QUERIES :])
        queries = queries[: charts.MAX_QUERIES]
    return queries, dropped


def _unit() -> str | None:
    raw = request.args.get("unit", "").strip()
    if raw in ("", "auto"):
        return None
    if raw not in charts.UNITS:
        raise QueryError(
            f"unit は day、week、month、auto のいずれかです（{raw[:20]!r} は使えません）。"
        )
    return raw


def _attention() -> charts.Attention:
    queries, _ = _queries()
    unit = _unit()
    normalised = request.args.get("per", "") == "1000"
    filters = _filters()
    counted = [archive().day_counts(q, **filters) for q in queries]
    everything = archive().day_counts("", **filters)
    return charts.attention(counted, everything, unit, normalised)


@bp.get("/attention")
def attention_page():
    queries, dropped = _queries()
    context: dict[str, Any] = {
        "queries": queries,
        "dropped": dropped,
        "units": charts.UNITS,
        "unit": request.args.get("unit", "auto"),
        "per": request.args.get("per", ""),
        "filter_args": _filter_args(),
        "filter_pairs": _filter_pairs(),
        "max_queries": charts.MAX_QUERIES,
        "chart": None,
        "error": None,
    }
    if not queries:
        return render_template("attention.html", **context)
    try:
        chart = context["chart"] = _attention()
    except QueryError as exc:
        context["error"] = str(exc)
        return render_template("attention.html", **context), 400
    context["wide"] = charts.draw(chart, **WIDE)
    context["narrow"] = charts.draw(chart, **NARROW)
    context["csv_url"] = url_for("desk.attention_csv", **_same_args())
    return render_template("attention.html", **context)


def _same_args() -> dict[str, Any]:
    """This request's parameters (``q`` repeated), as ``url_for`` takes them."""
    return {name: request.args.getlist(name) for name in request.args}


def _download(text: str, name: str, mimetype: str) -> Response:
    # With a byte order mark, spreadsheet programs read the Japanese as UTF-8.
    response = Response("\ufeff" + text, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _plain_error(message: str) -> Response:
    return Response(message + "\n", status=400, mimetype="text/plain")


@bp.get("/attention.csv")
def attention_csv():
    queries, _ = _queries()
    if not queries:
        return _plain_error("検索語（q）を1つ以上指定してください。")
    try:
        chart = _attention()
    except QueryError as exc:
        return _plain_error(str(exc))
    return _download(charts.csv_text(chart), "attention.csv", "text/csv")


def _sort() -> str:
    raw = request.args.get("sort", "").strip() or "article"
    if raw not in kwic.SORTS:
        choices = "、".join(kwic.SORTS)
        raise QueryError(f"sort は {choices} のいずれかです（{raw[:20]!r} は使えません）。")
    return raw


def _page() -> int:
    raw = request.args.get("page", "").strip() or "1"
    if not raw.isdigit() or int(raw) < 1:
        raise QueryError(f"ページは1以上の整数です（{raw[:20]!r} は読めません）。")
    return int(raw)


@bp.get("/kwic")
def kwic_page():
    query = request.args.get("q", "").strip()
    context: dict[str, Any] = {
        "query": query,
        "sorts": kwic.SORTS,
        "sort": request.args.get("sort", "article"),
        "filter_args": _filter_args(),
        "filter_pairs": _filter_pairs(),
        "found": None,
        "error": None,
        "shown_chars": kwic.SHOWN_CHARS,
    }
    if not query:
        return render_template("kwic.html", **context)
    try:
        sort, page = _sort(), _page()
        found = context["found"] = archive().concordance(query, **_filters())
    except QueryError as exc:
        context["error"] = str(exc)
        return render_template("kwic.html", **context), 400
    lines = kwic.sort_lines(found.lines, sort)
    pages = max(1, -(-len(lines) // kwic.PAGE_SIZE))
    first = (page - 1) * kwic.PAGE_SIZE
    keep = {"q": query, **_filter_args(), "sort": sort}

    def kwic_url(endpoint: str, **changes: Any) -> str:
        """This page's lines (or their download) with ``changes``; ``None`` drops one."""
        return url_for(endpoint, **{**keep, **changes})

    context.update(
        sort=sort,
        page=page,
        pages=pages,
        first=first + 1,
        lines=lines[first : first + kwic.PAGE_SIZE],
        total_lines=len(lines),
        kwic_url=kwic_url,
    )
    return render_template("kwic.html", **context)


def _kwic_download(delimiter: str, name: str, mimetype: str) -> Response:
    query = request.args.get("q", "").strip()
    if not query:
        return _plain_error("検索語（q）を指定してください。")
    try:
        sort = _sort()
        found = archive().concordance(query, **_filters())
    except QueryError as exc:
        return _plain_error(str(exc))
    text = kwic.table(kwic.sort_lines(found.lines, sort), delimiter)
    return _download(text, name, mimetype)


@bp.get("/kwic.csv")
def kwic_csv():
    return _kwic_download(",", "kwic.csv", "text/csv")


@bp.get("/kwic.tsv")
def kwic_tsv():
    return _kwic_download("\t", "kwic.tsv", "text/tab-separated-values")
