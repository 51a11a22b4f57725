"""A second reading of a page's characters, by pdfium, for pages pdfminer cannot map to text.

pdfminer names a glyph it cannot map to a character `(cid:4511)`; it does so, for one, on every
page of a password-free but encrypted PDF set in a standard CJK font (its CMap name is read from
an encrypted string). pdfium maps those pages right, so such a page's glyphs are taken from it;
the ruling lines still come from pdfplumber.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from extractor.ingest.pdf_text import Glyph, fold

_UNMAPPED = re.compile(r"^\(cid:\d+\)$")


def unmapped_share(glyphs: Sequence[Glyph]) -> float:
    """The share of glyphs pdfminer could not map to a character."""
    if not glyphs:
        return 0.0
    return sum(1 for g in glyphs if _UNMAPPED.match(g.text)) / len(glyphs)


class PdfiumText:
    """Glyphs of any page of one PDF as pdfium reads them (the document is opened on first use)."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._document: Any = None

    def glyphs(self, index: int, page_height: float) -> list[Glyph]:
        """Page `index` (0-based) as glyphs in points from the top-left; [] when pdfium cannot read it."""
        import pypdfium2 as pdfium
        import pypdfium2.raw as pdfium_c

        try:
            if self._document is None:
                self._document = pdfium.PdfDocument(self._data)
            textpage = self._document[index].get_textpage()
        except (pdfium.PdfiumError, IndexError):
            return []
        out: list[Glyph] = []
        space = False
        for i in range(textpage.count_chars()):
            text = textpage.get_text_range(i, 1)
            if not text.strip():
                space = True
                continue
            left, bottom, right, top = textpage.get_charbox(i, loose=True)
            size = float(pdfium_c.FPDFText_GetFontSize(textpage.raw, i)) or (top - bottom) or 1.0
            out.append(Glyph(fold(text), left, page_height - top, right, page_height - bottom, size, space))
            space = False
        return out

    def close(self) -> None:
        if self._document is not None:
            self._document.close()
            self._document = None
