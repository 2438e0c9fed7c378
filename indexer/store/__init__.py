"""The store: the database of articles, the archive's source of truth (SQLAlchemy).

- :mod:`~indexer.store.models`: the tables (articles, their sketches, the change log);
- :mod:`~indexer.store.revisions`: the schema's revisions, kept by the Alembic
  migrations in ``migrations/``;
- :mod:`~indexer.store.articles`: storing, updating, reading and deleting articles;
- :mod:`~indexer.store.changes`: the change log search nodes follow;
- :mod:`~indexer.store.resemblance`: how alike two texts are (shingles, sketches),
  and the near-identical pairs of an archive;
- :mod:`~indexer.store.stories`: near-identical articles grouped into stories as they are stored;
- :mod:`~indexer.store.backup`, :mod:`~indexer.store.copying`,
  :mod:`~indexer.store.exporting`: an archive copied to a file, to another
  database, or out as JSON Lines.
"""
