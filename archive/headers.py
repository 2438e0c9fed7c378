"""Security headers on every response: pages, the JSON API, feeds and errors alike.

The pages need no inline script or style (the stylesheet and the one small
script are files under /static/), so the Content-Security-Policy allows only
this origin's own files and nothing else: an article or a query that smuggles
markup past the escaping still could not run or load anything.
"""

from __future__ import annotations

from flask import Flask, Response, g, request

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    # What someone searched for stays here: other sites see no address of ours.
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


# The bookmarklet's popup, and the login page it may pass through, talk with the page
# that opened them (postMessage): a Cross-Origin-Opener-Policy of same-origin would
# cut that tie.  They show nothing of the archive to the opener (see archive.editing).
OPENER_ENDPOINTS = {"editing.save_page", "editing.save", "accounts.login"}


def add_security_headers(response: Response) -> Response:
    if request.endpoint in OPENER_ENDPOINTS:
        response.headers["Cross-Origin-Opener-Policy"] = "unsafe-none"
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    principal = g.get("principal")
    if principal is not None and principal.role is not None:
        # Someone's own view of a private archive: no proxy or shared cache keeps it.
        response.headers.setdefault("Cache-Control", "private, no-store")
    return response


# Sent when the public address is https: browsers then refuse plain http to it for a year.
STRICT_TRANSPORT_SECURITY = "max-age=31536000"


def register(app: Flask) -> None:
    """Send the headers with every response the app makes (HSTS when served over https)."""
    app.after_request(add_security_headers)
    if app.config["PUBLIC_URL"].startswith("https://"):

        @app.after_request
        def add_hsts(response: Response) -> Response:
            response.headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
            return response
