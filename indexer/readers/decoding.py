"""Turning a file's bytes into text: UTF-8 first, then the legacy Japanese encodings."""

from __future__ import annotations

import codecs
import re

import charset_normalizer

from indexer.errors import ReadError
from indexer.readers.drafts import lone_surrogate

# The encodings Japanese archives really arrive in, in the order to try them.
_JAPANESE_ENCODINGS = ["utf_8", "cp932", "euc_jp", "iso2022_jp"]


def decode(data: bytes, path: str) -> str:
    """The text of ``data``; a :class:`ReadError` naming ``path`` when it is not text."""
    if not data.strip():
        raise ReadError(path, "空のファイルです")
    if b"\x00" in data:
        raise ReadError(path, "テキストではありません（NULバイトを含むバイナリファイル）")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(data, cp_isolation=_JAPANESE_ENCODINGS).best()
    if best is None:
        raise ReadError(path, "UTF-8、Shift_JIS、EUC-JP のいずれとしても読めません")
    return str(best)


# A declaration is looked for in the page's first bytes, as browsers do (more
# generously: saved pages often carry long <head>s of scripts before it).
_SNIFF_BYTES = 8192
_XML_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._:-]+)", re.I)
# (?:["']\s*)? rather than ["']?\s*: two \s* in a row would split a run of spaces every way.
_META_CHARSET = re.compile(rb"<meta\b[^>]*?charset\s*=\s*(?:[\"']\s*)?([A-Za-z0-9._:-]+)", re.I)
_BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)

# What Japanese pages declare, and the codecs that really read them: pages
# labelled Shift_JIS are written in Windows' superset of it (①, 髙, ㈱), as
# browsers assume; the JIS X 0213 variants are the fallback.
_UTF8 = ("utf-8",)
_SHIFT_JIS = ("cp932", "shift_jis_2004")
_EUC_JP = ("euc_jp", "euc_jis_2004")
_ISO2022_JP = ("iso2022_jp", "iso2022_jp_2004", "iso2022_jp_ext")
_CHARSET_CODECS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("utf-8", "utf8", "unicode-1-1-utf-8"), _UTF8),
    # A page whose declaration could be read as ASCII is not UTF-16 (as browsers rule).
    **dict.fromkeys(("utf-16", "utf-16le", "utf-16be"), _UTF8),
    **dict.fromkeys(
        (
            "shift_jis",
            "shift-jis",
            "sjis",
            "x-sjis",
            "ms_kanji",
            "csshiftjis",
            "windows-31j",
            "cp932",
            "ms932",
        ),
        _SHIFT_JIS,
    ),
    **dict.fromkeys(("euc-jp", "euc_jp", "eucjp", "x-euc-jp", "cseucpkdfmtjapanese"), _EUC_JP),
    **dict.fromkeys(("iso-2022-jp", "iso2022jp", "csiso2022jp"), _ISO2022_JP),
}


def declared_charset(data: bytes) -> str | None:
    """The charset the page's XML declaration or ``<meta>`` names, lower case."""
    head = data[:_SNIFF_BYTES]
    match = _XML_DECLARATION.match(head) or _META_CHARSET.search(head)
    return match.group(1).decode("ascii").lower() if match else None


def _codecs_for(charset: str) -> tuple[str, ...]:
    if charset in _CHARSET_CODECS:
        return _CHARSET_CODECS[charset]
    try:
        return (codecs.lookup(charset).name,)
    except LookupError:
        return ()


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def decode_declared(data: bytes, path: str) -> str:
    """The text of a saved web page: in its declared charset if that reads it, else as any file.

    Bytes that are valid UTF-8 (and not plain ASCII) are UTF-8 whatever the page
    declares: a page re-saved as UTF-8 often keeps its old "Shift_JIS"
    declaration, while Shift_JIS or EUC-JP text is practically never valid
    UTF-8.  Plain ASCII bytes go by the declaration: ISO-2022-JP is written in them.
    """
    charset = declared_charset(data)
    if (
        charset is None
        or data.startswith(_BOMS)
        or b"\x00" in data
        or not data.strip()
        or (not data.isascii() and _is_utf8(data))
    ):
        return decode(data, path)
    for codec in _codecs_for(charset):
        try:
            text = data.decode(codec)
        except (UnicodeDecodeError, LookupError):  # LookupError: rot13, base64 are not for text
            continue
        # UTF-7 and unicode_escape can make half a surrogate pair, which no text may hold.
        if not lone_surrogate(text):
            return text
    return decode(data, path)
