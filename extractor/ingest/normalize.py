"""Length-preserving normalisation: every output character stands where its source character stood.

Full-width digits and punctuation become ASCII, traditional characters simplified (and a Taiwan
mirror's swapped words turned back), odd spaces plain, pinyin glosses such as `項(xiàng)` blanked
out. Because nothing moves, a span found in the normalised text is also the span in the document,
so every extracted value can point at its source without an offset map.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

from extractor.ingest.chinese import traditional_to_simplified

_PINYIN_GLOSS = re.compile(r"[(（][a-zA-Zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ ]{1,12}[)）]")
_EXTRA = {
    0x00A0: " ", 0x3000: " ", 0x2002: " ", 0x2003: " ", 0x2009: " ", 0x200B: " ", 0xFEFF: " ",
    0x2014: "—", 0x2013: "-", 0x2212: "-", 0xFF0D: "-", 0x2015: "—", 0x3001: ",",
}  # fmt: skip
# Blocks where NFKC folds one character into one other: punctuation, CJK symbols, compatibility
# ideographs, vertical and full-width forms. Circled numbers (①) stay: they are list marks, not values.
# Kangxi radicals (⾏ U+2F8F for 行, ⼀ for 一), which CJK fonts in PDFs often map their glyphs to, fold too.
_FOLDED_BLOCKS = (
    (0x2000, 0x2BFF), (0x2E80, 0x2FDF), (0x3000, 0x33FF), (0xF900, 0xFAFF), (0xFE10, 0xFE6F), (0xFF00, 0xFFEF),
)  # fmt: skip


@cache
def _table() -> dict[int, str]:
    """One plain dict for str.translate (C speed): NFKC folds, then traditional → simplified."""
    simplified = traditional_to_simplified()
    table: dict[int, str] = {}
    for low, high in _FOLDED_BLOCKS:
        for code in range(low, high + 1):
            folded = unicodedata.normalize("NFKC", chr(code))
            if len(folded) == 1 and folded != chr(code) and not 0x2460 <= code <= 0x24FF:
                table[code] = simplified.get(ord(folded), folded)
    for code, target in simplified.items():
        table.setdefault(code, target)
    table.update(_EXTRA)
    return table


# Taiwan-vocabulary mirrors of mainland reports swap whole words, not only characters (OpenCC's
# TWPhrases: 文件→檔案, 信息→資訊, 数据→資料, 项目→專案, 网络→網路). Simplified, the swapped
# word is turned back where it has the same length; none of these words is in the mandated form.
_TAIWAN_WORDS = {"档案": "文件", "资讯": "信息", "资料": "数据", "专案": "项目", "网路": "网络"}
_TAIWAN = re.compile("|".join(_TAIWAN_WORDS))


def _mainland(match: re.Match[str]) -> str:
    return _TAIWAN_WORDS[match.group(0)]


def _blank(match: re.Match[str]) -> str:
    return " " * len(match.group(0))


def normalize(text: str) -> str:
    """Return a same-length text fit for matching labels and numbers."""
    out = text.translate(_table())
    out = _TAIWAN.sub(_mainland, out)
    if "(" in out:
        out = _PINYIN_GLOSS.sub(_blank, out)
    return out
