"""OCR misreads of the form's own wording, mended against that wording.

The readers find a row by a phrase of its label (`RowSpec.aliases`: 逾期不补正, 另行制作, …). One
character misread on a blurred scan (邀期不补正) loses the row, and a lost row can be taken for
another one silently. The mandated tables print a fixed vocabulary, so a run of text that differs
from one of its row phrases in exactly one character is that phrase: it is mended, and said so.
Only row phrases of five or more characters are used (no two are one character apart), not header
words: a header with a character dropped (未经复议接起诉, 直 lost) is one substitution away from
another header (复议后起诉), and would be turned into it.
"""

from __future__ import annotations

import functools

from schemas import DISCLOSURE_REPORT

_MIN_LENGTH = 5


@functools.cache
def _phrases() -> dict[int, tuple[str, ...]]:
    """The report type's row phrases of at least five characters, by length."""
    words: set[str] = set()
    for template in DISCLOSURE_REPORT.templates:
        for section in template.sections:
            for row in section.rows:
                words.update(row.aliases)
    by_length: dict[int, list[str]] = {}
    for word in words:
        if len(word) >= _MIN_LENGTH and not any(c.isascii() for c in word):
            by_length.setdefault(len(word), []).append(word)
    return {length: tuple(sorted(group)) for length, group in by_length.items()}


def _one_apart(a: str, b: str) -> bool:
    return sum(1 for x, y in zip(a, b, strict=True) if x != y) == 1


def mend_wording(text: str) -> tuple[str, list[tuple[str, str]]]:
    """`text` with every run one character away from a phrase of the form replaced by the phrase,
    and the (read, mended) pairs; text that already holds a phrase there is left alone."""
    if len(text) < _MIN_LENGTH or text.isascii():
        return text, []
    mended: list[tuple[str, str]] = []
    out = text
    for length, phrases in sorted(_phrases().items(), reverse=True):
        if length > len(out):
            continue
        start = 0
        while start + length <= len(out):
            window = out[start : start + length]
            if window in phrases:
                start += length
                continue
            match = [p for p in phrases if _one_apart(window, p)]
            if len(match) == 1 and not any(c.isdigit() or c.isascii() for c in window if c not in match[0]):
                mended.append((window, match[0]))
                out = out[:start] + match[0] + out[start + length :]
                start += length
            else:
                start += 1
    return out, mended
