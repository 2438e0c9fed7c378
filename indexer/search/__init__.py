"""The search: a query typed in, a page of plain results out.

- :mod:`~indexer.search.query`: the query language, parsed into plain data;
- :mod:`~indexer.search.planning`: a parsed query planned into Whoosh query trees
  (words, synonyms, readings, substrings, bonuses), with
  :mod:`~indexer.search.synonyms` from Sudachi's dictionary;
- :mod:`~indexer.search.finding`: which articles the trees match, within the filters;
- :mod:`~indexer.search.ranking`: how the matches are ordered, every weight of it;
- :mod:`~indexer.search.facets`: what the matches hold by site, category, tag and month;
- :mod:`~indexer.search.highlight`, :mod:`~indexer.search.results`: the page's hits,
  their snippets and titles marked;
- :mod:`~indexer.search.suggestions`, :mod:`~indexer.search.related`: もしかして, and
  the articles like one article;
- :mod:`~indexer.search.service`: the steps put together, over the index's current snapshot.
"""
