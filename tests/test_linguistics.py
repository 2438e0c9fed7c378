"""What a Japanese reader means: one table of queries, what they must find, miss and rank first.

Every row runs the real search service over one small archive written for
these cases; the groups follow the search-quality issue: substrings across a
compound's split with precision kept, variants folded on both sides, old and
variant kanji, synonyms, and ranking.
"""

from __future__ import annotations

import pytest

from .conftest import import_into, make_archive, write_jsonl

DOCUMENTS = {
    "kyoto": ("京都の寺で紅葉", "京都の寺院で紅葉が見頃を迎え、観光客でにぎわった。"),
    "tocho": ("展望室が改装", "東京都庁の展望室が改装され、夜景を楽しむ人が増えた。"),
    "carrot": ("畑で収穫が最盛期", "北海道の畑で人参の収穫が最盛期を迎えた。"),
    "suffrage": ("市議会で議論", "市議会で外国人参政権をめぐる議論が続いた。"),
    "kix": ("新ターミナルが完成", "関西国際空港に新しいターミナルが完成した。"),
    "scattered": ("会議のあと移動", "国際会議が終わり、参加者は空港へ向かった。"),
    "server_short": ("通販で障害", "サーバの障害で通販サイトが止まった。"),
    "server_long": ("冷却施設が完成", "大型のサーバーを外気で冷やす施設ができた。"),
    "ai_wide": ("市役所の案内係", "市役所にＡＩの案内係が登場した。"),
    "deepseek": ("新モデルを公開", "DeepSeekが新しいモデルを公開した。"),
    "computer": ("修理工房", "古いコンピュータを修理する工房が人気だ。"),
    "window": ("職人の仕事", "ウィンドウを磨く職人に話を聞いた。"),
    "halfkana": ("販売が好調", "ｽﾏｰﾄﾌｫﾝの販売が伸びている。"),
    "okurigana": ("記念式典", "創立百年の式典を行なった。"),
    "inflection": ("マラソン大会", "市民ランナーが沿道の声援を受けて走った。"),
    "takahashi": ("初優勝", "髙橋選手が初優勝を飾った。"),
    "yamazaki": ("記者会見", "山﨑監督が記者会見を開いた。"),
    "watanabe": ("文学賞", "渡邊さんが文学賞を受賞した。"),
    "tokugawa": ("資料を公開", "德川家に伝わる資料が公開された。"),
    "hamada": ("新店舗", "濱田社長が新店舗を開いた。"),
    "saito": ("講演会", "齋藤教授が講演した。"),
    "sawa": ("代表選出", "澤選手が代表に選ばれた。"),
    "fuzoku": ("病院の新棟", "大学附属病院に新しい病棟ができた。"),
    "usa_exact": ("米国の景気", "米国の景気が回復している。"),
    "usa_synonym": ("大統領選挙", "アメリカで大統領選挙の投票が始まった。"),
    "typhoon_title": ("台風が上陸", "大型の勢力を保ったまま九州に上陸した。"),
    "typhoon_body": ("週末の天気", "週末は晴れるが、来週は台風の影響が出るおそれがある。"),
    "name_whole": ("新会社", "梁文鋒氏が新しい会社を設立した。"),
    "name_scattered": ("梁と文と鋒", "文鋒の鋭い梁氏の随筆と、会社を設立した話。"),
    "bear": ("山道に出没", "山道でクマの目撃が相次いでいる。"),
    "bookmark": ("ブラウザの整理術", "ブラウザのブックマークを整理した。"),
}

CASES = [
    # (query, must find, must not find, must come first)
    # Substrings across a compound's split, precision kept
    ("空港", {"kix", "scattered"}, set(), None),
    ("関西国際空港", {"kix"}, {"scattered"}, "kix"),
    ("国際空港", {"kix", "scattered"}, set(), "kix"),
    ("東京都", {"tocho"}, {"kyoto"}, "tocho"),
    ("都庁", {"tocho"}, set(), "tocho"),
    # ... and a word only where it is a word: 京都 is not in 東京|都庁, 人参 not in 外国|人|参政|権
    ("京都", {"kyoto"}, {"tocho"}, "kyoto"),
    ("人参", {"carrot"}, {"suffrage"}, "carrot"),
    ("参政権", {"suffrage"}, {"carrot"}, "suffrage"),
    # クマ, which Sudachi reads as a given name, not inside ブック|マーク
    ("クマ", {"bear"}, {"bookmark"}, "bear"),
    # Width and case
    ("AI", {"ai_wide"}, set(), "ai_wide"),
    ("ai", {"ai_wide"}, set(), "ai_wide"),
    ("ＡＩ", {"ai_wide"}, set(), "ai_wide"),
    ("deepseek", {"deepseek"}, set(), "deepseek"),
    ("DEEPSEEK", {"deepseek"}, set(), "deepseek"),
    ("ＤｅｅｐＳｅｅｋ", {"deepseek"}, set(), "deepseek"),
    ("スマートフォン", {"halfkana"}, set(), "halfkana"),
    ("ｽﾏｰﾄﾌｫﾝ", {"halfkana"}, set(), "halfkana"),
    # Long vowels and small kana in katakana
    ("サーバ", {"server_short", "server_long"}, set(), None),
    ("サーバー", {"server_short", "server_long"}, set(), None),
    ("ｻｰﾊﾞｰ", {"server_short", "server_long"}, set(), None),
    ("コンピューター", {"computer"}, set(), "computer"),
    ("コンピュータ", {"computer"}, set(), "computer"),
    ("ウインドウ", {"window"}, set(), "window"),
    # Okurigana and inflection (Sudachi's normalized form)
    ("行う", {"okurigana"}, set(), "okurigana"),
    ("行なう", {"okurigana"}, set(), "okurigana"),
    ("走る", {"inflection"}, set(), "inflection"),
    ("付属", {"fuzoku"}, set(), "fuzoku"),
    ("附属", {"fuzoku"}, set(), "fuzoku"),
    # Old and variant kanji Sudachi leaves alone, both ways
    ("高橋", {"takahashi"}, set(), "takahashi"),
    ("髙橋", {"takahashi"}, set(), "takahashi"),
    ("山崎", {"yamazaki"}, set(), "yamazaki"),
    ("渡辺", {"watanabe"}, set(), "watanabe"),
    ("渡邉", {"watanabe"}, set(), "watanabe"),
    ("徳川", {"tokugawa"}, set(), "tokugawa"),
    ("浜田", {"hamada"}, set(), "hamada"),
    ("斎藤", {"saito"}, set(), "saito"),
    ("齊藤", {"saito"}, set(), "saito"),
    ("沢", {"sawa"}, set(), "sawa"),
    # Synonyms from the dictionary, below the word itself
    ("米国", {"usa_exact", "usa_synonym"}, set(), "usa_exact"),
    ("アメリカ", {"usa_exact", "usa_synonym"}, set(), "usa_synonym"),
    ("スマホ", {"halfkana"}, set(), "halfkana"),
    # Ranking: title above body, phrase above scattered words
    ("台風", {"typhoon_title", "typhoon_body"}, set(), "typhoon_title"),
    ("title:台風", {"typhoon_title"}, {"typhoon_body"}, "typhoon_title"),
    ('"国際 空港"', {"kix"}, {"scattered"}, "kix"),
    ("空港 -関西", {"scattered"}, {"kix"}, "scattered"),
    # A name unknown to the dictionary, cut into single characters, is found whole
    ("梁文鋒", {"name_whole"}, {"name_scattered"}, "name_whole"),
    # A question: ranked by all its words; a name unknown to the dictionary found whole
    ("梁文鋒氏が設立した会社はどこですか？", {"name_whole", "name_scattered"}, set(), "name_whole"),
]


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    home = tmp_path_factory.mktemp("linguistics-home")
    archive = make_archive(home)
    records = [
        {"title": title, "body": body, "category": key} for key, (title, body) in DOCUMENTS.items()
    ]
    summary = import_into(archive, write_jsonl(home / "cases.jsonl", records))
    assert summary.added == len(DOCUMENTS), summary.failed
    return archive


def found(archive, query: str) -> list[str]:
    page = archive.search(query, page_size=50)
    return [hit.category for hit in page.hits]


def test_the_table_has_enough_cases():
    assert len(CASES) >= 40


@pytest.mark.parametrize(("query", "must_find", "must_not", "first"), CASES)
def test_linguistic_case(archive, query, must_find, must_not, first):
    ranked = found(archive, query)
    assert must_find <= set(ranked), f"{query}: missing {must_find - set(ranked)} in {ranked}"
    assert not must_not & set(ranked), f"{query}: should not find {must_not & set(ranked)}"
    if first is not None:
        assert ranked[0] == first, f"{query}: {ranked}"


def test_query_is_shown_as_understood(archive):
    page = archive.search("関西国際空港 米国")
    assert [t.forms for t in page.terms] == [("関西", "国際", "空港"), ("米国",)]
    assert "アメリカ" in page.terms[1].synonyms


def test_a_query_that_finds_nothing_suggests_a_correction(archive):
    page = archive.search("関西国祭空港")
    assert page.suggestion == "関西国際空港"


def test_more_like_this_shows_nothing_when_nothing_is_alike(archive):
    """One-line articles on unrelated topics: the Kyoto one has no related articles, not noise."""
    kyoto = archive.search("京都").hits[0]
    assert archive.related(kyoto.id) == ()
