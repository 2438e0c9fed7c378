"""Turning a file's bytes into text: UTF-8 first, then the legacy Japanese encodings."""

from __future__ import annotations

import charset_normalizer

from indexer.errors import ReadError

# The encodings Japanese archives really arrive in, in the order to try them.
_JAPANESE_ENCODINGS = ["utf_8", "cp932", "euc_jp", "iso2022_jp"]


def decode(data: bytes, path: str) -> str:
    """The text of ``data``; a :class:`ReadError` naming ``path`` when it is not text."""
    if not data.strip():
        raise ReadError(path, "empty file")
    if b"\x00" in data:
        raise ReadError(path, "binary file (contains NUL bytes), not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(data, cp_isolation=_JAPANESE_ENCODINGS).best()
    if best is None:
        raise ReadError(path, "cannot decode the text as UTF-8, Shift_JIS or EUC-JP")
    return str(best)
