"""The desk's pages over generated requests: a page (or a download) or a 400, never a 500.

The attention page searches each of its (up to five) queries and every
article once more: its bound is a search's bound for each of those.
"""

from __future__ import annotations

import time
from urllib.parse import urlencode

from hypothesis import given, settings
from hypothesis import strategies as st

from .test_properties import (  # noqa: F401
    EXAMPLES,
    SLOWEST_REQUEST_SECONDS,
    client,
    dates,
    junk,
    numbers,
    queries,
)

PATHS = ["/attention", "/attention.csv", "/kwic", "/kwic.tsv"]
desk_args = st.fixed_dictionaries(
    {"q": st.lists(queries, max_size=7)},
    optional={
        "unit": st.one_of(st.sampled_from(["day", "week", "month", "auto", ""]), junk),
        "per": st.one_of(st.just("1000"), junk),
        "sort": st.one_of(st.sampled_from(["article", "left", "right"]), junk),
        "page": numbers,
        "from": dates,
        "to": dates,
        "site": junk,
    },
)


@settings(max_examples=EXAMPLES, deadline=None)
@given(args=desk_args, path=st.sampled_from(PATHS))
def test_the_desk_answers_anything_with_a_page_and_never_a_server_error(client, args, path):  # noqa: F811
    searches = min(len(args["q"]), 5) + 1 if path.startswith("/attention") else 1
    started = time.perf_counter()
    response = client.get(f"{path}?{urlencode(args, doseq=True)}")
    elapsed = time.perf_counter() - started
    assert elapsed < SLOWEST_REQUEST_SECONDS * searches, f"{elapsed:.2f} s for {path} {args}"[:300]
    assert response.status_code in (200, 400), response.get_data(as_text=True)[:500]
