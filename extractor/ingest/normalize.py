"""Length-preserving normalisation: every output character stands where its source character stood.

Full-width digits and punctuation become ASCII, traditional characters simplified, odd spaces
plain, pinyin glosses such as `項(xiàng)` blanked out. Because nothing moves, a span found in
the normalised text is also the span in the document, so every extracted value can point at
its source without an offset map.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

from extractor.ingest.chinese import traditional_to_simplified

_PINYIN_GLOSS = re.compile(r"[(（][a-zA-Zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ ]{1,12}[)）]")
_EXTRA = {
    0x00A0: " ",
    0x3000: " ",
    0x2002: " ",
    0x2003: " ",
    0x2009: " ",
    0x200B: " ",
    0xFEFF: " ",
    0x2014: "—",
    0x2013: "-",
    0x2212: "-",
    0xFF0D: "-",
    0x2015: "—",
    0x3001: ",",
}


class _Table(dict[int, str]):
    """A translate table that fills itself: NFKC per character, kept only when it stays one character."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        folded = unicodedata.normalize("NFKC", char)
        value = folded if len(folded) == 1 else char
        value = traditional_to_simplified().get(ord(value), value)
        self[code] = value
        return value


@cache
def _table() -> _Table:
    table = _Table()
    table.update(_EXTRA)
    return table


def _blank(match: re.Match[str]) -> str:
    return " " * len(match.group(0))


def normalize(text: str) -> str:
    """Return a same-length text fit for matching labels and numbers."""
    out = text.translate(_table())
    if "(" in out:
        out = _PINYIN_GLOSS.sub(_blank, out)
    return out
