"""Old and variant kanji that neither Sudachi's normalized form nor NFKC folds.

Names in Japanese news are written with whichever form the person registered
(髙橋, 山﨑, 渡邊, 齋藤), while readers search with the everyday form (高橋, 山崎,
渡辺, 斎藤).  Every entry maps one character to one character, so folding never
moves a character offset: the folded text can go to Sudachi and the offsets it
reports still point into the original text.

To add a pair, put the variant on the left and the form people type on the
right, then run ``python -m indexer reindex`` (the table is part of the
analyzer, see ``ANALYZER_VERSION`` in :mod:`indexer.analysis.tokenizers`).
"""

from __future__ import annotations

KANJI_VARIANTS: dict[str, str] = {
    # Surnames and given names
    "髙": "高",
    "﨑": "崎",
    "嵜": "崎",
    "碕": "崎",
    "邊": "辺",
    "邉": "辺",
    "德": "徳",
    "濱": "浜",
    "濵": "浜",
    "齋": "斎",
    "齊": "斎",
    "澤": "沢",
    "櫻": "桜",
    "廣": "広",
    "嶋": "島",
    "嶌": "島",
    "峯": "峰",
    "冨": "富",
    "舘": "館",
    "渕": "淵",
    "曾": "曽",
    "槇": "槙",
    "𠮷": "吉",
    "桒": "桑",
    "瀨": "瀬",
    "眞": "真",
    "惠": "恵",
    "壽": "寿",
    "榮": "栄",
    "彌": "弥",
    "藏": "蔵",
    "禮": "礼",
    "靜": "静",
    "黑": "黒",
    "豐": "豊",
    "條": "条",
    "晉": "晋",
    "恆": "恒",
    "緖": "緒",
    "澁": "渋",
    "實": "実",
    "萬": "万",
    "圓": "円",
    # Old forms (旧字体) still seen in proper nouns and older texts
    "國": "国",
    "學": "学",
    "會": "会",
    "與": "与",
    "變": "変",
    "團": "団",
    "傳": "伝",
    "驛": "駅",
    "廳": "庁",
    "氣": "気",
    "戰": "戦",
    "鐵": "鉄",
    "辯": "弁",
    "辨": "弁",
    "瓣": "弁",
    "發": "発",
    "聲": "声",
    "賣": "売",
    "讀": "読",
    "佛": "仏",
    "對": "対",
    "將": "将",
    "縣": "県",
    "區": "区",
    "龍": "竜",
    "嶽": "岳",
    "鷗": "鴎",
    "晝": "昼",
    "濟": "済",
    "價": "価",
    "證": "証",
    "體": "体",
    "臺": "台",
    "黨": "党",
    "當": "当",
    "礦": "鉱",
    "醫": "医",
    "藝": "芸",
    "觀": "観",
    "讓": "譲",
    "兒": "児",
    "圖": "図",
    "壓": "圧",
    "擧": "挙",
    "檢": "検",
    "歐": "欧",
    "歸": "帰",
    "總": "総",
    "聯": "連",
    "舊": "旧",
    "號": "号",
    "鑛": "鉱",
    "關": "関",
    "齒": "歯",
    "亞": "亜",
    "惡": "悪",
}

_TABLE = str.maketrans(KANJI_VARIANTS)


def fold_variants(text: str) -> str:
    """Replace old and variant kanji with the everyday form, keeping every offset."""
    return text.translate(_TABLE)


# Small kana written large: ウィンドウ and ウインドウ, ファイル and フアイル are one
# loanword spelled two ways (katakana only; hiragana endings are grammar).
SMALL_KANA = str.maketrans("ァィゥェォッャュョヮヵヶ", "アイウエオツヤユヨワカケ")
