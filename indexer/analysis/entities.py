"""The people, organisations and places an article names, read from Sudachi's parts of speech.

Sudachi's core dictionary tags proper nouns 名詞,固有名詞 with a third level:
人名 (姓, 名, or 一般 for foreign names), 地名 (一般, 国) or 一般.  It has no
組織 (organisation) tag: a company, a party or a ministry is 固有名詞,一般, like
a product, a team or an event.  So:

- a **person** is a surname standing with a given name (岸田 + 文雄 → 岸田文雄),
  a foreign name (ティム・クック, its parts joined at ・), or a surname or given
  name alone followed by a title or honorific (岸田首相, イチロー選手); a surname
  alone is dropped when the article also names the person in full;
- a **place** is a 地名 word, read in its A units so that an address counts
  its places (北海道札幌市 → 北海道, 札幌) and 大阪府, 大阪市 and 大阪 are one
  place, 大阪 (a stem of one character keeps its suffix: 港区); not one that
  is part of a brand's name (トランセンド・ジャパン, 広島バルト11) or the surname
  of a person named (香川 of 香川真司);
- an **organisation** is a word that says it is one: a 固有名詞,一般 ending
  with an organisation's word (自民党, 日本銀行, トヨタ自動車, 国土交通省), or
  followed by one (グーグル社, 翔泳社), or by の and a person or a post
  (ソフトバンクの孫正義社長), or a well-known acronym (NHK, NATO); a name written
  with 株式会社 (株式会社シグナルトーク); a proper noun or a word in katakana or
  Latin letters opening a sentence as a company does in the news (グリーは20日、).
  Proper nouns with no such sign (国連, ソフトバンク alone) are not guessed at.

Names of one character, numbers, the agency tags and credit lines readers
keep apart (CLO, 写真：…) are noise; each article keeps at most
``MAX_PER_KIND`` names of each kind, the most mentioned first.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

from sudachipy import SplitMode

from indexer.analysis.morphology import sentence_chunks, sudachi_tokenizer
from indexer.analysis.variants import fold_variants

PERSON, ORG, PLACE = "person", "org", "place"
ENTITY_KINDS = (PERSON, ORG, PLACE)
# Names kept per kind and article: a long feature can name hundreds of places.
MAX_PER_KIND = 10
# A name longer than this is a mis-joined run, not a name.
MAX_NAME_CHARS = 40

# What follows a person's name in news text: honorifics, posts, roles.
TITLES = frozenset(
    "氏 さん 君 様 殿 首相 大統領 総理 大臣 長官 知事 市長 町長 村長 区長 議員 議長 代表 "
    "総裁 幹事長 委員長 会長 社長 副社長 専務 常務 取締役 頭取 理事長 学長 教授 准教授 "
    "博士 監督 選手 投手 捕手 内野手 外野手 主将 コーチ 容疑者 被告 被告人 弁護士 記者 "
    "氏ら 夫妻 首席 国王 女王 王子 王女 皇太子 国務長官 外相 財務相 防衛相 官房長官 "
    "前首相 元首相 元総理 元大統領 前大統領 書記長 主席 党首 CEO 最高経営責任者".split()
)
# Words an organisation's name ends with, or that follow it (トヨタ自動車, グーグル社).
ORG_ENDINGS = (
    "党",
    "銀行",
    "大学",
    "協会",
    "連盟",
    "連合",
    "機構",
    "委員会",
    "省",
    "庁",
    "新聞",
    "新聞社",
    "放送",
    "自動車",
    "電機",
    "電力",
    "電工",
    "工業",
    "重工",
    "重工業",
    "製作所",
    "製薬",
    "化学",
    "商事",
    "物産",
    "証券",
    "航空",
    "鉄道",
    "電鉄",
    "通信",
    "財団",
    "学会",
    "組合",
    "グループ",
    "ホールディングス",
    "HD",
    "研究所",
    "裁判所",
    "警察",
    "県警",
    "府警",
    "球団",
    "株式会社",
    "社",
)
# Following words that make the proper noun before them an organisation, and are
# not part of its name (グーグル社 is グーグル).
ORG_FOLLOWERS = frozenset({"社", "グループ", "本社", "傘下"})
# Posts that say the proper noun before ``の`` is an organisation (ソフトバンクの社長).
ORG_POSTS = frozenset(
    "社長 会長 副社長 代表 幹事長 総裁 委員長 頭取 理事長 学長 監督 選手 広報 担当者 "
    "最高経営責任者 CEO 幹部 役員 首脳 関係者 広報担当者 創業者 社員 "
    "投手 捕手 内野手 外野手 主将 コーチ".split()
)
# Administrative suffixes a place name is written with (大阪府, 大阪市, 港区).
PLACE_SUFFIXES = frozenset("都 道 府 県 市 区 町 村 郡 州 省".split())
# Tags and credits readers take apart from the text, and that are never names
# when they appear in it (the agency tag, photo agencies, the wire services).
NOT_NAMES = frozenset(
    {
        "clo",
        "ロイター",
        "アフロ",
        "ゲッティ",
        "共同",
        "時事",
        "afp",
        "ap",
        "epa",
        "ゲッティイメージズ",
    }
)
# Japan is written 日本; ジャパン is a team's or a company's (侍ジャパン, 〜ジャパン株式会社).
NOT_PLACES = frozenset({"ジャパン"})
# Upper-case words are as often products and standards (LGA, MAX, UE) as bodies:
# only these well-known ones are taken for organisations.
KNOWN_ACRONYMS = frozenset(
    "NHK TBS NTT KDDI JR JAL ANA NASA NATO FIFA IOC JOC WHO IMF OECD UEFA NPB JFA "
    "EU UN FBI CIA WTO ASEAN OPEC JAXA".split()
)
# Digits, kanji numerals and signs only (十人 is tagged as a place name).
_NUMBERISH = re.compile(r"[\d\W_〇一二三四五六七八九十百千万億兆人]+")
# Given names ending in a numeral Sudachi reads apart (晋 + 三).
_NAME_NUMERALS = frozenset("一二三四五六七八九十")
_HIRAGANA = re.compile(r"[\u3041-\u309f]+")
_LATIN = re.compile(r"[A-Za-z\s.\-]+")
_JOINERS = frozenset("・＝=")


@dataclass(frozen=True, slots=True)
class _Word:
    surface: str
    pos: tuple[str, ...]
    start: int
    end: int
    units: tuple[tuple[str, tuple[str, ...]], ...]  # A units: surface, part of speech
    oov: bool  # not in the dictionary (an unknown name, as often as not)
    proper: str | None  # 人名, 地名 or 一般 for a proper noun, else None


# Parts of speech by id, and what each says of a proper noun: an article has
# hundreds of words and a dictionary a few thousand parts of speech.
_POS: dict[int, tuple[tuple[str, ...], str | None]] = {}


def _words(text: str) -> list[_Word]:
    tokenizer = sudachi_tokenizer()
    folded = fold_variants(text)  # one character for one: offsets hold
    words = []
    for offset, piece in sentence_chunks(folded):
        for m in tokenizer.tokenize(piece):
            known = _POS.get(m.part_of_speech_id())
            if known is None:
                pos = tuple(m.part_of_speech())
                proper = pos[2] if pos[:2] == ("名詞", "固有名詞") else None
                known = _POS[m.part_of_speech_id()] = (pos, proper)
            pos, proper = known
            start, end = offset + m.begin(), offset + m.end()
            units: tuple[tuple[str, tuple[str, ...]], ...] = ()
            if proper == "地名":
                units = tuple(
                    (a.surface(), tuple(a.part_of_speech())) for a in m.split(SplitMode.A)
                )
            words.append(
                _Word(
                    text[start:end], pos, start, end, units, proper is None and m.is_oov(), proper
                )
            )
    return words


def is_noise(name: str) -> bool:
    """Whether ``name`` cannot be a name: one character, digits and signs, a credit."""
    folded = unicodedata.normalize("NFKC", name).casefold().strip()
    return (
        len(folded) < 2
        or len(folded) > MAX_NAME_CHARS
        or bool(_NUMBERISH.fullmatch(folded))
        or folded in NOT_NAMES
    )


def _adjacent(a: _Word, b: _Word) -> bool:
    return a.end == b.start


def _title_after(words: list[_Word], i: int) -> bool:
    """Whether the word after ``i`` (touching it) is a title or an honorific."""
    if i + 1 >= len(words) or not _adjacent(words[i], words[i + 1]):
        return False
    following = words[i + 1].surface
    return following in TITLES or any(following.endswith(t) for t in ("首相", "大統領", "選手"))


def _people(words: list[_Word]) -> tuple[list[str], list[str]]:
    """Full names (and foreign names), and surnames or given names standing alone with a title."""
    full, alone = [], []
    i = 0
    while i < len(words):
        w = words[i]
        kind = w.pos[3] if w.proper == "人名" else None
        if w.proper == "地名" and i + 1 < len(words) and _adjacent(w, words[i + 1]):
            nxt = words[i + 1]
            if nxt.proper == "人名" and nxt.pos[3] == "名":
                kind = "姓"  # 清武弘嗣: a surname that is a place name too
        if kind == "姓":
            j = i + 1
            given = []
            while j < len(words) and _adjacent(words[j - 1], words[j]):
                nxt = words[j]
                if nxt.proper == "人名" and nxt.pos[3] == "名":
                    given.append(nxt)
                elif (
                    given
                    and len("".join(g.surface for g in given)) == 1
                    and nxt.surface in _NAME_NUMERALS
                ):
                    given.append(nxt)  # 安倍晋三: 晋 (名) and 三 (数詞)
                elif (
                    given
                    and _HIRAGANA.fullmatch(given[-1].surface)
                    and len(nxt.surface) == 1
                    and _HIRAGANA.fullmatch(nxt.surface)
                    and nxt.pos[0] == "名詞"
                ):
                    given.append(nxt)  # 神田はるひ: はる (名) and ひ (a noun)
                else:
                    break
                j += 1
            if given:
                full.append(w.surface + "".join(g.surface for g in given))
                i = j
                continue
            if _title_after(words, i):
                alone.append(w.surface)
        elif kind == "一般" or (
            i + 1 < len(words)
            and words[i + 1].surface in _JOINERS
            and _katakana(w.surface)
            and _name_follows(words, i, strict=True)
        ):
            # Foreign names: parts joined at ・ (ティム・クック, バラク・オバマ, and
            # リュック・ベッソン, whose first part the dictionary reads as a word).
            parts, j = [w.surface], i + 1
            while _name_follows(words, j - 1):
                parts.append(words[j + 1].surface)
                j += 2
            after = words[j] if j < len(words) and _adjacent(words[j - 1], words[j]) else None
            if after is not None and after.surface in _THING_SUFFIXES:
                pass  # ゴールデン・グローブ賞 is a prize
            elif len(parts) > 1:
                full.append("・".join(parts))
            elif _katakana(w.surface) and _title_after(words, i):
                alone.append(w.surface)  # オバマ大統領 (ルッツ alone is as often a jump)
            i = j
            continue
        elif kind == "名" and _title_after(words, i) and _katakana(w.surface):
            alone.append(w.surface)  # イチロー選手
        i += 1
    return full, alone


_KATAKANA = re.compile(r"[\u30a1-\u30fa\u30fc][\u30a1-\u30fc]+")


def _katakana(text: str) -> bool:
    return bool(_KATAKANA.fullmatch(text))


def _name_follows(words: list[_Word], i: int, strict: bool = False) -> bool:
    """Whether ``・`` and the next part of a foreign name follow ``i``.

    The part is a name, or (not ``strict``) a katakana word of three or more
    characters that is no adjective's stem: family names are often words too
    (ラッセル・クロウ, サンドラ・ブロック), but not リーマン・ショック or キング・オブ.
    """
    if i + 2 >= len(words) or words[i + 1].surface not in _JOINERS:
        return False
    joiner, part = words[i + 1], words[i + 2]
    if not (_adjacent(words[i], joiner) and _adjacent(joiner, part) and _katakana(part.surface)):
        return False
    if part.proper == "人名":
        return True
    return not strict and len(part.surface) >= 3 and part.pos[2] != "形状詞可能"


def _places(words: list[_Word]) -> list[str]:
    """Place names in A units, but not those that are part of a brand's name.

    In Latin letters (amazon, TOKYO MX), after a katakana word (トランセンド・ジャパン,
    コーヒージャパン) or before a number (バルト11, a cinema), a place name names a
    company, a shop or a product; in hiragana (くま) it is a word.
    """
    found = []
    for i, w in enumerate(words):
        if w.proper != "地名" or _in_a_brand(words, i) or _HIRAGANA.fullmatch(w.surface):
            continue
        if w.surface in NOT_PLACES:
            continue
        units = w.units or ((w.surface, w.pos),)
        for k, (surface, pos) in enumerate(units):
            if pos[:3] != ("名詞", "固有名詞", "地名"):
                continue
            suffix = units[k + 1][0] if k + 1 < len(units) else ""
            if len(surface) == 1 and suffix in PLACE_SUFFIXES:
                surface += suffix  # 港区, 津市
            if not _LATIN.fullmatch(surface):
                found.append(surface)
    return found


def _in_a_brand(words: list[_Word], i: int) -> bool:
    before = words[i - 1] if i > 0 and _adjacent(words[i - 1], words[i]) else None
    if before is not None and before.surface in _JOINERS and i > 1:
        before = words[i - 2] if _adjacent(words[i - 2], before) else None
    after = words[i + 1] if i + 1 < len(words) and _adjacent(words[i], words[i + 1]) else None
    return (before is not None and _katakana(before.surface)) or (
        after is not None and after.pos[1] == "数詞" and after.surface[:1].isascii()
    )


def _orgs(words: list[_Word]) -> list[str]:
    found = []
    for i, w in enumerate(words):
        if w.surface in _COMPANY:
            found += _company_names(words, i)
            continue
        if w.proper != "一般":
            if w.pos[1] == "普通名詞" and _announces(words, i) and _foreign(w.surface):
                found.append(w.surface)  # グリーは20日、…
            continue
        name = w.surface
        nxt = words[i + 1] if i + 1 < len(words) and _adjacent(w, words[i + 1]) else None
        if _announces(words, i):
            found.append(name)  # Googleは31日、…
        elif name.endswith(ORG_ENDINGS) and len(name) > 1 and name not in ORG_ENDINGS:
            found.append(name)
        elif nxt is not None and nxt.surface == "社" and not _foreign(name):
            found.append(name + "社")  # 翔泳社 (but グーグル社 is グーグル)
        elif nxt is not None and nxt.surface in ORG_FOLLOWERS:
            found.append(name)
        elif nxt is not None and nxt.surface in ORG_ENDINGS:
            found.append(name + nxt.surface)  # 民主 + 党
        elif unicodedata.normalize("NFKC", name) in KNOWN_ACRONYMS:
            found.append(name)
        elif nxt is not None and nxt.surface == "の" and i + 2 < len(words):
            after = words[i + 2]
            if after.surface in ORG_POSTS or (
                after.proper == "人名" and after.pos[3] == "姓" and _title_after_name(words, i + 2)
            ):
                found.append(name)
    return found


_COMPANY = frozenset({"株式会社", "有限会社", "合同会社"})
# What makes a name before it the name of a thing (ゴールデン・グローブ賞, 〜号).
_THING_SUFFIXES = frozenset("賞 号 店 館 社 法 線 病 症 杯 戦 展 祭 劇場".split())
_SENTENCE_START = frozenset("。！？!?」』）)\n")


def _foreign(text: str) -> bool:
    """Katakana or Latin letters: how a company's own name is written, most of the time."""
    return _katakana(text) or bool(re.fullmatch(r"[A-Za-z][A-Za-z0-9&.\-]*", text))


def _announces(words: list[_Word], i: int) -> bool:
    """Whether ``i`` opens a sentence as a company does in news: ``Xは15日、`` (then 発表した).

    A person (岸田首相は20日、) or a place is not read here, only proper nouns
    of no kind and words in katakana or Latin letters.
    """
    at_start = i == 0 or words[i - 1].surface[-1:] in _SENTENCE_START
    if not at_start or i + 3 >= len(words) or words[i + 1].surface != "は":
        return False
    j = i + 2
    while j < len(words) and (words[j].pos[1] == "数詞" or words[j].surface in ("年", "月")):
        j += 1
    return (
        j > i + 2
        and j + 1 < len(words)
        and words[j].surface == "日"
        and words[j + 1].surface in ("、", "，")
    )


def _company_names(words: list[_Word], i: int) -> list[str]:
    """The company named with 株式会社 before or after it (シグナルトーク, …ジャパン)."""
    names = []
    for step in (-1, 1):
        parts, j = [], i + step
        while 0 <= j < len(words) and len(parts) < 5:
            w = words[j]
            if w.pos[1] == "固有名詞" or (w.pos[0] == "名詞" and _foreign(w.surface)):
                parts.append(w.surface)
            elif w.pos[0] == "空白" and parts and 0 <= j + step < len(words):
                parts.append(" ")
            else:
                break
            j += step
        name = "".join(parts[::step]).strip()
        if name:
            names.append(name)
    return names


def _title_after_name(words: list[_Word], i: int) -> bool:
    """Whether the name starting at ``i`` (a surname, its given names) is followed by a post."""
    j = i
    while j + 1 < len(words) and _adjacent(words[j], words[j + 1]):
        if words[j + 1].proper == "人名":
            j += 1
            continue
        return words[j + 1].surface in ORG_POSTS or words[j + 1].surface in TITLES
    return False


def _ranked(names: list[str]) -> list[str]:
    """Names without noise, each once, the most mentioned first (then by first mention)."""
    counts = Counter(n for n in names if not is_noise(n))
    first = {n: k for k, n in reversed(list(enumerate(names)))}
    return sorted(counts, key=lambda n: (-counts[n], first[n]))[:MAX_PER_KIND]


def extract_entities(title: str, body: str) -> dict[str, list[str]]:
    """The people, organisations and places ``title`` and ``body`` name, by kind.

    Each kind lists at most ``MAX_PER_KIND`` names, each once, the most
    mentioned first; kinds with none are left out.
    """
    words = _words(title + "\n" + body)
    full, alone = _people(words)
    named = set(full)
    # A surname (or a foreign family name) alone is the person named in full elsewhere.
    people = full + [
        a for a in alone if not any(f.startswith(a) or f.endswith("・" + a) for f in named)
    ]
    found = {
        PERSON: _ranked(people),
        ORG: _ranked(_orgs(words)),
        # 香川 in an article about 香川真司 is him, not the prefecture.
        PLACE: _ranked([p for p in _places(words) if not any(f.startswith(p) for f in named)]),
    }
    return {kind: names for kind, names in found.items() if names}
