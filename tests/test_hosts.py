"""The Host check and the public address: which requests are answered, and what links say.

A ``Host`` header is read strictly (a name or address, at most a numeric
port, IPv6 in brackets alone) and compared with the names the app answers
to; feed ids and absolute links start with the configured public address
whatever the request named.  Checked through the Flask test client, and once
through the real server (waitress passes the header on as it came).
"""

from __future__ import annotations

import http.client
import xml.etree.ElementTree as ET
from urllib.parse import quote, urlsplit

import pytest
from click.testing import CliRunner

from archive import create_app
from archive.cli import cli as archive_cli
from archive.hosts import allowed_hosts, default_public_url

from .conftest import served

ATOM = "{http://www.w3.org/2005/Atom}"
OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"
LOOPBACK = ["localhost", "127.0.0.1", "[::1]"]
# What each kind of refusal says.
UNKNOWN = "という名前では公開していません"
MALFORMED = "ホスト名として読み取れません"
# Every kind of response the Host check guards: a page, the API, a feed, a description.
PATHS = ("/?q=空港", "/api/search?q=空港", "/feed?q=空港", "/opensearch.xml")

HOSTS = [
    # (names allowed, Host header, status, what a refusal says)
    (LOOPBACK, "localhost", 200, None),
    (LOOPBACK, "localhost:8000", 200, None),
    (LOOPBACK, "LocalHost", 200, None),
    (LOOPBACK, "127.0.0.1", 200, None),
    (LOOPBACK, "127.0.0.1:5000", 200, None),
    (LOOPBACK, "[::1]", 200, None),
    (LOOPBACK, "[::1]:8000", 200, None),
    (LOOPBACK, "[0:0::1]:8000", 200, None),
    (LOOPBACK, "evil", 400, UNKNOWN),
    (LOOPBACK, "rebind.attacker.example", 400, UNKNOWN),
    (LOOPBACK, "rebind.attacker.example:8000", 400, UNKNOWN),
    (LOOPBACK, "127.0.0.1.nip.io", 400, UNKNOWN),
    (LOOPBACK, "localhost.attacker.example:8000", 400, UNKNOWN),
    (LOOPBACK, "localhost.", 400, UNKNOWN),
    (LOOPBACK, "[::ffff:127.0.0.1]", 400, UNKNOWN),
    (LOOPBACK, "[::1]evil", 400, MALFORMED),
    (LOOPBACK, "[::1]:evil", 400, MALFORMED),
    (LOOPBACK, "[::1]:8000evil", 400, MALFORMED),
    (LOOPBACK, "localhost:evil", 400, MALFORMED),
    (LOOPBACK, "localhost:8000:8000", 400, MALFORMED),
    (LOOPBACK, "localhost:", 400, MALFORMED),
    (LOOPBACK, "localhost:99999", 400, MALFORMED),
    (LOOPBACK, "localhost:-1", 400, MALFORMED),
    (LOOPBACK, "::1", 400, MALFORMED),
    (LOOPBACK, "[::1", 400, MALFORMED),
    (LOOPBACK, "[]", 400, MALFORMED),
    (LOOPBACK, "[fe80::1%eth0]", 400, MALFORMED),
    (LOOPBACK, "127.1", 400, MALFORMED),
    (LOOPBACK, "2130706433", 400, MALFORMED),
    (LOOPBACK, "local host", 400, MALFORMED),
    (LOOPBACK, "localhost@evil.example", 400, MALFORMED),
    (LOOPBACK, "localhost/evil", 400, MALFORMED),
    (LOOPBACK, "%6cocalhost", 400, MALFORMED),
    (LOOPBACK, "-localhost", 400, MALFORMED),
    (LOOPBACK, "日本.example", 400, MALFORMED),
    (LOOPBACK, "", 400, MALFORMED),
    ([*LOOPBACK, "archive.example"], "archive.example:8080", 200, None),
    ([*LOOPBACK, "archive.example"], "ARCHIVE.example", 200, None),
    ([*LOOPBACK, "archive.example"], "attacker.example", 400, UNKNOWN),
    # Any name (served on 0.0.0.0 without --allowed-host), but only names.
    (None, "rebind.attacker.example", 200, None),
    (None, "evil:8000", 200, None),
    (None, "[2001:db8::1]:443", 200, None),
    (None, "[::1]evil", 400, MALFORMED),
    (None, "localhost:evil", 400, MALFORMED),
    (None, "a b", 400, MALFORMED),
]


@pytest.fixture(scope="module")
def apps(sample_home):
    """One app for each set of names allowed (building one loads the synonym map)."""
    made = {}

    def app_for(allowed, **config):
        key = (tuple(allowed) if allowed is not None else None, tuple(sorted(config.items())))
        if key not in made:
            made[key] = create_app(
                {"TESTING": True, "ACCESS": "open", "ARCHIVE_HOME": str(sample_home)}
                | {"ALLOWED_HOSTS": allowed}
                | config
            )
        return made[key]

    yield app_for
    for app in made.values():
        app.extensions["archive"].close()


@pytest.mark.parametrize(("allowed", "host", "status", "says"), HOSTS)
def test_the_host_header_is_read_strictly_and_checked(apps, allowed, host, status, says):
    client = apps(allowed).test_client()
    for path in PATHS:
        response = client.get(path, headers={"Host": host})
        assert response.status_code == status, (path, response.get_data(as_text=True)[:300])
        if status == 400:
            text = response.get_data(as_text=True)
            message = response.get_json()["error"]["message"] if path.startswith("/api/") else text
            assert says in message
            assert "関西国際" not in text
            if says == UNKNOWN:
                assert "--allowed-host" in message


def test_an_unknown_name_is_told_how_to_allow_it(apps):
    client = apps(LOOPBACK).test_client()
    page = client.get("/?q=空港", headers={"Host": "archive.example:8000"})
    assert "python -m archive serve --allowed-host archive.example で起動してください" in (
        page.get_data(as_text=True)
    )


@pytest.mark.parametrize("host", ["rebind.attacker.example", "evil:8000", "localhost"])
def test_feeds_and_links_name_the_public_address_never_the_requests_host(apps, host):
    client = apps(None).test_client()
    feed = ET.fromstring(client.get("/feed?q=空港", headers={"Host": host}).get_data())
    addresses = [feed.findtext(f"{ATOM}id")]
    addresses += [link.get("href") for link in feed.iter(f"{ATOM}link")]
    addresses += [entry.findtext(f"{ATOM}id") for entry in feed.iter(f"{ATOM}entry")]
    described = ET.fromstring(client.get("/opensearch.xml", headers={"Host": host}).get_data())
    addresses += [u.get("template") for u in described.iter(f"{OPENSEARCH}Url")]
    addresses.append(described.findtext(f"{OPENSEARCH}Image"))
    ours = [a for a in addresses if "/articles/" in a or "feed" in a or "searchTerms" in a]
    assert len(ours) > 4
    assert all(a.startswith("http://127.0.0.1:8000/") for a in ours), ours


def test_a_configured_public_address_is_used_and_https_sends_hsts(apps):
    app = apps(LOOPBACK, PUBLIC_URL="https://Archive.Example/news/")
    client = app.test_client()
    # The public address's own name is answered too: a proxy in front passes it on.
    response = client.get("/feed?q=空港", headers={"Host": "archive.example"})
    assert response.status_code == 200
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    feed = ET.fromstring(response.get_data())
    [entry] = feed.findall(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}id").startswith("https://archive.example/news/articles/")
    assert feed.findtext(f"{ATOM}id").startswith("https://archive.example/news/feed?")
    plain = apps(LOOPBACK).test_client().get("/", headers={"Host": "localhost"})
    assert "Strict-Transport-Security" not in plain.headers


@pytest.mark.parametrize(
    "url", ["ftp://archive.example", "archive.example", "https://[::1]evil/", "https://a/?q=1"]
)
def test_a_public_address_that_cannot_be_one_is_refused(sample_home, url):
    with pytest.raises(ValueError):
        create_app(
            {"TESTING": True, "ACCESS": "open", "ARCHIVE_HOME": str(sample_home), "PUBLIC_URL": url}
        )
    result = CliRunner().invoke(archive_cli, ["serve", "--public-url", url])
    assert result.exit_code == 2
    assert "--public-url" in result.output and "指定してください" in result.output


def test_an_allowed_host_that_is_no_name_is_refused():
    result = CliRunner().invoke(archive_cli, ["serve", "--allowed-host", "localhost:evil"])
    assert result.exit_code == 2
    assert "ホスト名として読み取れません" in result.output


@pytest.mark.parametrize(
    ("address", "extra", "allowed"),
    [
        ("127.0.0.1", (), LOOPBACK),
        ("localhost", (), LOOPBACK),
        ("::1", (), LOOPBACK),
        ("127.0.0.2", ("Archive.Example:8000",), [*LOOPBACK, "archive.example"]),
        ("0.0.0.0", (), None),
        ("192.168.1.5", (), None),
        ("0.0.0.0", ("archive.example", "::1"), [*LOOPBACK, "archive.example"]),
    ],
)
def test_serve_answers_loopback_names_only_on_a_loopback_address(address, extra, allowed):
    assert allowed_hosts(address, extra) == allowed


@pytest.mark.parametrize(
    ("address", "extra", "url"),
    [
        ("127.0.0.1", (), "http://127.0.0.1:8000"),
        ("::1", (), "http://[::1]:8000"),
        ("192.168.1.5", (), "http://192.168.1.5:8000"),
        ("0.0.0.0", ("archive.example",), "http://archive.example:8000"),
    ],
)
def test_the_default_public_address_is_where_serve_listens(address, extra, url):
    assert default_public_url(address, 8000, extra) == url


def test_the_real_server_refuses_malformed_hosts(sample_home, tmp_path):
    """waitress hands the header on as it came: the app, not the server, must refuse it."""
    with served(sample_home, tmp_path / "serve.log") as url:
        port = urlsplit(url).port
        answers = {}
        for host in (f"localhost:{port}", "[::1]evil", "localhost:evil", f"evil:{port}"):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            connection.putrequest("GET", "/feed?q=" + quote("空港"), skip_host=True)
            connection.putheader("Host", host)
            connection.endheaders()
            response = connection.getresponse()
            answers[host] = (response.status, response.read().decode())
            connection.close()
    assert answers[f"localhost:{port}"][0] == 200
    assert f"http://127.0.0.1:{port}/articles/" in answers[f"localhost:{port}"][1]
    for host in ("[::1]evil", "localhost:evil", f"evil:{port}"):
        status, text = answers[host]
        assert status == 400 and "evil" in text and "<entry>" not in text, (host, text[:200])
