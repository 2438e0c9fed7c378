"""Errors a user can act on, raised by the library and shown at the edges."""

from __future__ import annotations


class ArchiveError(Exception):
    """Base of every error the CLI and the web app report as a message."""


class ReadError(ArchiveError):
    """A file (or one record in it) could not be read as an article."""

    def __init__(self, path: str, reason: str, line: int | None = None) -> None:
        self.path = path
        self.reason = reason
        self.line = line
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {reason}")


class ArticleRejected(ArchiveError):
    """The database cannot keep this article as it is (a URL too long to index, say)."""


class QueryError(ArchiveError):
    """A search query that cannot be run as typed.

    ``parameter`` names the search's argument at fault when one is (``query``,
    ``page``, ``page_size``, ``sort``, ``date_from``, ``date_to``, ``site``, …).
    """

    def __init__(self, message: str, parameter: str | None = None) -> None:
        super().__init__(message)
        self.parameter = parameter


class SearchTooSlow(ArchiveError):
    """A search found nothing within its time budget: the query must be narrowed."""


class IndexMissing(ArchiveError):
    """There is no index yet."""


class IndexOutdated(ArchiveError):
    """The index was built by another analyzer or dictionary and must be rebuilt."""


class IndexDamaged(ArchiveError):
    """A file of the index is missing, cut short or unreadable: the index must be rebuilt."""


class ArticleNotFound(ArchiveError):
    """No article has the requested id."""


class DiskFull(ArchiveError):
    """The disk has no room for what an operation writes; nothing stored was lost."""


class WriteFailed(ArchiveError):
    """The disk failed under an operation (an I/O error, read-only, no permission)."""


class SchemaMismatch(ArchiveError):
    """The database's schema is not the one this program uses (too old, or too new)."""


class AccountError(ArchiveError):
    """A user or token that cannot be made, found or changed as asked."""


class TokenRejected(ArchiveError):
    """An API token that opens nothing: unknown, or revoked."""


class EditConflict(ArchiveError):
    """The article changed (or went) since the editor opened it: their change would undo another."""
