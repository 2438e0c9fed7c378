"""HTTP done right: compression, ETag and Last-Modified, 304s, and who may cache what."""

from __future__ import annotations

import gzip

import pytest

from .conftest import SAMPLE, import_into, write_jsonl

PASSWORD = "correct horse battery"


@pytest.fixture
def filled(archive):
    summary = import_into(archive, SAMPLE)
    assert summary.ok, summary
    return archive


@pytest.fixture
def client(filled, open_client):
    settings = filled.settings
    return open_client(ARCHIVE_HOME=str(settings.home), ARCHIVE_DATABASE_URL=settings.database_url)


READING = [
    ("/?q=観光", "text/html"),
    ("/api/search?q=観光", "application/json"),
    ("/feed?q=観光", "application/atom+xml"),
    ("/api/search/export?q=観光", "text/csv"),
    ("/api/search/export?q=観光&format=jsonl", "application/x-ndjson"),
]


@pytest.mark.parametrize(("path", "mimetype"), READING)
def test_answers_are_gzipped_for_a_client_that_asks(client, path, mimetype):
    plain = client.get(path)
    packed = client.get(path, headers={"Accept-Encoding": "gzip"})
    assert packed.mimetype == plain.mimetype == mimetype
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert "Content-Encoding" not in plain.headers
    body = plain.get_data()
    if mimetype == "application/atom+xml":  # its <updated> is the newest article's: stable
        assert gzip.decompress(packed.get_data()) == body
    elif not mimetype.startswith("text/csv"):
        assert len(packed.get_data()) < len(body)
    else:  # an export is named for the second it was made in
        assert gzip.decompress(packed.get_data()).startswith(body.split(b"\r\n")[0])


def article_path(archive) -> str:
    return f"/articles/{archive.search('京都').hits[0].id}"


def test_every_reading_answer_has_validators_and_a_matching_request_gets_a_304(client, filled):
    for path in [p for p, _ in READING] + [article_path(filled), "/opensearch.xml"]:
        first = client.get(path)
        assert first.status_code == 200, path
        etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
        assert etag.startswith('W/"') and first.headers["Cache-Control"] == "no-cache"
        assert {"Cookie", "Authorization"} <= set(first.headers["Vary"].replace(" ", "").split(","))
        again = client.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.get_data() == b"", path
        assert again.headers["ETag"] == etag
        assert client.get(path, headers={"If-Modified-Since": modified}).status_code == 304
        assert client.get(path, headers={"If-None-Match": 'W/"other"'}).status_code == 200
        # If-None-Match decides when both are sent (RFC 9110 13.2.2).
        both = {"If-None-Match": 'W/"other"', "If-Modified-Since": modified}
        assert client.get(path, headers=both).status_code == 200
    assert client.get("/?q=観光").headers["ETag"] != client.get("/?q=京都").headers["ETag"]


def test_an_import_or_an_edit_changes_every_etag(client, filled, tmp_path):
    paths = ["/?q=観光", "/api/search?q=観光", "/feed?q=観光", article_path(filled)]
    before = {p: client.get(p).headers["ETag"] for p in paths}
    added = {"title": "観光の新しい記事", "body": "観光客が増えた。", "url": "https://x.example/1"}
    import_into(filled, write_jsonl(tmp_path / "new.jsonl", [added]))
    after = {p: client.get(p, headers={"If-None-Match": before[p]}) for p in paths}
    assert all(r.status_code == 200 for r in after.values())
    assert "観光の新しい記事" in after["/api/search?q=観光"].get_data(as_text=True)
    etags = {p: r.headers["ETag"] for p, r in after.items()}
    assert all(etags[p] != before[p] for p in paths)
    kyoto = filled.search("京都").hits[0]
    filled.edit(kyoto.id, "shell:test", title="京都の紅葉が見頃", category=None, tags=[])
    edited = client.get(article_path(filled), headers={"If-None-Match": etags[paths[3]]})
    assert edited.status_code == 200 and "京都の紅葉が見頃" in edited.get_data(as_text=True)


def test_a_logged_in_users_pages_are_never_kept_by_anyone_but_a_token_may_revalidate(
    filled, open_client
):
    settings = filled.settings
    config = {
        "ARCHIVE_HOME": str(settings.home),
        "ARCHIVE_DATABASE_URL": settings.database_url,
        "ACCESS": "private",
    }
    filled.add_user("reader", PASSWORD, "reader")
    user = open_client(**config)
    page = user.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    form = {"name": "reader", "password": PASSWORD, "csrf_token": token}
    assert user.post("/login", data=form).status_code == 302
    for path in ("/?q=観光", "/api/search?q=観光"):
        mine = user.get(path)
        assert mine.status_code == 200
        assert mine.headers["Cache-Control"] == "private, no-store"
        assert "ETag" not in mine.headers
    _, secret = filled.create_token("script", "reader")
    script = open_client(**config)
    bearer = {"Authorization": f"Bearer {secret}"}
    answer = script.get("/api/search?q=観光", headers=bearer)
    assert answer.headers["Cache-Control"] == "private, no-cache"
    again = script.get(
        "/api/search?q=観光", headers={**bearer, "If-None-Match": answer.headers["ETag"]}
    )
    assert again.status_code == 304
    # Nobody else gets a 304 for what the token was shown, nor anything at all.
    anonymous = open_client(**config)
    refused = anonymous.get("/api/search?q=観光", headers={"If-None-Match": answer.headers["ETag"]})
    assert refused.status_code == 401


def test_refusals_are_machine_readable_too(filled, open_client):
    """401, 403 and 429 have the API's error shape, their message kept in Japanese."""
    settings = filled.settings
    config = {
        "ARCHIVE_HOME": str(settings.home),
        "ARCHIVE_DATABASE_URL": settings.database_url,
        "ACCESS": "private",
        "LOGIN_RATE_LIMIT": "2 per minute",
    }
    _, reader = filled.create_token("reader-script", "reader")
    client = open_client(**config)
    cases = [
        ({}, 401, "unauthorized", "ログイン"),
        ({"Authorization": "Basic x"}, 401, "bad_credentials", "Bearer"),
        ({"Authorization": "Bearer wrong"}, 401, "invalid_token", ""),
    ]
    for headers, status, code, words in cases:
        answer = client.get("/api/search?q=観光", headers=headers)
        assert answer.status_code == status
        error = answer.get_json()["error"]
        assert (error["code"], error["parameter"]) == (code, None) and words in error["message"]
    forbidden = client.post(
        "/api/articles",
        json={"title": "見出し", "body": "本文"},
        headers={"Authorization": f"Bearer {reader}"},
    )
    assert forbidden.status_code == 403
    assert forbidden.get_json()["error"]["code"] == "forbidden"
    assert "編集者" in forbidden.get_json()["error"]["message"]
    feed = client.get("/feed?q=観光&key=nope")
    assert feed.status_code == 401 and "フィード" in feed.get_data(as_text=True)
    script = open_client(**config)
    page = script.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    tries = [
        script.post(
            "/login",
            data={"name": "nobody", "password": "x", "csrf_token": token},
            headers={"Accept": "application/json"},
        )
        for _ in range(3)
    ]
    assert tries[-1].status_code == 429
    error = tries[-1].get_json()["error"]
    assert error["code"] == "too_many_requests" and "しばらく待って" in error["message"]


def test_a_page_with_a_message_to_show_once_gets_no_validators(filled, open_client):
    settings = filled.settings
    filled.add_user("reader", PASSWORD, "reader")
    client = open_client(
        ARCHIVE_HOME=str(settings.home), ARCHIVE_DATABASE_URL=settings.database_url
    )
    token = client.get("/login").get_data(as_text=True).split('name="csrf_token" value="')[1]
    token = token.split('"')[0]
    form = {"name": "reader", "password": PASSWORD, "csrf_token": token}
    assert client.post("/login", data=form).status_code == 302
    token = client.get("/account").get_data(as_text=True).split('name="csrf_token" value="')[1]
    assert client.post("/logout", data={"csrf_token": token.split('"')[0]}).status_code == 302
    told = client.get("/?q=観光")
    assert "ログアウトしました" in told.get_data(as_text=True)
    assert "ETag" not in told.headers
    later = client.get("/?q=観光")
    assert "ログアウトしました" not in later.get_data(as_text=True)
    assert later.headers["ETag"]
