"""Index generations: rebuilt aside and swapped in, stale ones refused."""

from __future__ import annotations

import json

import pytest

from indexer.errors import ArchiveError, IndexMissing, IndexOutdated
from indexer.index import CURRENT_FILE, META_FILE
from indexer.store import iter_articles

from .conftest import SAMPLE, SAMPLE_ARTICLES, import_into, make_archive


def generations(archive):
    return sorted(p.name for p in archive.index.root.glob("gen-*"))


def test_search_without_an_index_says_how_to_build_one(archive):
    with pytest.raises(IndexMissing, match="記事を取り込む"):
        archive.search("空港")


def test_reindex_swaps_in_a_new_generation_and_keeps_one_previous(archive):
    import_into(archive, SAMPLE)
    first = archive.index.current_path()
    archive.reindex()
    second = archive.index.current_path()
    archive.reindex()
    third = archive.index.current_path()
    assert len({first, second, third}) == 3
    assert generations(archive) == sorted([second.name, third.name])
    assert (archive.index.root / CURRENT_FILE).read_text().strip() == third.name


def test_an_open_search_service_sees_the_rebuilt_index(archive):
    import_into(archive, SAMPLE)
    assert archive.search("京都").total == 2
    archive.reindex()
    archive.reindex()  # the generation the first search opened is deleted now
    assert archive.search("京都").total == 2


def test_index_records_how_it_was_built(archive):
    import_into(archive, SAMPLE)
    meta = json.loads((archive.index.current_path() / META_FILE).read_text())
    assert set(meta) >= {"schema", "analyzer", "sudachipy", "dictionary"}
    assert meta["dictionary"].startswith("sudachidict_core ")


def test_a_stale_index_is_refused_until_rebuilt(archive):
    import_into(archive, SAMPLE)
    meta_path = archive.index.current_path() / META_FILE
    meta = json.loads(meta_path.read_text())
    meta["dictionary"] = "sudachidict_core 20200101"
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(IndexOutdated, match="reindex"):
        archive.search("空港")
    archive.reindex()
    assert archive.search("空港").total == 1


def test_a_failed_rebuild_keeps_the_old_index_in_use(archive):
    import_into(archive, SAMPLE)
    before = archive.index.current_path()
    with (
        archive.session() as session,
        pytest.raises(ArchiveError, match="元の索引を使い続けます"),
    ):
        archive.index.rebuild(iter_articles(session), expected=999)
    assert archive.index.current_path() == before
    assert generations(archive) == [before.name]
    assert archive.search("空港").total == 1


def test_an_import_into_a_stale_index_rebuilds_it_with_everything(archive, tmp_path):
    from .conftest import write_jsonl

    import_into(archive, SAMPLE)
    meta_path = archive.index.current_path() / META_FILE
    meta = json.loads(meta_path.read_text())
    meta["analyzer"] = "0"
    meta_path.write_text(json.dumps(meta))
    extra = write_jsonl(
        tmp_path / "extra.jsonl", [{"title": "新着記事", "body": "灯台の改修が終わった。"}]
    )
    assert import_into(archive, extra).added == 1
    assert archive.search("灯台").total == 1
    assert archive.search("関西国際空港").total == 1
    assert archive.index.info().documents == SAMPLE_ARTICLES + 1


def test_a_later_import_indexes_incrementally_in_the_same_generation(archive, tmp_path):
    from .conftest import write_jsonl

    import_into(archive, SAMPLE)
    generation = archive.index.current_path()
    extra = write_jsonl(
        tmp_path / "extra.jsonl", [{"title": "新着記事", "body": "灯台の改修が終わった。"}]
    )
    import_into(archive, extra)
    assert archive.index.current_path() == generation
    assert archive.search("灯台").total == 1


def test_segments_are_written_as_whoosh_writes_them(tmp_path):
    """The posting lists of indexer.segments.Codec are byte for byte Whoosh's own."""
    from whoosh import index as whoosh_index
    from whoosh.codec.whoosh3 import W3Codec

    from indexer.index import article_document, make_schema
    from indexer.segments import Codec

    archive = make_archive(tmp_path / "home")
    import_into(archive, SAMPLE)
    with archive.session() as session:
        documents = [article_document(a) for a in iter_articles(session)] * 40
    written = {}
    for name, codec in (("whoosh", W3Codec()), ("ours", Codec(small_block=0))):
        folder = tmp_path / name
        folder.mkdir()
        ix = whoosh_index.create_in(str(folder), make_schema())
        with ix.writer(codec=codec, compound=False) as writer:
            for document in documents:
                writer.add_document(**document)
        written[name] = {
            f.suffix: f.read_bytes() for f in folder.iterdir() if f.suffix in (".trm", ".pst")
        }
    assert set(written["ours"]) == {".trm", ".pst"}
    assert written["ours"] == written["whoosh"]
