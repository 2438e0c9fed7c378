"""Exporting a result set from the web: CSV and JSON Lines, every result the total counts."""

from __future__ import annotations

import csv
import io
import json
from urllib.parse import unquote

import pytest

from .conftest import SAMPLE_ARTICLES, import_into, write_jsonl


@pytest.fixture
def client(sample_archive, open_client):
    settings = sample_archive.settings
    return open_client(ARCHIVE_HOME=str(settings.home), ARCHIVE_DATABASE_URL=settings.database_url)


def csv_rows(response) -> list[dict[str, str]]:
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode()), "Excel needs the BOM to read UTF-8"
    text = raw.decode("utf-8-sig")
    assert "\r\n" in text  # RFC 4180 line ends
    return list(csv.DictReader(io.StringIO(text, newline="")))


def jsonl_rows(response) -> list[dict]:
    return [json.loads(line) for line in response.get_data(as_text=True).splitlines()]


SEARCHES = [
    {"q": "リチウム"},  # the wire story's three copies among them
    {"q": "リチウム", "group": "0"},
    {"q": "観光", "sort": "oldest"},
    {"q": "空港 OR 観光", "site": "kinki-times.example"},
    {"category": "科学"},
    {"q": "空港", "from": "2025-01-01", "to": "2025-12-31"},
    # Several values of a facet, and a value left out, as the facets set them
    {"q": "空港 OR 観光", "site": ["kinki-times.example", "www.setouchi-press.example"]},
    {"q": "空港 OR 観光", "not_site": "kinki-times.example"},
]


@pytest.mark.parametrize("args", SEARCHES, ids=lambda a: "&".join(f"{k}={v}" for k, v in a.items()))
def test_an_export_holds_every_result_the_total_counts_in_their_order(client, args):
    api = client.get("/api/search", query_string={**args, "limit": 100}).get_json()
    grouped = api["grouped"]
    expected = [h["id"] for h in api["hits"]]
    if grouped:  # a story's copies are rows of their own, as the total counts them
        ungrouped = client.get("/api/search", query_string={**args, "limit": 100, "group": 0})
        expected = [h["id"] for h in ungrouped.get_json()["hits"]]
    assert len(expected) == api["total"] > 0
    for fmt, read in (("csv", csv_rows), ("jsonl", jsonl_rows)):
        response = client.get("/api/search/export", query_string={**args, "format": fmt})
        assert response.status_code == 200 and response.is_streamed
        ids = [int(row["id"]) for row in read(response)]
        assert sorted(ids) == sorted(expected)
        if not grouped:
            assert ids == expected


def test_a_row_is_the_articles_api_record_with_its_story(client):
    response = client.get("/api/search/export", query_string={"q": "リチウム", "format": "jsonl"})
    assert response.mimetype == "application/x-ndjson"
    rows = jsonl_rows(response)
    for row in rows:
        record = client.get(f"/api/articles/{row['id']}").get_json()
        assert row["copies"] == [c["id"] for c in record["copies"]]
        assert {k: v for k, v in row.items() if k != "copies"} == {
            k: v for k, v in record.items() if k not in ("copies", "related")
        }
        assert "source_path" not in row
    story = [row for row in rows if row["copies"]]
    assert len(story) == 3 and len({row["story_id"] for row in story}) == 1


def test_csv_has_every_field_as_text_lists_as_json(client, sample_archive):
    response = client.get("/api/search/export", query_string={"q": "リチウム"})
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    rows = csv_rows(response)
    record = sample_archive.article(int(rows[0]["id"]))
    assert rows[0]["title"] == record.title and rows[0]["body"] == record.body
    assert json.loads(rows[0]["tags"]) == list(record.tags)
    assert rows[0]["author"] == (record.author or "")
    assert rows[0]["published_at"] == record.published_at.isoformat()
    assert {"id", "url", "site", "category", "story_id", "copies"} <= set(rows[0])


def test_body_can_be_left_out(client):
    for fmt, read in (("csv", csv_rows), ("jsonl", jsonl_rows)):
        args = {"q": "観光", "format": fmt, "body": "0"}
        rows = read(client.get("/api/search/export", query_string=args))
        assert rows and all("body" not in row and row["title"] for row in rows)


def test_no_query_and_no_filter_exports_every_article(client):
    rows = jsonl_rows(client.get("/api/search/export", query_string={"format": "jsonl"}))
    assert len(rows) == SAMPLE_ARTICLES
    dates = [r["published_at"] for r in rows if r["published_at"]]
    assert dates == sorted(dates, reverse=True)  # newest first, as the listing


def test_nothing_found_is_a_header_alone(client):
    response = client.get("/api/search/export", query_string={"q": "存在しない語句ザザ"})
    assert response.status_code == 200
    text = response.get_data().decode("utf-8-sig")
    assert text.startswith("id,title,body,") and text.count("\r\n") == 1
    empty = client.get(
        "/api/search/export", query_string={"q": "存在しない語句ザザ", "format": "jsonl"}
    )
    assert empty.get_data() == b""


def test_the_file_is_named_for_the_search(client):
    response = client.get(
        "/api/search/export", query_string={"q": "リチウム 電池", "format": "jsonl"}
    )
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="archive-export-')
    assert '.jsonl"' in disposition
    assert "archive-リチウム_電池-" in unquote(disposition.split("filename*=UTF-8''")[1])


def test_values_are_quoted_so_that_a_spreadsheet_reads_them_back(
    home, open_client, archive, tmp_path
):
    tricky = {
        "title": '見出しに, カンマと "引用符" と\n改行',
        "body": '本文、カンマ,と改行\r\nと「引用符"」。空港の話。',
        "url": "https://example.jp/tricky",
        "tags": ["a,b", 'c"d'],
        "author": "=1+1",
    }
    import_into(archive, write_jsonl(tmp_path / "tricky.jsonl", [tricky]))
    client = open_client(ARCHIVE_HOME=str(home), ARCHIVE_DATABASE_URL=archive.settings.database_url)
    [row] = csv_rows(client.get("/api/search/export", query_string={"q": "空港"}))
    record = archive.article(int(row["id"]))
    assert row["title"] == record.title and row["body"] == record.body
    assert json.loads(row["tags"]) == ["a,b", 'c"d']
    assert row["author"] == "=1+1"  # the text as stored: an export loses nothing


def test_the_results_page_links_to_its_export(client):
    html = client.get("/", query_string={"q": "観光", "sort": "oldest", "limit": 2}).get_data(
        as_text=True
    )
    assert 'data-total="' in html
    link = html.split('class="export"')[1].split('href="')[1].split('"')[0].replace("&amp;", "&")
    assert link.startswith("/api/search/export?") and "format=csv" in link
    assert "sort=oldest" in link and "limit" not in link
    rows = csv_rows(client.get(link))
    total = int(html.split('data-total="')[1].split('"')[0])
    assert len(rows) == total > 2


def test_a_row_carries_the_people_organisations_and_places_the_article_names(client):
    rows = jsonl_rows(client.get("/api/search/export", query_string={"format": "jsonl"}))
    assert all(set(row["entities"]) <= {"person", "org", "place"} for row in rows)
    assert any(row["entities"].get("place") for row in rows)
    header = csv_rows(client.get("/api/search/export", query_string={"q": "空港"}))[0]
    assert "entities" in header
