"""The query language, parsed into plain data (no Whoosh here).

    空港 東京            both words (AND)
    "国際 空港"  「国際空港」 the exact phrase (a 「」 standing apart; one inside a
                        sentence, 「天洋丸」が…, is just part of the text)
    京都 OR 奈良         either word
    -東京               without the word
    title:空港           the word in the title
    site:example.jp     only articles from that site (and its subdomains)
    category:経済 tag:AI only articles in that category / with that tag
    person:岸田文雄 org:自民党 place:大阪
                        only articles naming that person / organisation / place

A query is a list of clauses that must all hold; a clause is one or more
alternatives joined by OR.  Filters (site:, category:, tag:, person:, org:,
place:) narrow the results without taking part in ranking.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from indexer.errors import QueryError

FILTER_FIELDS = ("site", "category", "tag", "person", "org", "place")
# What each filter's empty value is told to look like.
_FILTER_EXAMPLES = {
    "site": "example.jp",
    "category": "経済",
    "tag": "AI",
    "person": "岸田文雄",
    "org": "自民党",
    "place": "大阪",
}
# What one query may ask for.  Searching, marking and "did you mean" cost grows
# with the words (Whoosh's matchers with the square of the clauses): a query
# of thousands of words, or megabytes of text in a URL, could hold a server
# for minutes.  Repeated words count once.
MAX_QUERY_CHARS = 1000
MAX_QUERY_WORDS = 32

_QUOTES = {'"': '"', "“": "”", "「": "」", "『": "』", "”": "”"}
_OR_WORDS = {"OR", "|", "｜"}
_SPACE = re.compile(r"[\s\u3000]+")
# A field name in any case or width (title:, TITLE:, ｔｉｔｌｅ：).
_FIELD = re.compile(r"^(?P<field>[A-Za-zＡ-Ｚａ-ｚ]+)[:：](?P<value>.*)$", re.DOTALL)
_MINUS = ("-", "－")


@dataclass(frozen=True)
class Word:
    """One thing to look for: a word, or a phrase if it was quoted."""

    text: str
    field: str | None = None
    phrase: bool = False


@dataclass(frozen=True)
class Clause:
    alternatives: tuple[Word, ...]
    negated: bool = False


@dataclass(frozen=True)
class Filter:
    field: str
    value: str
    negated: bool = False


@dataclass(frozen=True)
class ParsedQuery:
    clauses: tuple[Clause, ...]
    filters: tuple[Filter, ...] = ()

    def replace_words(self, replacements: Mapping[Word, Word | None]) -> ParsedQuery:
        """This query with some words replaced, or dropped where the replacement is ``None``.

        A clause whose every alternative is dropped goes too; filters stay.
        """
        clauses = []
        for clause in self.clauses:
            kept = tuple(
                new
                for word in clause.alternatives
                if (new := replacements.get(word, word)) is not None
            )
            if kept:
                clauses.append(Clause(kept, clause.negated))
        return ParsedQuery(tuple(clauses), self.filters)


@dataclass(frozen=True)
class _Piece:
    """A run of the query between spaces: ``prefix`` is what stands before a quote."""

    prefix: str
    text: str
    quoted: bool


def _glued_bracket(text: str, i: int, before: str) -> bool:
    """Whether the 「…」 or “…” at ``i`` is part of a sentence (「天洋丸」が…) rather than a phrase.

    Japanese text quotes names with 「」, and headlines with “”, all the time
    (“あげまん女”って何ですか？); only a quote standing apart, with spaces or
    the ends of the query around it, asks for a phrase.  A “” after ``-`` or
    ``title:`` is a phrase too: that is how a phrase holding " is written.
    """
    if text[i] not in "「『“":
        return False
    close = text.find(_QUOTES[text[i]], i + 1)
    after = text[close + 1 : close + 2] if close >= 0 else ""
    if text[i] == "“":
        prefix = before in _MINUS or before.endswith((":", "："))
        return (bool(before) and not prefix) or bool(after.strip())
    return bool(before) or bool(after.strip())


def _split(text: str) -> list[_Piece]:
    """Cut the query at spaces, keeping quoted phrases whole; an unclosed quote runs to the end."""
    pieces: list[_Piece] = []
    current = ""
    i = 0
    while i < len(text):
        char = text[i]
        if char in _QUOTES and _glued_bracket(text, i, current):
            # Text up to the closing quote, which must not open a phrase of its own (”).
            close = text.find(_QUOTES[char], i + 1)
            end = len(text) if close < 0 else close + 1
            current += text[i:end]
            i = end
        elif char in _QUOTES:
            close = text.find(_QUOTES[char], i + 1)
            end = len(text) if close < 0 else close
            pieces.append(_Piece(current, text[i + 1 : end].strip(), True))
            current = ""
            i = end + 1
        elif _SPACE.match(char):
            if current:
                pieces.append(_Piece("", current, False))
            current = ""
            i += 1
        else:
            current += char
            i += 1
    if current:
        pieces.append(_Piece("", current, False))
    return pieces


def _word(piece: _Piece) -> tuple[Word | Filter | None, bool]:
    """The word (or filter) a piece names, and whether it was negated."""
    head = piece.prefix if piece.quoted else piece.text
    negated = len(head) > 1 or piece.quoted
    negated = negated and head.startswith(_MINUS)
    if negated:
        head = head[1:]
    value = piece.text if piece.quoted else ""
    if match := _FIELD.match(head):
        field = unicodedata.normalize("NFKC", match.group("field")).lower()
        value = value or match.group("value")
        if field in FILTER_FIELDS:
            if not value:
                example = _FILTER_EXAMPLES[field]
                raise QueryError(f"{field}: の後に値を入れてください（例: {field}:{example}）")
            # A host is written in lower case; a category, tag or name as typed, and
            # folded where it is compared (search.finding), like the facets' values.
            return Filter(field, value.lower() if field == "site" else value, negated), negated
        if field == "title":
            if not value:
                raise QueryError("title: の後に検索語を入れてください（例: title:空港）")
            return Word(value, "title", phrase=piece.quoted), negated
    text = piece.text if piece.quoted else head
    if not text:
        return None, negated
    return Word(text, None, phrase=piece.quoted), negated


def parse_query(text: str) -> ParsedQuery:
    """Parse what the user typed; a :class:`QueryError` explains what cannot be searched."""
    if not text or not text.strip():
        raise QueryError("検索語を入力してください。")
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(
            f"検索語が長すぎます（{len(text):,}文字）。{MAX_QUERY_CHARS:,}文字までにしてください。"
        )
    clauses: list[Clause] = []
    filters: list[Filter] = []
    join_next = False
    for piece in _split(text.strip()):
        if not piece.quoted and piece.text in _OR_WORDS:
            join_next = bool(clauses)
            continue
        word, negated = _word(piece)
        if word is None:
            continue
        if isinstance(word, Filter):
            filters.append(word)
            join_next = False
            continue
        if join_next and not negated and not clauses[-1].negated:
            previous = clauses.pop()
            clauses.append(Clause(previous.alternatives + (word,)))
        else:
            clauses.append(Clause((word,), negated))
        join_next = False
    if not any(not c.negated for c in clauses) and not filters:
        if clauses:
            raise QueryError(
                "除外する語（-語）だけでは検索できません。探したい語も入れてください。"
            )
        raise QueryError("検索語を入力してください。")
    return _limited(_without_repeats(ParsedQuery(tuple(clauses), tuple(filters))))


def _without_repeats(query: ParsedQuery) -> ParsedQuery:
    """``query`` with each clause, alternative and filter once (空港 空港 asks for 空港)."""
    clauses = (Clause(tuple(dict.fromkeys(c.alternatives)), c.negated) for c in query.clauses)
    return ParsedQuery(tuple(dict.fromkeys(clauses)), tuple(dict.fromkeys(query.filters)))


def _limited(query: ParsedQuery) -> ParsedQuery:
    words = {word for clause in query.clauses for word in clause.alternatives}
    count = len(words) + len(query.filters)
    if count > MAX_QUERY_WORDS:
        raise QueryError(
            f"検索語が多すぎます（{count}語）。{MAX_QUERY_WORDS}語までにしてください。"
        )
    return query


def _quoted(text: str) -> str:
    # 「」 would read as part of the text after a prefix (-「…」, title:「…」): use “” instead.
    if '"' not in text:
        return f'"{text}"'
    return f"“{text.replace('”', '')}”"


def _format_word(word: Word) -> str:
    # A plain word came from a run without spaces or phrase quotes, so it reads back as typed.
    text = _quoted(word.text) if word.phrase else word.text
    return f"{word.field}:{text}" if word.field else text


def _format_filter(f: Filter) -> str:
    value = (
        f.value if not _SPACE.search(f.value) and f.value[:1] not in _QUOTES else _quoted(f.value)
    )
    return ("-" if f.negated else "") + f"{f.field}:{value}"


def format_query(query: ParsedQuery) -> str:
    """The query as it would be typed: ``parse_query(format_query(q)) == q``."""
    parts = [
        ("-" if clause.negated else "") + " OR ".join(map(_format_word, clause.alternatives))
        for clause in query.clauses
    ]
    parts.extend(map(_format_filter, query.filters))
    return " ".join(parts)
