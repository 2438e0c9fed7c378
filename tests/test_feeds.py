"""The Atom feeds as a feed reader sees them: feedparser, over a real server and the test client."""

from __future__ import annotations

import feedparser
import pytest

from .conftest import served


@pytest.fixture
def client(sample_archive, open_client):
    return open_client(
        ARCHIVE_HOME=str(sample_archive.settings.home), PUBLIC_URL="https://news.example/archive/"
    )


def parsed(response) -> feedparser.FeedParserDict:
    assert response.status_code == 200
    feed = feedparser.parse(response.get_data())
    assert not feed.bozo, feed.bozo_exception
    return feed


def test_a_feed_reader_reads_every_entry_with_its_author(client, sample_archive):
    feed = parsed(client.get("/feed", query_string={"q": "リチウム OR 観光"}))
    assert feed.version == "atom10"
    assert feed.entries
    records = {r.id: r for r in sample_archive.every_article()}
    authored = 0
    for entry in feed.entries:
        article_id = int(entry.link.rsplit("/", 1)[1])
        record = records[article_id]
        # The article's author; its site only when it names none.
        assert entry.author == (record.author or record.site)
        authored += bool(record.author)
        assert entry.title == record.title
        assert entry.updated_parsed is not None
    assert 0 < authored  # the sample has authored articles among these


@pytest.mark.parametrize("host", ["localhost", "rebind.attacker.example", "127.0.0.1:9999"])
def test_entry_ids_name_the_public_address_whatever_host_was_asked(client, host):
    feed = parsed(client.get("/feed?q=観光", headers={"Host": host}))
    assert feed.feed.id.startswith("https://news.example/archive/feed?")
    assert feed.entries
    for entry in feed.entries:
        assert entry.id.startswith("https://news.example/archive/articles/"), entry.id
        assert entry.id == entry.link
    same = parsed(client.get("/feed?q=観光", headers={"Host": "localhost"}))
    assert [e.id for e in same.entries] == [e.id for e in feed.entries]


def test_a_feed_reader_asks_again_with_its_validators_and_gets_a_304(sample_home, tmp_path):
    with served(sample_home, tmp_path / "serve.log") as url:
        first = feedparser.parse(f"{url}/feed?q=観光")
        assert first.status == 200 and first.entries
        assert first.etag and first.modified
        assert first.headers.get("content-encoding") in ("gzip", "br", "zstd", "deflate")
        again = feedparser.parse(f"{url}/feed?q=観光", etag=first.etag, modified=first.modified)
        assert again.status == 304 and not again.entries
        other = feedparser.parse(f"{url}/feed?q=空港", etag=first.etag)
        assert other.status == 200 and other.entries
