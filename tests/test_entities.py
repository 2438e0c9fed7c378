"""People, organisations and places: read from Sudachi at import, stored, filtered, counted."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC

import pytest
from click.testing import CliRunner
from sqlalchemy import DateTime, MetaData, create_engine, insert, select

from indexer.analysis import extract_entities
from indexer.analysis.entities import MAX_PER_KIND
from indexer.cli import cli
from indexer.store.models import Article

from .conftest import BACKENDS, import_into, make_archive, session_of, write_jsonl
from .test_migrations import OLD_ROWS, migrate, old_articles_table, revision_of

# Written for these tests, in the style of news articles.
ARTICLES = [
    {
        "title": "岸田文雄首相、国連総会で演説",
        "body": "岸田文雄首相は20日、ニューヨークで開かれた国連総会で演説した。"
        "岸田首相は核軍縮の重要性を訴えた。自民党の幹部も同行した。",
        "url": "https://news.example/1",
        "tags": ["外交"],
    },
    {
        "title": "大阪府で新しい万博会場の工事進む",
        "body": "大阪府大阪市の人工島で、博覧会の会場工事が進んでいる。"
        "吉村洋文知事は「予定どおり完成させる」と述べた。大阪の経済界も期待を寄せる。",
        "url": "https://news.example/2",
    },
    {
        "title": "トヨタ自動車、北米で新工場",
        "body": "トヨタ自動車は15日、米国に新しい工場を建てると発表した。"
        "豊田章男会長は記者会見で、雇用を増やすと語った。日本銀行の関係者も注目している。",
        "url": "https://news.example/3",
        "tags": ["経済"],
    },
    {
        "title": "首相、大阪で中小企業の経営者と懇談",
        "body": "岸田文雄首相は21日、大阪市内で中小企業の経営者と懇談した。"
        "岸田文雄首相は賃上げへの協力を求めた。大阪、大阪、大阪と三度繰り返した。",
        "url": "https://news.example/4",
        "tags": ["経済"],
    },
    {
        "title": "米アップルのティム・クック氏が来日",
        "body": "ティム・クック最高経営責任者が来日し、東京都内で講演した。"
        "クック氏は日本の部品メーカーとの協力を強調した。グーグル社の幹部も出席した。",
        "url": "https://news.example/5",
    },
    {
        "title": "北海道で記録的な大雪",
        "body": "北海道札幌市では一晩で50センチの雪が積もった。気象庁は警戒を呼びかけている。",
        "url": "https://news.example/6",
    },
]


def names(kind: str, title: str, body: str = "") -> list[str]:
    return extract_entities(title, body).get(kind, [])


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        # A surname and a given name standing together are one person.
        ("岸田文雄首相が演説した。", "person", ["岸田文雄"]),
        ("安倍晋三元首相の国葬が行われた。", "person", ["安倍晋三"]),
        ("（文／神田はるひ）", "person", ["神田はるひ"]),
        ("清武弘嗣がゲストで出演した。清武は語った。", "person", ["清武弘嗣"]),
        ("清武弘嗣がゲストで出演した。清武は語った。", "place", []),
        ("ソフトバンクの孫正義社長が語った。", "person", ["孫正義"]),
        # A foreign name is joined at ・.
        ("バラク・オバマ大統領が演説した。", "person", ["バラク・オバマ"]),
        # A surname alone with a title is a person; dropped when named in full too.
        ("岸田首相が演説した。", "person", ["岸田"]),
        ("岸田文雄首相が演説した。岸田首相は続けた。", "person", ["岸田文雄"]),
        ("オバマ大統領が来日した。", "person", ["オバマ"]),
        # A surname with no title is as often a place or a word: not guessed.
        ("松井がホームランを打った。", "person", []),
        # Places in their A units: an address names its places, suffixes aside.
        ("大阪府大阪市で火事があった。", "place", ["大阪"]),
        ("北海道札幌市に雪が降った。", "place", ["北海道", "札幌"]),
        ("港区で会合が開かれた。", "place", ["港区"]),
        ("日本と米国が協議した。", "place", ["日本", "米国"]),
        # Organisations say they are one.
        ("自民党が会合を開いた。", "org", ["自民党"]),
        ("トヨタ自動車が発表した。", "org", ["トヨタ自動車"]),
        ("グーグル社が発表した。", "org", ["グーグル"]),
        ("ソフトバンクの孫正義社長が語った。", "org", ["ソフトバンク"]),
        ("NHKが報じた。", "org", ["NHK"]),
        ("株式会社シグナルトークは新サービスを始めた。", "org", ["シグナルトーク"]),
        (
            "スターバックス コーヒージャパン株式会社が発売する。",
            "org",
            ["スターバックス コーヒージャパン"],
        ),
        ("翔泳社から出版された。", "org", ["翔泳社"]),
        # A company opens a news sentence with its name and the day: Xは15日、
        ("グリーは20日、機能を停止した。", "org", ["グリー"]),
        ("岸田首相は20日、演説した。", "org", []),
        # Foreign names: family names that are words too, but not a thing's name.
        ("ラッセル・クロウが主演する。", "person", ["ラッセル・クロウ"]),
        ("リュック・ベッソンが製作した。", "person", ["リュック・ベッソン"]),
        ("リーマン・ショック後に設立した。", "person", []),
        ("ゴールデン・グローブ賞の候補になった。", "person", []),
        # Places inside a company's, a cinema's name, or in hiragana, are no places.
        ("トランセンド・ジャパンが販売する。", "place", []),
        ("広島バルト11で上映された。", "place", ["広島"]),
        ("東京・銀座で開かれた。", "place", ["東京", "銀座"]),
        ("くまモンの人気が続く。", "place", []),
        ("侍ジャパンが勝った。", "place", []),
        # Noise: upper-case words that are products, numbers, agency tags.
        ("新しいLGAソケットに対応した。", "org", []),
        ("十人が集まった。", "place", []),
    ],
)
def test_kinds_and_names(text, kind, expected):
    assert names(kind, text) == expected


def test_a_place_that_is_a_persons_surname_is_the_person():
    found = extract_entities("香川真司が語る", "香川真司はドルトムントで活躍した。香川は言った。")
    assert found["person"] == ["香川真司"]
    assert "香川" not in found.get("place", [])


def test_names_are_kept_once_most_mentioned_first_and_capped():
    body = "大阪と京都と奈良。" + "奈良、" * 3 + "京都、" * 2
    assert names("place", "", body) == ["奈良", "京都", "大阪"]
    many = "、".join(
        ["東京", "大阪", "京都", "奈良", "神戸", "札幌", "仙台", "福岡", "広島", "名古屋"]
        + ["横浜", "千葉", "那覇"]
    )
    assert len(names("place", "", many + "を巡った。")) == MAX_PER_KIND


def test_latin_place_names_are_brands_not_places():
    assert names("place", "TOKYO MXとamazonで配信", "") == []


def test_nothing_named_gives_no_kinds():
    assert extract_entities("静かな朝", "きょうは何も起きなかった。") == {}


@pytest.fixture(scope="module", params=BACKENDS)
def entity_archive(request, tmp_path_factory):
    """The entity articles, imported once per module on each backend; tests only read."""
    home = tmp_path_factory.mktemp("entities")
    server = request.getfixturevalue("postgres_server") if request.param == "postgresql" else None
    url = server.create() if server else None
    archive = make_archive(home, url)
    summary = import_into(archive, write_jsonl(home / "entities.jsonl", ARTICLES))
    assert summary.ok and summary.added == len(ARTICLES), summary
    yield archive
    archive.close()
    if server:
        server.drop(url)


def stored_entities(archive) -> dict[str, dict]:
    with session_of(archive) as session:
        return {a.url: a.entities for a in session.scalars(select(Article))}


def test_entities_are_stored_at_import(entity_archive):
    stored = stored_entities(entity_archive)
    assert stored["https://news.example/1"]["person"] == ["岸田文雄"]
    assert stored["https://news.example/3"]["org"] == ["トヨタ自動車", "日本銀行"]
    assert stored["https://news.example/6"]["place"] == ["北海道", "札幌"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("person:岸田文雄", {1, 4}),
        ("person:ティム・クック", {5}),
        ("org:トヨタ自動車", {3}),
        ("place:大阪", {2, 4}),
        ("place:大阪 person:岸田文雄", {4}),
        ("工場 OR 懇談 -place:大阪", {3}),
        ("person:岸田", set()),  # names are matched whole
        ("ORG:ｎｈｋ", set()),
        ("首相 org:自民党", {1}),
    ],
)
def test_filters_in_the_query_language(entity_archive, query, expected):
    found = entity_archive.search(query, page_size=50)
    assert {int(hit.url.rsplit("/", 1)[1]) for hit in found.hits} == expected


def test_filters_as_parameters_and_folded(entity_archive):
    by_param = entity_archive.search("", place="大阪", sort="newest")
    assert {h.url for h in by_param.hits} == {"https://news.example/2", "https://news.example/4"}
    assert by_param.filters.to_json()["place"] == "大阪"
    # Width and case folded as the other facets are: ＮＨＫ is NHK.
    assert entity_archive.search("", org="グーグル").total == 1
    assert entity_archive.search("", person="ティム・クック").total == 1


def test_facets_count_each_article_once_per_name(entity_archive):
    page = entity_archive.browse(page_size=50)
    expected: dict[str, Counter] = {"person": Counter(), "org": Counter(), "place": Counter()}
    for found in stored_entities(entity_archive).values():
        for kind, listed in (found or {}).items():
            expected[kind].update(set(listed))
    for kind in ("person", "org", "place"):
        counted = {v.value: v.count for v in getattr(page.facets, kind)}
        assert counted == dict(expected[kind].most_common(len(counted))), kind
    # 大阪 is named five times in one article and once or more in two: two articles.
    assert {v.value: v.count for v in page.facets.place}["大阪"] == 2


def test_a_facet_is_counted_with_the_other_filters_but_its_own(entity_archive):
    page = entity_archive.search("", place="大阪", sort="newest")
    places = {v.value: (v.count, v.active) for v in page.facets.place}
    assert places["大阪"] == (2, True)
    assert "北海道" in places  # the place facet ignores its own filter
    people = {v.value: v.count for v in page.facets.person}
    assert people == {"岸田文雄": 1, "吉村洋文": 1}


def test_hits_and_the_json_api_carry_the_entities(entity_archive, open_client, monkeypatch):
    hit = entity_archive.search("person:岸田文雄 大阪").hits[0]
    assert hit.entities["person"] == ("岸田文雄",)
    assert "大阪" in hit.entities["place"]
    monkeypatch.setenv("ARCHIVE_HOME", str(entity_archive.settings.home))
    if entity_archive.settings.database_url.startswith("postgresql"):
        monkeypatch.setenv("ARCHIVE_DATABASE_URL", entity_archive.settings.database_url)
    else:
        monkeypatch.delenv("ARCHIVE_DATABASE_URL", raising=False)
    client = open_client()
    data = client.get("/api/search", query_string={"q": "工場", "org": "トヨタ自動車"}).get_json()
    assert data["total"] == 1 and data["filters"]["org"] == "トヨタ自動車"
    assert data["hits"][0]["entities"]["person"] == ["豊田章男"]
    assert {"value": "トヨタ自動車", "count": 1} in data["facets"]["org"]
    assert set(data["facets"]) >= {"person", "org", "place"}
    page = client.get("/", query_string={"q": "首相"}).get_data(as_text=True)
    assert 'data-facet="person"' in page and "岸田文雄" in page


def test_a_changed_text_or_title_gets_its_entities_again(archive, tmp_path):
    feed = tmp_path / "one.jsonl"
    record = dict(ARTICLES[5])
    import_into(archive, write_jsonl(feed, [record]))
    assert archive.search("", place="北海道").total == 1
    record["body"] = "沖縄県那覇市では季節外れの暑さとなった。"
    summary = import_into(archive, write_jsonl(feed, [record]))
    assert summary.updated == 1
    assert archive.search("", place="北海道").total == 1  # still in the title
    assert archive.search("", place="那覇").total == 1
    article_id = archive.search("", place="那覇").hits[0].id
    archive.edit(article_id, "test", title="沖縄で季節外れの暑さ", category=None, tags=[])
    assert archive.search("", place="北海道").total == 0
    assert archive.search("", place="沖縄").total == 1


def test_upgrading_from_0004_extracts_the_entities_of_every_article(databases, tmp_path):
    url = databases.new()
    migrate(url, "0004")
    engine = create_engine(url)
    rows = [
        {k: v.replace(tzinfo=UTC) if hasattr(v, "tzinfo") else v for k, v in row.items()}
        for row in OLD_ROWS
    ]
    with engine.begin() as connection:
        connection.execute(insert(old_articles_table(MetaData(), DateTime(timezone=True))), rows)
    engine.dispose()
    migrate(url, "0005")
    assert revision_of(url) == "0005"
    with make_archive(tmp_path / "home", url) as archive:
        stored = stored_entities(archive)
        assert stored["https://kansai.example/news/1"] == {}
        with session_of(archive) as session:
            kyoto = session.get(Article, 7)
            assert kyoto.entities == {"place": ["京都"]}
        archive.reindex()
        assert [hit.id for hit in archive.search("place:京都").hits] == [7]


def test_the_command_line_filters_by_entity(entity_archive):
    env = {"ARCHIVE_HOME": str(entity_archive.settings.home)}
    if entity_archive.settings.database_url.startswith("postgresql"):
        env["ARCHIVE_DATABASE_URL"] = entity_archive.settings.database_url
    result = CliRunner().invoke(
        cli, ["search", "首相", "--person", "岸田文雄", "--place", "大阪", "--json"], env=env
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [hit["title"] for hit in data["hits"]] == ["首相、大阪で中小企業の経営者と懇談"]
    assert data["filters"]["person"] == "岸田文雄"


def test_a_backup_made_before_entities_restores_with_them(tmp_path):
    old = tmp_path / "old.db"
    url = f"sqlite:///{old}"
    migrate(url, "0004")
    engine = create_engine(url)
    rows = [
        {k: v.replace(tzinfo=UTC) if hasattr(v, "tzinfo") else v for k, v in row.items()}
        for row in OLD_ROWS
    ]
    with engine.begin() as connection:
        connection.execute(insert(old_articles_table(MetaData(), DateTime(timezone=True))), rows)
    engine.dispose()
    with make_archive(tmp_path / "home") as archive:
        assert archive.restore(old) == 2
        assert [hit.id for hit in archive.search("place:京都").hits] == [7]


def test_a_saved_search_keeps_its_entity_filters(archive):
    user = archive.add_user("記者", "a long enough password")
    kept = archive.save_search(user.id, "首相の大阪訪問", {"person": "岸田文雄", "place": "大阪"})
    assert dict(kept.params) == {"person": "岸田文雄", "place": "大阪"}
