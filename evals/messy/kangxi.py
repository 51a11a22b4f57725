"""A PDF font whose text layer reads common characters as Kangxi radicals.

Many real report PDFs (Word exports through some Chinese font setups) look
normal on screen but their text layer gives 行政 as ``⾏政`` (U+2F8F, the
Kangxi radical 行) and 一 as ``⼀`` (U+2F00): the font's ToUnicode table maps
the glyph to the radical's code point instead of the unified ideograph.  A
reader that does not fold these back misreads every label containing them.

This module reproduces the mechanism rather than the symptom: a second
resource of reportlab's built-in STSong-Light CID font (no font file), whose
text is written as CIDs (Identity-H) and whose ToUnicode CMap sends each
character that has a Kangxi twin to the twin.  The page therefore renders the
ordinary glyphs while pdfplumber (and any reader of the text layer) gets the
radicals, exactly as in the wild.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from typing import Any

from reportlab.lib.rl_accel import escapePDF
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import CIDFontInfo, UnicodeCIDFont, structToPDF
from reportlab.pdfbase.pdfdoc import PDFStream

from evals.synth.layouts import (
    HEADINGS,
    ORG_COLS,
    SUBGROUPS,
    T2_BLOCKS,
    T3_GROUP,
    T3_LABELS,
    T3_NOTE,
    T4_COL_LABELS,
    T4_SUITS,
    T4_TOP,
)

BASE_FONT = "STSong-Light"
KANGXI_FONT = "STSong-Light-Kangxi"

# The Kangxi radicals block: every radical whose compatibility decomposition is a unified ideograph.
KANGXI_TWIN: dict[str, str] = {
    unicodedata.normalize("NFKC", chr(cp)): chr(cp)
    for cp in range(0x2F00, 0x2FD6)
    if unicodedata.normalize("NFKC", chr(cp)) != chr(cp)
}


def kangxi_text(text: str) -> str:
    """``text`` with every character that has a Kangxi twin replaced by it (what the text layer holds)."""
    return "".join(KANGXI_TWIN.get(ch, ch) for ch in text)


def _vocabulary() -> str:
    """Every character a table label can hold; the font refuses anything else (a generator bug)."""
    texts = [
        *HEADINGS.values(),
        *T3_LABELS.values(),
        *SUBGROUPS.values(),
        T3_GROUP,
        T3_NOTE,
        "申请人情况自然人法人或其他组织总计小计",
        *ORG_COLS,
        *T4_TOP,
        *T4_SUITS,
        *T4_COL_LABELS,
    ]
    for blocks in T2_BLOCKS.values():
        for block_title, header, rows in blocks:
            texts.append(block_title)
            texts.extend(header)
            texts.extend(label for label, _item, _cols in rows)
    ascii_printable = "".join(chr(c) for c in range(0x20, 0x7F))
    return "".join(sorted(set("".join(texts) + ascii_printable + "、，。：；（）“”")))


@cache
def _cids() -> dict[str, int]:
    """Character -> Adobe-GB1 CID, by the same UniGB-UCS2-H CMap the ordinary font uses."""
    from pdfminer.cmapdb import CMapDB

    cmap = CMapDB.get_cmap("UniGB-UCS2-H")
    out: dict[str, int] = {}
    for ch in _vocabulary():
        cids = list(cmap.decode(ch.encode("utf-16-be")))
        if len(cids) == 1 and cids[0]:
            out[ch] = cids[0]
    return out


def _to_unicode_cmap() -> bytes:
    """The ToUnicode CMap: each CID to the character it shows, twinned characters to their radical."""
    pairs = sorted({cid: kangxi_text(ch) for ch, cid in _cids().items()}.items())
    lines = [
        "/CIDInit /ProcSet findresource begin",
        "12 dict begin",
        "begincmap",
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
        "/CMapName /Adobe-Identity-UCS def",
        "/CMapType 2 def",
        "1 begincodespacerange",
        "<0000> <FFFF>",
        "endcodespacerange",
    ]
    for start in range(0, len(pairs), 100):  # at most 100 entries per bfchar block
        chunk = pairs[start : start + 100]
        lines.append(f"{len(chunk)} beginbfchar")
        lines.extend(f"<{cid:04X}> <{ord(ch):04X}>" for cid, ch in chunk)
        lines.append("endbfchar")
    lines += ["endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end"]
    return ("\n".join(lines) + "\n").encode("ascii")


class KangxiCIDFont(UnicodeCIDFont):  # type: ignore[misc]
    """STSong-Light written as CIDs, with a ToUnicode CMap that reads twinned characters as radicals."""

    def __init__(self) -> None:
        super().__init__(BASE_FONT)
        self.name = self.fontName = KANGXI_FONT

    def formatForPdf(self, text: str | bytes) -> str:
        """Two bytes of CID per character (Identity-H)."""
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        cids = _cids()
        missing = sorted({ch for ch in text if ch not in cids})
        if missing:
            raise ValueError(f"the Kangxi label font has no entry for {''.join(missing)!r}")
        return str(escapePDF(b"".join(cids[ch].to_bytes(2, "big") for ch in text)))

    def addObjects(self, doc: Any) -> None:
        """As UnicodeCIDFont does, but Identity-H with our ToUnicode stream (a copy of the shared font data)."""
        internal = "F" + repr(len(doc.fontMapping) + 1)
        spec = dict(CIDFontInfo[self.face.name])
        spec["Name"] = "/" + internal
        spec["Encoding"] = "/Identity-H"
        font = structToPDF(spec)
        font.dict["ToUnicode"] = doc.Reference(PDFStream(content=_to_unicode_cmap()))
        ref = doc.Reference(font, internal)
        doc.idToObject["BasicFonts"].dict[internal] = ref
        doc.fontMapping[self.name] = "/" + internal


def register_fonts() -> None:
    """Register the ordinary and the Kangxi STSong-Light with reportlab (idempotent)."""
    registered = pdfmetrics.getRegisteredFontNames()
    if BASE_FONT not in registered:
        pdfmetrics.registerFont(UnicodeCIDFont(BASE_FONT))
    if KANGXI_FONT not in registered:
        pdfmetrics.registerFont(KangxiCIDFont())
