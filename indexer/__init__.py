"""The archive's data side: articles in a database, a Sudachi-tokenized Whoosh index, search."""
