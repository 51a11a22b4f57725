"""Bytes → text for the encodings Chinese reports come in (UTF-8, GB18030/GBK, Big5).

GBK-family and Big5 byte strings often both decode without error; the wrong one yields
gibberish, so candidates are judged by how many report words they contain.

A downloaded report is often slightly damaged: a flipped byte, a last character cut in half,
a few NUL bytes. Refusing the whole file for that loses 197 good cells to save one, so every
byte that does not decode (and every stray control byte) becomes one U+FFFD in the text, the
damage is counted, and the cells next to it are flagged later (`extractor.damage`). A file is
refused only when no encoding reads most of it: then it is not damaged text, it is not text.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from extractor.ingest.chinese import traditional_to_simplified
from extractor.ingest.errors import IngestError

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_REPORT_WORDS = ("政府", "信息", "公开", "申请", "年度", "报告", "行政", "情况", "工作", "数量")
_CANDIDATES = ("utf-8", "gb18030", "big5", "big5hkscs")

REPLACEMENT = "\ufffd"
# The share of a file's bytes that may be damaged before it stops being "damaged text" and is refused.
MAX_DAMAGED_SHARE = 0.05
# A trailing run of zero bytes this long is a preallocated download that stopped, not text.
_MIN_ZERO_TAIL = 16

# Control bytes that no report contains (tab, newlines, vertical tab and form feed are layout).
_CONTROL_BYTES = bytes(b for b in range(32) if b < 9 or b > 13)
# After decoding with `_MARK`: a lone surrogate per undecodable byte, or a control character.
_DAMAGE = re.compile(f"[{chr(0xD800)}-{chr(0xDFFF)}\x00-\x08\x0e-\x1f]+")  # chr(): mypyc takes no surrogate literals
_REPLACED = re.compile(f"{REPLACEMENT}+")
_MARK = "gongkai-mark"


def _mark(exc: UnicodeError) -> tuple[str, int]:
    """One lone surrogate per undecodable byte (never produced by a clean decode), so damage is
    counted per byte and found again after decoding without any state kept between calls.
    Unlike `surrogateescape` it also accepts a failing range that includes an ASCII byte."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    bad = exc.object[exc.start : exc.end]
    return "".join(chr(0xDC00 + byte) for byte in bad), exc.end


codecs.register_error(_MARK, _mark)


@dataclass(frozen=True)
class Decoded:
    """A decoded file: `text` has one U+FFFD for each byte that was damaged."""

    text: str
    encoding: str
    replaced_bytes: int = 0  # undecodable bytes and stray control bytes together
    control_bytes: int = 0  # of which NUL and other control bytes no report contains
    cut_mid_character: bool = False  # the last bytes were the start of a character: a truncated file
    zero_tail: int = 0  # trailing zero bytes left out (a download that stopped)

    def summary(self) -> str:
        """One line for the run's notes; empty when nothing was damaged."""
        parts = []
        undecodable = self.replaced_bytes - self.control_bytes
        damaged = []
        if undecodable:
            damaged.append(f"{undecodable} byte(s) could not be read as {self.encoding}")
        if self.control_bytes:
            damaged.append(f"{self.control_bytes} NUL or control byte(s) stood in the text")
        if damaged:
            parts.append(" and ".join(damaged) + ": each was replaced by �")
        if self.cut_mid_character:
            parts.append("the file ends in the middle of a character (a cut-off download?)")
        if self.zero_tail:
            parts.append(f"the file ends in {self.zero_tail} zero bytes (a download that stopped?); they were left out")
        return "; ".join(parts)


def _score(text: str) -> int:
    simplified = text[:20000].translate(traditional_to_simplified())
    return sum(simplified.count(word) for word in _REPORT_WORDS)


def has_text_bom(data: bytes) -> bool:
    """UTF-8/UTF-16 byte-order marks: UTF-16 text is full of NUL bytes and still text."""
    return any(data.startswith(bom) for bom, _ in _BOMS)


def strip_zero_tail(data: bytes) -> bytes:
    """Without a trailing run of zero bytes (a preallocated file whose download stopped)."""
    body = data.rstrip(b"\x00")
    return body if len(data) - len(body) >= _MIN_ZERO_TAIL else data


def control_share(data: bytes) -> float:
    """The share of control bytes (NUL included) in the file, a trailing run of zero bytes left out."""
    data = strip_zero_tail(data)
    if not data:
        return 1.0
    return (len(data) - len(data.translate(None, _CONTROL_BYTES))) / len(data)


def looks_binary(data: bytes) -> bool:
    """Many control bytes (NUL included) mean this is not a text document.

    Counted over the whole file, not its head: a text with a few NULs (a damaged copy) is still
    text, and a binary has far more than 5 % control bytes everywhere.
    """
    return control_share(data) > MAX_DAMAGED_SHARE


def _replace_damage(text: str) -> tuple[str, int, int]:
    """Marks and control characters → U+FFFD, one per byte (each stands for one byte).

    Returns the text, how many were replaced, and how many of those were control characters.
    """
    counts = [0, 0]

    def replace(match: re.Match[str]) -> str:
        run = match.group(0)
        counts[0] += len(run)
        counts[1] += sum(1 for char in run if char < " ")
        return REPLACEMENT * len(run)

    return _DAMAGE.sub(replace, text), counts[0], counts[1]


def replacement_spans(text: str) -> tuple[tuple[int, int], ...]:
    """Character spans of the U+FFFD runs in `text`: where the source bytes were damaged."""
    if REPLACEMENT not in text:
        return ()
    return tuple(match.span() for match in _REPLACED.finditer(text))


def _cut_mid_character(data: bytes, encoding: str) -> bool:
    """Whether the last bytes are an unfinished character (the file was cut), not a wrong byte."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    tail = data[-8:]
    for start in range(len(tail)):
        try:
            decoder.reset()
            decoder.decode(tail[start:], final=False)
            state, _ = decoder.getstate()
        except (UnicodeDecodeError, AttributeError):
            continue
        return bool(state)
    return False


def _decoded(data: bytes, encoding: str, zero_tail: int) -> Decoded:
    text, replaced, controls = _replace_damage(data.decode(encoding, errors=_MARK))
    cut = bool(replaced) and text.endswith(REPLACEMENT) and _cut_mid_character(data, encoding)
    return Decoded(text, encoding, replaced, controls, cut, zero_tail)


def decode(data: bytes) -> Decoded:
    """Decode with the encoding that reads the file best; raise IngestError('encoding', …) if none fits.

    Candidates are ranked by report words first (a wrong CJK codec decodes almost anything, as
    gibberish), then by fewest damaged bytes; a candidate with more than 5 % damaged bytes is
    not a fit.
    """
    body = strip_zero_tail(data)
    zero_tail = len(data) - len(body)
    for bom, name in _BOMS:
        if body.startswith(bom):
            return _decoded(body, name, zero_tail)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        clean, replaced, controls = _replace_damage(text)
        return Decoded(clean, "utf-8", replaced, controls, False, zero_tail)
    limit = MAX_DAMAGED_SHARE * len(body)
    best: tuple[tuple[int, int, int], Decoded] | None = None
    for order, name in enumerate(_CANDIDATES):
        candidate = _decoded(body, name, zero_tail)
        if candidate.replaced_bytes > limit:
            continue
        rank = (_score(candidate.text), -candidate.replaced_bytes, -order)
        if best is None or rank > best[0]:
            best = (rank, candidate)
    if best is None:
        raise IngestError(
            "encoding",
            "cannot tell the text encoding: UTF-8, GB18030 and Big5 each fail on more than "
            f"{MAX_DAMAGED_SHARE:.0%} of the bytes",
        )
    if best[0][0] == 0:  # no report words in any: perhaps another encoding (then not a report at all)
        guess = _charset_guess(body)
        if guess is not None:
            return guess
    return best[1]


def _charset_guess(data: bytes) -> Decoded | None:
    """A last resort for files in none of the report encodings (they are then refused as not a report)."""
    from charset_normalizer import from_bytes

    guess = from_bytes(data).best()
    if guess is None or guess.encoding is None:
        return None
    text, replaced, controls = _replace_damage(str(guess))
    return Decoded(text, guess.encoding, replaced, controls)


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Return (text, encoding name) or raise IngestError('encoding', …)."""
    decoded = decode(data)
    return decoded.text, decoded.encoding
