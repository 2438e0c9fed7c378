"""Logging in and out, one's account (the feed key), and saved searches."""

from __future__ import annotations

from flask import (
    Blueprint,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import login_user, logout_user

from archive.auth import WebUser, archive, feed_key, principal, requires, safe_next
from archive.views import absolute_url
from indexer.archive import ROLE_NAMES, SEARCH_PARAMS
from indexer.errors import AccountError

bp = Blueprint("accounts", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The login form; a POST checks it (rate-limited: see archive.create_app)."""
    target = safe_next(request.values.get("next"))
    if request.method == "GET":
        if principal().is_user:
            return redirect(target)
        return render_template("login.html", next=target, error=None, name="")
    name = request.form.get("name", "")[:200]
    account = archive().authenticate(name, request.form.get("password", ""))
    if account is None:
        error = "ユーザー名かパスワードが違います。"
        return render_template("login.html", next=target, error=error, name=name), 401
    # A new session for a new login: nothing from before it carries over.
    session.clear()
    session.permanent = True
    login_user(WebUser(account))
    return redirect(target)


@bp.post("/logout")
def logout():
    logout_user()
    session.clear()
    flash("ログアウトしました。")
    return redirect(url_for("accounts.login"))


@bp.get("/account")
@requires(account=True)
def account_page():
    account = principal().account
    return render_template(
        "account.html",
        account=account,
        role_name=ROLE_NAMES[account.role],
        feed=absolute_url("archive.feed", key=feed_key()),
    )


@bp.post("/account/feed-key")
@requires(account=True)
def renew_feed_key():
    archive().renew_feed_key(principal().account.id)
    flash("フィードのURLを作り直しました。これまでのURLはもう使えません。")
    return redirect(url_for("accounts.account_page"))


@bp.get("/saved")
@requires(account=True)
def saved_page():
    account = principal().account
    key = feed_key()
    searches = [
        (
            saved,
            url_for("archive.search_page", **_grouped(saved.params)),
            absolute_url("archive.feed", key=key, **_feed_params(saved.params)),
        )
        for saved in archive().saved_searches(account.id)
    ]
    return render_template("saved.html", searches=searches)


def _grouped(params: tuple[tuple[str, str], ...]) -> dict[str, list[str]]:
    """URL parameters from (name, value) pairs: a name given twice is repeated."""
    grouped: dict[str, list[str]] = {}
    for k, v in params:
        grouped.setdefault(k, []).append(v)
    return grouped


def _feed_params(params: tuple[tuple[str, str], ...]) -> dict[str, list[str]]:
    return {k: v for k, v in _grouped(params).items() if k not in ("sort", "limit")}


@bp.post("/saved")
@requires(account=True)
def save_search():
    params = {name: request.form.getlist(name) for name in SEARCH_PARAMS}
    try:
        saved = archive().save_search(principal().account.id, request.form.get("name", ""), params)
    except AccountError as exc:
        flash(str(exc), "error")
        return redirect(url_for("archive.search_page", **{k: v for k, v in params.items() if v}))
    flash(f"検索「{saved.name}」を保存しました。")
    return redirect(url_for("accounts.saved_page"))


@bp.post("/saved/<int:search_id>/delete")
@requires(account=True)
def delete_saved(search_id: int):
    if archive().remove_saved_search(principal().account.id, search_id):
        flash("保存した検索を削除しました。")
    else:
        flash("その検索は保存されていません。", "error")
    return redirect(url_for("accounts.saved_page"))
