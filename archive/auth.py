"""Who is asking, and what they may do: sessions, API tokens, feed keys, CSRF and login limits.

Each request is identified once (:func:`identify`), by the first of these it carries:

- ``Authorization: Bearer TOKEN`` (scripts; any route): a token made with
  ``indexer tokens create``.  A wrong or revoked one is a 401, never anonymous.
- ``?key=`` on the feed and the OpenSearch description: a user's feed key, so a
  feed reader, which has no session, can fetch a logged-in reader's feeds.
- The session cookie (Flask's signed cookie, through Flask-Login): someone who
  logged in on the login page.

Every unsafe request (POST) that is not authenticated by a token must carry the
form's CSRF token (Flask-WTF), in a form field or the ``X-CSRFToken`` header: a
token is no ambient credential a page elsewhere could ride on, a cookie is.

The archive is ``open`` (anyone may read; logging in adds what one's role
may) or ``private`` (nothing but the login page without logging in).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Flask,
    Response,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, UserMixin, current_user
from flask_wtf.csrf import CSRFProtect

from indexer.archive import EDITOR, Account, Archive, at_least
from indexer.errors import TokenRejected

OPEN, PRIVATE = "open", "private"
ACCESS_MODES = (OPEN, PRIVATE)
# Reached without logging in even in a private archive: how to log in, and its files.
LOGIN_ENDPOINTS = {"static", "accounts.login"}
# Where a feed key (?key=) is taken instead of a session.
FEED_ENDPOINTS = {"archive.feed", "archive.opensearch"}
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}

csrf = CSRFProtect()


def archive() -> Archive:
    return current_app.extensions["archive"]


@dataclass(frozen=True)
class Principal:
    """Who a request is from: ``anonymous``, a ``user`` (session), a ``token`` or a ``feed`` key."""

    kind: str
    name: str = ""
    role: str | None = None
    account: Account | None = None

    @property
    def actor(self) -> str:
        """How the articles' history names them."""
        return f"{self.kind}:{self.name}"

    @property
    def is_user(self) -> bool:
        return self.kind == "user"

    def may(self, role: str) -> bool:
        return self.role is not None and at_least(self.role, role)

    def may_read(self) -> bool:
        return self.role is not None or current_app.config["ACCESS"] == OPEN


ANONYMOUS = Principal("anonymous")


class WebUser(UserMixin):
    """A logged-in account as Flask-Login keeps it in the session.

    Its id carries the account's session key, so that a new password (or the
    account's removal) ends every session signed in before.
    """

    def __init__(self, account: Account) -> None:
        self.account = account

    def get_id(self) -> str:
        return f"{self.account.id}:{self.account.session_key}"


def principal() -> Principal:
    return g.get("principal", ANONYMOUS)


def feed_key() -> str | None:
    """The feed key of the user asking (a session or their own feed key), to put in feed URLs."""
    account = principal().account
    return archive().feed_key(account) if account is not None else None


def _load_user(user_id: str) -> WebUser | None:
    number, _, key = user_id.partition(":")
    if not number.isdigit() or not key:
        return None
    account = archive().account(int(number), key)
    return WebUser(account) if account is not None else None


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


# The machine-readable code of an API error, by its status, unless one more precise is given.
ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "unprocessable",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}


def error_json(
    status: int, message: str, code: str | None = None, parameter: str | None = None
) -> Response:
    """An API error: ``{"error": {"code", "parameter", "message"}}``, the message in Japanese.

    ``code`` says what went wrong for a program (``bad_parameter``, ``not_found``,
    ``search_too_slow`` …); ``parameter`` names the request's parameter at fault, if one is.
    """
    body = {"code": code or ERROR_CODES.get(status, "error"), "parameter": parameter}
    response = jsonify({"error": {**body, "message": message}})
    response.status_code = status
    return response


def refuse(
    status: int,
    title: str,
    message: str,
    *,
    code: str | None = None,
    parameter: str | None = None,
    **headers: str,
):
    """An error answer: JSON for the API (and scripts asking for JSON), a page otherwise."""
    if wants_json():
        response = error_json(status, message, code, parameter)
    else:
        response = current_app.make_response(
            render_template("error.html", status=status, title=title, message=message)
        )
    response.status_code = status
    response.headers.update(headers)
    return response


def _to_login():
    if wants_json():
        return refuse(
            401,
            "ログインが必要です",
            "ログインするか、APIトークンを Authorization: Bearer で送ってください。",
            **{"WWW-Authenticate": "Bearer"},
        )
    target = request.full_path if request.query_string else request.path
    return redirect(url_for("accounts.login", next=target))


def identify():
    """Name the request's principal, check its CSRF token, keep a private archive closed."""
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return refuse(
                401,
                "認証できません",
                "Authorization は「Bearer トークン」の形で送ってください。",
                code="bad_credentials",
                **{"WWW-Authenticate": "Bearer"},
            )
        try:
            info = archive().verify_token(token.strip())
        except TokenRejected as exc:
            return refuse(
                401,
                "認証できません",
                str(exc),
                code="invalid_token",
                **{"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        g.principal = Principal("token", info.name, info.role)
    elif request.endpoint in FEED_ENDPOINTS and "key" in request.args:
        account = archive().feed_account(request.args["key"])
        if account is None:
            return refuse(
                401,
                "フィードのURLが無効です",
                "このフィードのURLは作り直されたか、ユーザーが削除されています。"
                "アカウントのページから新しいURLをコピーしてください。",
                code="invalid_feed_key",
                parameter="key",
            )
        g.principal = Principal("feed", account.name, account.role, account)
    elif current_user.is_authenticated:
        account = current_user.account
        g.principal = Principal("user", account.name, account.role, account)
    # No view answers a path or method the app does not know (a 404 or 405 follows):
    # nothing to protect there.
    routed = request.routing_exception is None
    if routed and request.method not in SAFE_METHODS and principal().kind != "token":
        csrf.protect()
    if (
        current_app.config["ACCESS"] == PRIVATE
        and principal().role is None
        and request.endpoint not in LOGIN_ENDPOINTS
    ):
        return _to_login()
    return None


def requires(role: str | None = None, *, account: bool = False) -> Callable:
    """A view for principals of at least ``role`` (and, with ``account``, logged-in users)."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any):
            who = principal()
            if who.role is None:
                return _to_login()
            if (account and not who.is_user) or (role and not who.may(role)):
                return refuse(
                    403,
                    "権限がありません",
                    "この操作をする権限がありません。"
                    + ("ログインして使ってください。" if account and not who.is_user else "")
                    + ("編集者か管理者の役割が必要です。" if role == EDITOR else ""),
                )
            return view(*args, **kwargs)

        return guarded

    return decorate


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path of this site only (never another site's URL)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("archive.search_page")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return url_for("archive.search_page")
    return target


def register(app: Flask) -> Limiter:
    """Sessions, CSRF and identification on ``app``; the login rate limiter it uses."""
    manager = LoginManager()
    manager.user_loader(_load_user)
    manager.init_app(app)
    # Checked in identify(), after a token has had its say: a request a token
    # authenticates needs no CSRF token.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    csrf.init_app(app)
    app.before_request(identify)
    limiter = Limiter(
        key_func=get_remote_address,
        app=app,
        storage_uri=app.config["RATELIMIT_STORAGE_URI"],
        headers_enabled=True,
    )

    @app.context_processor
    def who_is_asking() -> dict[str, Any]:
        return {"principal": principal(), "access": app.config["ACCESS"]}

    return limiter
