"""Adding articles from the browser and from scripts, editing and deleting them (editors).

Everything goes through the same door as ``indexer import`` and ``indexer
delete``: the same readers, dedupe and rules for bad input, the change log
that every node's index follows, and the articles' history (who, what, when).

The bookmarklet 「アーカイブに保存」 never sends anything by itself: it opens
this archive's ``/save`` page in a popup and hands it the page's address and
HTML with ``postMessage``.  The popup is this site's own page, logged in with
its own session cookie, and saving is a click on its form, with the form's
CSRF token.  A page elsewhere can open the popup and fill it, but cannot
press its button, read it or learn any token; and the popup refuses an
address on another origin than the page that sent it (the browser says who
sent a message), so no page can pass itself off as another site's article.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import (
    Blueprint,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)

from archive.auth import archive, principal, refuse, requires, wants_json
from indexer.archive import ADMIN, EDITOR, ImportSummary, Upload
from indexer.errors import ArticleNotFound, ArticleRejected, EditConflict

bp = Blueprint("editing", __name__)

# A file's name is only a label here (never a path on this machine).
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f]")
MAX_NAME_CHARS = 200
# One request of the JSON API holds at most this many articles.
MAX_RECORDS = 1000
FORMATS = {"auto", "text", "livedoor", "jsonl", "html"}


def _label(name: str | None, fallback: str) -> str:
    name = re.split(r"[\\/]", name or "")[-1]
    name = _UNSAFE_NAME.sub("", name).strip()[:MAX_NAME_CHARS]
    return name or fallback


def summary_json(summary: ImportSummary) -> dict[str, Any]:
    """What an addition came to: each article read and what became of it, each refusal and why."""
    return {
        "added": summary.added,
        "updated": summary.updated,
        "unchanged": summary.unchanged,
        "failed": len(summary.failed),
        "articles": [
            {
                "id": a.id,
                "title": a.title,
                "outcome": a.outcome,
                "changed": list(a.changed),
                "source": a.source,
                "line": a.line,
                "url": url_for("archive.article_page", article_id=a.id),
            }
            for a in summary.articles or ()
        ],
        "errors": [{"source": e.path, "line": e.line, "reason": e.reason} for e in summary.failed],
    }


def _answer(summary: ImportSummary):
    """200 when anything was read as an article, 422 when everything was refused."""
    status = 422 if summary.failed and not summary.articles else 200
    return jsonify(summary_json(summary)), status


@bp.post("/api/articles")
@requires(EDITOR)
def api_add():
    """Articles as JSON: one object or a list of them (the JSON Lines fields), or a saved page
    as ``{"html": "…", "url": "…"}``."""
    data = request.get_json(silent=True)
    if data is None:
        return refuse(400, "", "本文をJSONで送ってください（Content-Type: application/json）。")
    if isinstance(data, dict) and "html" in data:
        html, url = data.get("html"), data.get("url")
        if not isinstance(html, str) or not (url is None or isinstance(url, str)):
            return refuse(400, "", "html と url は文字列で送ってください。")
        if url is not None and not url.startswith(("http://", "https://")):
            return refuse(400, "", "url は http:// か https:// で始まるアドレスにしてください。")
        upload = Upload(_label(data.get("name"), "api.html"), html.encode("utf-8", "replace"), url)
        return _answer(archive().add_uploads([upload], principal().actor, "html"))
    records = data if isinstance(data, list) else [data]
    if not records:
        return refuse(400, "", "記事がひとつもありません。")
    if len(records) > MAX_RECORDS:
        return refuse(400, "", f"1回に送れる記事は{MAX_RECORDS}件までです（{len(records)}件）。")
    return _answer(archive().add_records(records, principal().actor))


@bp.get("/upload")
@requires(EDITOR)
def upload_page():
    return render_template("upload.html", summary=None, bookmarklet=bookmarklet())


@bp.post("/upload")
@requires(EDITOR)
def upload():
    """Files from the upload form (several at once; its script sends them one by one)."""
    files = request.files.getlist("files")
    fmt = request.form.get("format", "auto")
    if fmt not in FORMATS:
        fmt = "auto"
    uploads = [
        Upload(_label(f.filename, f"file-{n}"), f.read())
        for n, f in enumerate(files, start=1)
        if f.filename or f.content_length
    ]
    if not uploads:
        if wants_json():
            return refuse(400, "", "ファイルを選んでください。")
        flash("ファイルを選んでください。", "error")
        return redirect(url_for("editing.upload_page"))
    summary = archive().add_uploads(uploads, principal().actor, fmt)
    if wants_json():
        return _answer(summary)
    status = 422 if summary.failed and not summary.articles else 200
    return render_template(
        "upload.html", summary=summary_json(summary), bookmarklet=bookmarklet()
    ), status


def bookmarklet() -> str:
    """The bookmarklet's code, for this archive's address (see the module's notes)."""
    origin = json.dumps(request.host_url.rstrip("/"))
    return (
        "javascript:(function(){var a=" + origin + ",w=window.open(a+'/save','archive_save',"
        "'width=600,height=560');if(!w){alert('ポップアップを許可してください');return}"
        "var p={type:'archive-page',url:location.href,html:document.documentElement.outerHTML};"
        "window.addEventListener('message',function(e){if(e.source===w&&e.origin===a&&e.data"
        "&&e.data.type==='archive-ready'){w.postMessage(p,a)}})})()"
    )


@bp.get("/save")
@requires(EDITOR)
def save_page():
    """The bookmarklet's popup: it waits for the page, then shows what will be saved."""
    return render_template("save.html", summary=None)


@bp.post("/save")
@requires(EDITOR)
def save():
    url = request.form.get("url", "").strip()
    html = request.form.get("html", "")
    if not url.startswith(("http://", "https://")) or not html:
        return render_template(
            "save.html", summary=None, error="保存するページを受け取れませんでした。"
        ), 400
    upload = Upload("bookmarklet.html", html.encode(), url)
    summary = archive().add_uploads([upload], principal().actor, "html")
    status = 422 if summary.failed and not summary.articles else 200
    return render_template("save.html", summary=summary_json(summary), error=None), status


def _tags(text: str) -> list[str]:
    return [t for t in re.split(r"[,、，\n]", text) if t.strip()]


@bp.route("/articles/<int:article_id>/edit", methods=["GET", "POST"])
@requires(EDITOR)
def edit(article_id: int):
    article = archive().article(article_id)
    if request.method == "GET":
        return render_template("edit.html", article=article, error=None, form=None)
    form = request.form
    try:
        _, changed = archive().edit(
            article_id,
            principal().actor,
            title=form.get("title", ""),
            category=form.get("category", ""),
            tags=_tags(form.get("tags", "")),
            version=form.get("version") or None,
        )
    except (ArticleRejected, EditConflict) as exc:
        status = 409 if isinstance(exc, EditConflict) else 400
        return render_template("edit.html", article=article, error=str(exc), form=form), status
    flash("変更を保存しました。" if changed else "変更はありませんでした。")
    return redirect(url_for("archive.article_page", article_id=article_id))


@bp.route("/articles/<int:article_id>/delete", methods=["GET", "POST"])
@requires(EDITOR)
def delete(article_id: int):
    article = archive().article(article_id)
    if request.method == "GET":
        return render_template("delete.html", article=article)
    if not archive().delete([article_id], principal().actor):
        raise ArticleNotFound(f"ID {article_id} の記事はありません。")
    flash(f"記事「{article.title}」を削除しました。")
    return redirect(url_for("archive.search_page"))


@bp.get("/admin")
@requires(ADMIN)
def admin_page():
    return render_template(
        "admin.html",
        users=archive().users(),
        tokens=archive().tokens(),
        events=archive().recent_events(100),
    )
