"""Alembic migrations of the archive's database (run through :mod:`indexer.store.revisions`)."""
