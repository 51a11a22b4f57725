"""The text window the LLM reads for a table the rules reader could not place, with the prose blanked.

When the rules reader finds no region for a table, or reads next to nothing in the one it found,
the table is still somewhere between the tables that were read: after the last cell read of the
table before it and before the first table read after it. That stretch (bounded in size) is the
window; the LLM finds the rows in it by their labels, as it does in a located table.

Numbers in a narrative paragraph ('全年处理申请数量423件') are not cells. A line that reads as a
sentence is blanked in a copy of the text that keeps every offset (spaces, same length), and that
copy is what the rows are anchored in, what the model is shown and what every value is grounded
in, so a value copied from prose is never grounded. The model sees `OMITTED` where prose was cut.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from schemas import SectionSpec

#: What the model is shown in place of a blanked narrative line (the scripted server splits on it).
OMITTED = "[…]"

#: A window is at most this many characters: table 3 printed one cell a line takes ~2000, and a small
#: model's context (4096 tokens) must hold the window, the prompt and the answer.
DEFAULT_LIMIT = 4000

_CJK = re.compile(r"[\u4e00-\u9fff]")
_ASIDE = re.compile(r"[(（][^()（）]*[)）]")  # a parenthesised note inside a row label
_NUMBERING = re.compile(r"^\W*(?:[一二三四五六七八九十]+|\d+)\s*[,，、.．]")  # '一、' '2.' before a row label
# sentence marks; a comma between words, but not the one after a numbering ('二、' is normalised to '二,')
_SENTENCE = re.compile(r"[。；;！？!?]|(?<=[\u4e00-\u9fff])(?<![一二三四五六七八九十])[，,](?=[\u4e00-\u9fff])")
_MIN_CJK = 10  # a sentence has words; a row label with a stray comma is short
# three numbers in a run, apart only by spaces or pipes: table cells, even inside a long line
_CELLS = re.compile(r"(?<![\d.])\d[\d.,]*(?:[ \t|｜]+\d[\d.,]*){2,}(?![\d.])")
# a number followed by a counting word is a count in a sentence ('2645条', '20期', '423件'), not a cell
_COUNTED = re.compile(r"(?<![\d.])[+-]?\d[\d.,]*(?=[件条个次项人家批期号年月日元万亿名份篇场户所起余多天%％])")
# where a line breaks into sentences: a report copied from a web page may print a whole part on one line
_SEGMENT = re.compile(r"[^\n。；！？]*[。；！？]?")


def narrative(segment: str) -> bool:
    """Whether a stretch of text (a line, or a sentence of a long line) reads as a sentence, not as a
    table row or a heading.

    Sentence punctuation (。；！？, or a comma between words) in at least ten Chinese characters,
    not counting the numbering ('一、', normalised to '一,') nor parenthesised asides: a row label
    may carry one ('(二)部分公开(区分处理的，只计这一情形，不计其他情形)'), and so may the table's
    note ('(本列数据的勾稽关系为：…)'); and no run of table cells ('规章 0 0 0'), which a long line
    holding a whole table next to its prose has. A sentence without digits goes too: one that names
    a row ('行政处罚、行政强制：本年度无相关处理决定；') would anchor that row in prose.
    """
    plain = _NUMBERING.sub("", _ASIDE.sub("", segment.strip()), count=1)
    if _CELLS.search(plain):
        return False
    return bool(_SENTENCE.search(plain)) and len(_CJK.findall(plain)) >= _MIN_CJK


@dataclass(frozen=True)
class Blanked:
    """The document's text with a window's narrative blanked (same offsets), and the stretches blanked."""

    text: str
    blanks: tuple[tuple[int, int], ...]

    def shown(self, start: int, end: int) -> str:
        """`[start, end)` as the model is shown it: a blanked stretch (or a run of them) is one `OMITTED`."""
        pieces, cursor = [], start
        for first, last in self.blanks:
            if last <= start or first >= end:
                continue
            pieces += [self.text[cursor:first], f" {OMITTED} "]
            cursor = max(cursor, last)
        pieces.append(self.text[cursor:end])
        lines: list[str] = []
        for line in "".join(pieces).splitlines():
            line = line.strip()
            if line and not (line == OMITTED and lines and lines[-1].endswith(OMITTED)):
                lines.append(line)
        return "\n".join(lines)


def blank_narrative(text: str, window: tuple[int, int]) -> Blanked:
    """The text with the narrative inside `window` turned to spaces (offsets unchanged).

    Each line is cut into sentences; a sentence that reads as narrative is blanked whole, and in
    what is left a number followed by a counting word ('2645条') is blanked.
    """
    start, end = window
    chars = list(text)
    blanks: list[tuple[int, int]] = []

    def blank(first: int, last: int) -> None:
        chars[first:last] = " " * (last - first)
        if blanks and not text[blanks[-1][1] : first].strip():
            blanks[-1] = (blanks[-1][0], last)  # a run of blanked stretches is shown as one
        else:
            blanks.append((first, last))

    for match in _SEGMENT.finditer(text, start, end):
        if not match.group().strip():
            continue
        if narrative(match.group()):
            blank(match.start(), match.end())
            continue
        for count in _COUNTED.finditer(text, match.start(), match.end()):
            blank(count.start(), count.end())
    return Blanked("".join(chars), tuple(blanks))


def trim(
    section: SectionSpec, later: Sequence[SectionSpec], text: str, window: tuple[int, int], first: int, last: int
) -> tuple[int, int]:
    """The part of `window` that can hold the table whose rows are printed from `first` to `last`:
    from its own heading before them (else the window's start), to where a later table's heading
    or the next part of the report begins after them (else the window's end). A window shared by
    two unplaced tables is so cut in two, and the model is not shown the other table."""
    start, end = window
    heading = _last(text, section.location.headings, start, first)
    ends = [*section.location.ends, *(p for s in later for p in (*s.location.headings, *s.location.anchors))]
    after = [found for phrase in ends if (found := text.find(phrase, last, end)) > last]
    return (heading if heading is not None else start), min(after, default=end)


def _last(text: str, phrases: Sequence[str], start: int, end: int) -> int | None:
    found = [text.rfind(phrase, start, end) for phrase in phrases]
    best = max(found, default=-1)
    return best if best >= 0 else None


def fallback_window(
    section: SectionSpec, text: str, gap: tuple[int, int], limit: int = DEFAULT_LIMIT, bounded_before: bool = True
) -> tuple[int, int] | None:
    """The window for `section` inside `gap`, at most `limit` characters; None when the gap is empty.

    A gap longer than the limit is cut from its heading's last mention in the gap (the report's
    introduction names its tables first, the table's own heading comes last), else from the gap's
    start when a read table bounds it before (`bounded_before`), else from the end (the window
    then runs up to the first table read).
    """
    start, end = gap
    if end - start <= 0 or not text[start:end].strip():
        return None
    if end - start <= limit:
        return start, end
    heading = _last(text, section.location.headings, start, end)
    if heading is not None and end - heading > 0:
        return heading, min(end, heading + limit)
    if bounded_before:
        return start, start + limit
    return end - limit, end


def gaps(
    order: Sequence[str], wanted: Sequence[str], extents: Mapping[str, tuple[int, int]], size: int
) -> dict[str, tuple[tuple[int, int], bool]]:
    """For each wanted section, the stretch between the read tables around it, and whether one precedes it.

    `extents` are the tables that were read (first to last character of their cells, or their
    region), in printed `order`. The stretch begins after the last cell read of the nearest read
    table printed before the section and ends where the nearest read table printed after it
    begins; a table read out of order (its extent before the start) does not bound it.
    """
    out: dict[str, tuple[tuple[int, int], bool]] = {}
    for key in wanted:
        index = order.index(key)
        before = [extents[k] for k in order[:index] if k in extents]
        start = max((e[1] for e in before), default=0)
        after = [extents[k][0] for k in order[index + 1 :] if k in extents and extents[k][0] >= start]
        out[key] = ((start, min(after, default=size)), bool(before))
    return out
