"""Index generations: rebuilt aside and swapped in, stale ones refused."""

from __future__ import annotations

import json

import pytest

from indexer.engine import CURRENT_FILE, META_FILE
from indexer.errors import ArchiveError, IndexMissing, IndexOutdated
from indexer.store.articles import iter_articles

from .conftest import SAMPLE, SAMPLE_ARTICLES, import_into, index_store, make_archive, session_of


def generations(archive):
    return sorted(p.name for p in archive.settings.index_root.glob("gen-*"))


def test_search_without_an_index_says_how_to_build_one(archive):
    with pytest.raises(IndexMissing, match="記事を取り込む"):
        archive.search("空港")


def test_reindex_swaps_in_a_new_generation_and_keeps_one_previous(archive):
    import_into(archive, SAMPLE)
    first = index_store(archive).current_path()
    archive.reindex()
    second = index_store(archive).current_path()
    archive.reindex()
    third = index_store(archive).current_path()
    assert len({first, second, third}) == 3
    assert generations(archive) == sorted([second.name, third.name])
    assert (archive.settings.index_root / CURRENT_FILE).read_text().strip() == third.name


def test_an_open_search_service_sees_the_rebuilt_index(archive):
    import_into(archive, SAMPLE)
    assert archive.search("京都").total == 1
    archive.reindex()
    archive.reindex()  # the generation the first search opened is deleted now
    assert archive.search("京都").total == 1


def test_index_records_how_it_was_built(archive):
    import_into(archive, SAMPLE)
    meta = json.loads((index_store(archive).current_path() / META_FILE).read_text())
    assert set(meta) >= {"schema", "analyzer", "sudachipy", "dictionary"}
    assert meta["dictionary"].startswith("sudachidict_core ")


def test_a_stale_index_is_refused_until_rebuilt(archive):
    import_into(archive, SAMPLE)
    meta_path = index_store(archive).current_path() / META_FILE
    meta = json.loads(meta_path.read_text())
    meta["dictionary"] = "sudachidict_core 20200101"
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(IndexOutdated, match="reindex"):
        archive.search("空港")
    archive.reindex()
    assert archive.search("空港").total == 1


def test_a_failed_rebuild_keeps_the_old_index_in_use(archive):
    import_into(archive, SAMPLE)
    before = index_store(archive).current_path()
    with (
        session_of(archive) as session,
        pytest.raises(ArchiveError, match="元の索引を使い続けます"),
    ):
        index_store(archive).rebuild(iter_articles(session), expected=999)
    assert index_store(archive).current_path() == before
    assert generations(archive) == [before.name]
    assert archive.search("空港").total == 1


def test_an_import_into_a_stale_index_rebuilds_it_with_everything(archive, tmp_path):
    from .conftest import write_jsonl

    import_into(archive, SAMPLE)
    meta_path = index_store(archive).current_path() / META_FILE
    meta = json.loads(meta_path.read_text())
    meta["analyzer"] = "0"
    meta_path.write_text(json.dumps(meta))
    extra = write_jsonl(
        tmp_path / "extra.jsonl", [{"title": "新着記事", "body": "灯台の改修が終わった。"}]
    )
    assert import_into(archive, extra).added == 1
    assert archive.search("灯台").total == 1
    assert archive.search("関西国際空港").total == 1
    assert archive.index_info().documents == SAMPLE_ARTICLES + 1


def test_a_later_import_indexes_incrementally_in_the_same_generation(archive, tmp_path):
    from .conftest import write_jsonl

    import_into(archive, SAMPLE)
    generation = index_store(archive).current_path()
    extra = write_jsonl(
        tmp_path / "extra.jsonl", [{"title": "新着記事", "body": "灯台の改修が終わった。"}]
    )
    import_into(archive, extra)
    assert index_store(archive).current_path() == generation
    assert archive.search("灯台").total == 1


def test_segments_are_written_as_whoosh_writes_them(tmp_path):
    """The posting lists of indexer.engine.segments.Codec are byte for byte Whoosh's own."""
    from whoosh import index as whoosh_index
    from whoosh.codec.whoosh3 import W3Codec

    from indexer.engine import article_document, make_schema
    from indexer.engine.segments import Codec

    archive = make_archive(tmp_path / "home")
    import_into(archive, SAMPLE)
    with session_of(archive) as session:
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


def _write_toc_with_class_paths(generation, moved: dict[type, str]) -> None:
    """Write the generation's table of contents again, its pickled classes under other paths.

    As a release that kept those classes elsewhere wrote it: Whoosh pickles the
    schema (analyzers included) and each segment's codec by import path.
    """
    import sys
    import types

    from whoosh.filedb.filestore import FileStorage
    from whoosh.index import TOC

    storage = FileStorage(str(generation))
    toc = TOC.read(storage, "MAIN")
    storage.delete_file(TOC._filename("MAIN", toc.generation))
    kept = {cls: cls.__module__ for cls in moved}
    try:
        for cls, module in moved.items():
            sys.modules.setdefault(module, types.ModuleType(module))
            setattr(sys.modules[module], cls.__name__, cls)
            cls.__module__ = module
        toc.write(storage, "MAIN")
    finally:
        for cls, module in kept.items():
            cls.__module__ = module
        for module in set(moved.values()):
            del sys.modules[module]


def test_an_index_whose_classes_were_pickled_under_old_paths_asks_for_a_reindex(tmp_path):
    """The import paths Whoosh pickles are part of the index format (SCHEMA_VERSION 5).

    The previous release wrote the codec as ``indexer.segments.Codec`` and recorded
    schema 4: such an index asks for a reindex, and so does one with the old paths
    that claims the new schema (read by the command line in a process of its own).
    """
    import os
    import subprocess
    import sys

    from indexer.engine.segments import Codec

    from .conftest import ROOT

    home = tmp_path / "home"
    with make_archive(home) as archive:
        import_into(archive, SAMPLE)
        generation = index_store(archive).current_path()
    _write_toc_with_class_paths(generation, {Codec: "indexer.segments"})
    env = {**os.environ, "ARCHIVE_HOME": str(home)}
    env.pop("ARCHIVE_DATABASE_URL", None)
    command = [sys.executable, "-m", "indexer", "search", "空港"]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert "別の版" in result.stderr and "python -m indexer reindex" in result.stderr

    meta_path = generation / META_FILE
    meta_path.write_text(json.dumps({**json.loads(meta_path.read_text()), "schema": "4"}))
    with make_archive(home) as archive:
        with pytest.raises(IndexOutdated, match="python -m indexer reindex"):
            archive.search("空港")
        archive.reindex()
        assert archive.search("関西国際空港").total >= 1
