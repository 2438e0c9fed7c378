"""Segment listings: common terms' postings kept flat beside Whoosh's blocks."""

from __future__ import annotations

from array import array

import numpy as np
import pytest
from click.testing import CliRunner
from whoosh import index as whoosh_index
from whoosh.filedb.filestore import FileStorage

from indexer.cli import cli
from indexer.engine import Snapshot, article_document, make_schema
from indexer.engine.postings import SegmentListing, open_listing, read_segment_postings
from indexer.engine.segments import LISTING_EXT, Codec, Listing
from indexer.store.articles import iter_articles

from .conftest import SAMPLE, import_into, index_store, make_archive, session_of

# Enough copies of the sample that its common words fill several blocks of 128.
COPIES = 40


@pytest.fixture
def whoosh_folder(tmp_path):
    """A Whoosh index of the sample's documents many times over, written with our codec."""
    archive = make_archive(tmp_path / "home")
    import_into(archive, SAMPLE)
    with session_of(archive) as session:
        documents = [article_document(a) for a in iter_articles(session)] * COPIES
    archive.close()
    folder = tmp_path / "index"
    folder.mkdir()
    ix = whoosh_index.create_in(str(folder), make_schema())
    with ix.writer(codec=Codec(listed=100), compound=False) as writer:
        for document in documents:
            writer.add_document(**document)
    return folder


@pytest.mark.parametrize(
    "weights, width",
    [([1.0, 3.0, 255.0], 1), ([1.0, 2.5, 3.0], 4), ([1.0, 256.0, 2.0], 4), ([0.0, -1.0, 1.0], 4)],
)
def test_weights_are_listed_in_one_byte_only_when_that_keeps_them(tmp_path, weights, width):
    storage = FileStorage(str(tmp_path))
    listing = Listing(storage.create_file("x.lst"), block_size=2)
    blocks = [
        (8, array("I", [3, 7]), array("f", weights[:2])),
        (99, array("I", [9]), array("f", weights[2:])),
    ]
    listing.add("body", b"word", blocks)
    listing.close()
    read = SegmentListing(tmp_path / "x.lst")
    [(_, _, count, _, length)] = read.entries()
    assert (count, length) == (3, (4 + width) * 3 + 8 * 2)
    postings = read.postings("body", b"word")
    assert postings.ids.tolist() == [3, 7, 9] and postings.weights.tolist() == weights
    assert postings.block_firsts.tolist() == [0, 2]
    assert postings.block_positions.tolist() == [8, 99]
    read.close()


def open_snapshot(folder) -> Snapshot:
    return Snapshot(whoosh_index.open_dir(str(folder)))


def test_listed_postings_are_those_the_blocks_hold(whoosh_folder):
    snapshot = open_snapshot(whoosh_folder)
    [(segreader, _, _)] = snapshot.segments()
    listing = open_listing(segreader)
    listed = [(field, btext) for field, btext, *_ in listing.entries()]
    # Terms in three articles of the sample or more (120 copies), common ones in many blocks.
    assert len(listed) > 100
    assert max(count for _, _, count, _, _ in listing.entries()) > 3 * 128
    for field, btext in listed:
        flat = read_segment_postings(segreader, field, btext, listing)
        blocks = read_segment_postings(segreader, field, btext, None)
        assert flat.ids.dtype == blocks.ids.dtype and flat.weights.dtype == blocks.weights.dtype
        for name in ("ids", "weights", "block_firsts", "block_positions"):
            assert np.array_equal(getattr(flat, name), getattr(blocks, name)), (field, btext, name)
    unlisted = next(
        key for key, _ in segreader._terms.items() if key not in set(listed) and key[0] == "body"
    )
    assert listing.postings(*unlisted) is None
    snapshot.close()


def test_positions_read_through_a_listing_are_whooshs(whoosh_folder):
    """The block offsets a listing gives lead to the postings' positions in every block."""
    with_listing = open_snapshot(whoosh_folder)
    term = max(
        (e for e in with_listing.listing(*with_listing.segments()[0][::2]).entries()),
        key=lambda e: e[2],
    )
    field, text = term[0], term[1].decode("utf-8")
    docs = with_listing.postings(field, text).ids.tolist()
    found = with_listing.positions(field, text, docs)
    with_listing.close()
    for path in whoosh_folder.glob(f"*{LISTING_EXT}"):
        path.unlink()
    without = open_snapshot(whoosh_folder)
    assert without.listing(*without.segments()[0][::2]) is None
    assert found == without.positions(field, text, docs)
    with whoosh_index.open_dir(str(whoosh_folder)).searcher() as searcher:
        matcher = searcher.postings(field, text)
        assert found == {d: list(p) for d, p in zip(docs, _positions(matcher), strict=True)}
    without.close()


def _positions(matcher):
    while matcher.is_active():
        yield matcher.value_as("positions")
        matcher.next()


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_a_listing_cut_short_is_damage_that_check_reports_and_reindex_repairs(
    home, database_url, monkeypatch, open_client
):
    monkeypatch.setattr("indexer.engine.segments.LISTED_POSTINGS", 2)
    with make_archive(home, database_url) as archive:
        import_into(archive, SAMPLE)
        assert archive.search("京都").total == 1
        listings = list(index_store(archive).current_path().glob(f"*{LISTING_EXT}"))
    assert listings and run("check").exit_code == 0
    for path in listings:
        with path.open("r+b") as f:
            f.truncate(path.stat().st_size // 3)
    result = run("check")
    assert result.exit_code == 1 and "reindex" in result.output
    client = open_client(ARCHIVE_HOME=str(home), ARCHIVE_DATABASE_URL=database_url)
    page = client.get("/api/search", query_string={"q": "京都"})
    assert page.status_code == 503
    assert run("reindex").exit_code == 0
    assert run("check").exit_code == 0
    with make_archive(home, database_url) as archive:
        assert archive.search("京都").total == 1


def test_positions_decoded_together_are_those_whoosh_decodes_one_by_one(whoosh_folder):
    from whoosh.formats import Characters, Positions

    snapshot = open_snapshot(whoosh_folder)
    [(segreader, _, segid)] = snapshot.segments()
    checked = 0
    for field, format_type in (("grams", Positions), ("body", Characters), ("title", Characters)):
        field_format = whoosh_index.open_dir(str(whoosh_folder)).schema[field].format
        assert type(field_format) is format_type
        for (name, btext), _ in list(segreader._terms.items())[::50]:
            if name != field:
                continue
            text = btext.decode("utf-8")
            docs = snapshot.postings(field, text).ids.tolist()
            expected = {
                d: field_format.decode_positions(v)
                for d, v in snapshot.values(field, text, docs).items()
            }
            assert snapshot.positions(field, text, docs) == expected
            checked += 1
    assert checked > 30
    snapshot.close()


def test_values_of_every_shape_decode_together_as_one_by_one():
    from whoosh.formats import Characters, Positions

    from indexer.engine.postings import decode_many

    lists = [[], [0], [5, 3], list(range(1, 3000)), [70_000, 2**40]]
    values = [Positions().encode(positions) for positions in lists]
    values[1] = values[1][:-1]  # stored without its stop, as Whoosh allows
    characters = Characters().encode([(1, 4, 6), (9, 20, 22), (300, 5000, 5003)])
    for batch in (values, [characters, *values]):
        expected = [loads_one(v) for v in batch]
        assert decode_many(batch) == expected
    assert decode_many([b"\x00\x00\x00\x01" + b"(]q\x00K\x05a."]) == [[5]]  # no protocol header


def loads_one(value: bytes):
    import pickle

    body = value[4:]
    return pickle.loads(body if body.endswith(b".") else body + b".")
