"""A news page saved as plain text.

The shape this reads::

    (CLO) 中国の新興企業 X は、…を与えています。   ← agency tag, then the lead
    …body paragraphs…
    米中間のAI戦争は…。(イメージ画像:AI)         ← photo caption
    X社の創業者、某氏。写真:Weibo                ← photo caption
    カオフォン(SCMP、ロイター、NYT による)        ← credit and its sources
    [広告2]                                     ← ad marker, dropped
    出典: https://www.congluan.vn/…             ← source URL
    コメント (0)                                 ← page debris, dropped

The title is the lead's first sentence.  No date is read, so none is invented.
"""

from __future__ import annotations

import re

from indexer.errors import ReadError
from indexer.readers.drafts import ArticleDraft, shortened_title, site_of

FORMAT = "text"

_AGENCY = re.compile(r"^[(（]\s*([A-Za-zＡ-Ｚａ-ｚ]{2,12})\s*[)）]\s*")
_AD_MARKER = re.compile(r"[\[［]\s*広告\s*(?:[0-9０-９]+\s*)?[\]］]")
_COMMENTS = re.compile(r"^コメント\s*[(（]\s*[0-9０-９]+\s*[)）]$")
_SOURCE = re.compile(r"^(?:出典|ソース|引用元)\s*[:：]\s*(https?://\S+)$")
_IMAGE_CAPTION = re.compile(r"[(（]\s*(?:イメージ)?(?:画像|写真)\s*[:：][^()（）]*[)）]$")
_PHOTO_CREDIT = re.compile(r"写真\s*[:：]")
# No pattern here lets two \s* (or a lazy run and a \s*) meet over the same spaces:
# a line of hostile text could then cost time in the square of its length.
_CREDIT = re.compile(
    r"^(?P<name>[^()（）:：。、]{1,40}?)\s*[(（](?P<sources>[^()（）]+)による\s*[)）]$"
)
_SOURCE_SEPARATOR = re.compile(r"[、,，/／・]")
_SENTENCE = re.compile(r"^(.+?[。！？!?])")


def first_sentence(text: str) -> str:
    """The first sentence of ``text`` without its closing 。 (the whole text if it has none)."""
    match = _SENTENCE.match(text)
    sentence = match.group(1) if match else text
    return shortened_title(sentence.rstrip("。").strip())


def is_caption(line: str) -> bool:
    return bool(_IMAGE_CAPTION.search(line) or _PHOTO_CREDIT.search(line))


def read_text(text: str, path: str) -> ArticleDraft:
    paragraphs: list[str] = []
    captions: list[str] = []
    url = agency = credit = None
    sources: tuple[str, ...] = ()
    for raw in text.splitlines():
        line = _AD_MARKER.sub("", raw).strip()
        if not line or _COMMENTS.match(line):
            continue
        if match := _SOURCE.match(line):
            url = match.group(1)
            continue
        if match := _CREDIT.match(line):
            credit = match.group("name").strip()
            parts = _SOURCE_SEPARATOR.split(match.group("sources"))
            sources = tuple(s.strip() for s in parts if s.strip())
            continue
        if not paragraphs and (match := _AGENCY.match(line)):
            agency = match.group(1).upper()
            line = line[match.end() :]
            if not line:
                continue
        if is_caption(line):
            captions.append(line)
            continue
        paragraphs.append(line)
    if not paragraphs:
        raise ReadError(
            path, "記事の本文がありません（写真説明、クレジット、ページの残骸だけです）"
        )
    return ArticleDraft(
        title=first_sentence(paragraphs[0]),
        body="\n".join(paragraphs),
        url=url,
        site=site_of(url),
        agency=agency,
        author=credit,
        credit_sources=sources,
        captions=tuple(captions),
        source_path=path,
        source_format=FORMAT,
    )
