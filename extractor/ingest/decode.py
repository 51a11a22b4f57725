"""Bytes → text for the encodings Chinese reports come in (UTF-8, GB18030/GBK, Big5).

GBK-family and Big5 byte strings often both decode without error; the wrong one yields
gibberish, so candidates are judged by how many report words they contain.
"""

from __future__ import annotations

import codecs

from extractor.ingest.chinese import traditional_to_simplified
from extractor.ingest.errors import IngestError

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_REPORT_WORDS = ("政府", "信息", "公开", "申请", "年度", "报告", "行政", "情况", "工作", "数量")
_CANDIDATES = ("gb18030", "big5", "big5hkscs")


def _score(text: str) -> int:
    simplified = text[:20000].translate(traditional_to_simplified())
    return sum(simplified.count(word) for word in _REPORT_WORDS)


_CONTROL_BYTES = bytes(b for b in range(32) if b < 9 or b > 13)


def has_text_bom(data: bytes) -> bool:
    """UTF-8/UTF-16 byte-order marks: UTF-16 text is full of NUL bytes and still text."""
    return any(data.startswith(bom) for bom, _ in _BOMS)


def looks_binary(data: bytes) -> bool:
    """NUL bytes or many control characters mean this is not a text document."""
    sample = data[:4096]
    if b"\x00" in sample:
        return True
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    return bool(sample) and controls / len(sample) > 0.05


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Return (text, encoding name) or raise IngestError('encoding', …)."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return data.decode(name), name
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    best: tuple[int, str, str] | None = None
    for name in _CANDIDATES:
        try:
            text = data.decode(name)
        except UnicodeDecodeError:
            continue
        score = _score(text)
        if best is None or score > best[0]:
            best = (score, text, name)
    if best is not None and best[0] > 0:
        return best[1], best[2]
    from charset_normalizer import from_bytes

    guess = from_bytes(data).best()
    if guess is None or guess.encoding is None:
        raise IngestError("encoding", "cannot tell the text encoding (tried UTF-8, GB18030, Big5)")
    return str(guess), guess.encoding
