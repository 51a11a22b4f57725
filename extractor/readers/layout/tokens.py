"""Split normalised report text into text pieces, numbers, blanks and row breaks.

The same token stream serves every layout: pipes, one cell per line, PDF lines with
space-separated numbers and crawler text with cells run together. Each token keeps its span.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Literal

Kind = Literal["text", "num", "blank", "empty", "break"]
Value = int | Decimal

BLANK_MARKS = frozenset({"—", "——", "-", "--", "/", "无", "－", "∕", "\\", "–"})
# A number followed by one of these is prose (件, 条, 年 …), not a table cell, unless it stands apart among
# a row's plain cells ('3 40 41件', `_counted_cell`).
_PROSE_UNITS = "件条个次篇人期场家名份年月日号项类张户批例起宗台笔%‰"
_COUNTERS = "件条个次项笔人家份宗起例"
_COUNTED = re.compile(rf"(\d{{1,3}}(?:,\d{{3}})+|\d+)\s?([{_COUNTERS}])")
# a sign touches its digits ('-18'); '- 5' is a blank cell ('-') and then a number
_NUMBER = re.compile(
    r"(?:(?P<sign>[+\-]{1,2}|(?:增加|减少|增|减)\s?))?"
    r"(?P<digits>\d{1,3}(?:,\d{3})+(?![\d])|\d+)(?P<frac>\.\d+)?"
    r"(?P<unit>\s?(?:万元|元))?"
)
# '无' counts as a blank only where it stands alone and is not a wrapped group label ('(四)无 1.本机关…')
_STANDALONE_BLANK = re.compile(r"(?<!\S)(—{1,2}|-{1,2}|/|－|–|无)(?!\S)(?!\s*\d+\.[\u4e00-\u9fff])")
_RULE_LINE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_DIGIT = re.compile(r"\d")
# Page furniture printed between table rows by PDF converters: '— 5 —', '- 4 -', '第 3 页', '3/7'.
_PAGE_NUMBER = re.compile(
    r"^\s*(?:[—\-–]+\s*\d{1,3}\s*[—\-–]+|第\s*\d{1,3}\s*页(?:\s*共\s*\d{1,3}\s*页)?|\d{1,3}\s*/\s*\d{1,3})\s*$"
)


@dataclass(slots=True)
class Token:
    kind: Kind
    text: str
    start: int
    end: int
    value: Value | None = None
    glued: bool = False  # digits touching text with no separator: maybe several cells run together
    unit: str = ""
    line: int = 0
    in_cell: bool = False  # came from a pipe-delimited cell: its digits are one value for sure


def parse_number(raw: str) -> Value | None:
    """'1,234' → 1234, '+22' → 22, '增10' → 10, '--253' / '减5' → negative, '80618元' → 80618.

    Whole numbers stay int (fast sums); only decimals become Decimal (exact sums).
    """
    match = _NUMBER.fullmatch(raw.strip())
    if not match:
        return None
    try:
        return _value(match.group("sign"), match.group("digits"), match.group("frac"))
    except InvalidOperation:
        return None


_EMPTY_ROW_CELLS = 3


def _cell_token(cell: str, start: int, end: int) -> Token:
    stripped = cell.strip()
    lead = len(cell) - len(cell.lstrip())
    s, e = start + lead, start + lead + len(stripped)
    if not stripped:
        return Token("empty", "", start, end)
    if stripped.isdecimal():
        return Token("num", stripped, s, e, int(stripped))
    if stripped in BLANK_MARKS:
        return Token("blank", stripped, s, e)
    match = _NUMBER.fullmatch(stripped)
    if match:
        return Token("num", stripped, s, e, parse_number(stripped), unit=(match.group("unit") or "").strip())
    counted = _COUNTED.fullmatch(stripped)
    if counted:
        # a cell holding only a count and its counter word ('293项', '2笔') is a value
        return Token("num", stripped, s, e, parse_number(counted.group(1)), unit=counted.group(2))
    return Token("text", stripped, s, e)


def _is_label_numbering(line: str, end: int) -> bool:
    """'6.属于…', '1、申请人…' (、 is ',' once normalised): a digit, a list mark, then a CJK character is
    list numbering, not a value."""
    return end + 1 < len(line) and line[end] in ".," and _is_cjk(line[end + 1])


def _scan_free_line(line: str, offset: int, out: list[Token], allow_glued: bool = True) -> int:
    """Tokenise a line without pipes; returns how many value tokens it held.

    Inside a pipe cell (`allow_glued=False`) digits touching text stay text: '数据1' is a header.
    """
    if not _DIGIT.search(line):
        first = len(out)
        _emit_text(line, offset, out, bool(_STANDALONE_BLANK.search(line)))
        return sum(1 for token in out[first:] if token.kind == "blank")
    count = 0
    pos = 0
    has_blank_marks = bool(_STANDALONE_BLANK.search(line))
    for match in _NUMBER.finditer(line):
        start, end = match.span()
        digits, frac, unit_group = match.group("digits", "frac", "unit")
        digits_end = match.end("frac") if frac else match.end("digits")
        following = line[digits_end : digits_end + 2].lstrip()
        before = line[start - 1] if start > 0 else ""
        counter = ""
        if following and following[0] in _PROSE_UNITS and not unit_group:
            if not _counted_cell(line, start, digits_end):
                continue
            counter = line[digits_end]  # '41件' standing alone among a row's cells: a count and its word
        if before and before in "第(（":
            continue
        if _is_label_numbering(line, digits_end):
            if len(digits) == 1 or frac:
                continue
            # run-together cells followed by the next label's number: '3200000326.属于' → 320000032 | 6.
            end = digits_end - 1
            digits = digits[:-1]
            raw = line[start:end]
        elif counter:
            end = digits_end + 1
            raw = line[start:end]
        else:
            raw = line[start:end].rstrip()
            end = start + len(raw)
        value = _value(match.group("sign"), digits, frac)
        if value is None:
            continue
        after = line[end] if end < len(line) else ""
        touching = _is_cjk(before) or _is_cjk(after)
        if touching and not allow_glued:
            continue
        if start > pos:
            _emit_text(line[pos:start], offset + pos, out, has_blank_marks)
        glued = touching or (len(raw) > 1 and raw[0] == "0")
        unit = counter or ((unit_group or "").strip() if end >= match.end() else "")
        out.append(Token("num", raw, offset + start, offset + end, value, glued=glued, unit=unit))
        count += 1
        pos = end
    if pos < len(line):
        _emit_text(line[pos:], offset + pos, out, has_blank_marks)
    return count


_BARE_NUMBER = re.compile(r"(?:(?<=\s)|(?<=\|)|^)[+\-]?\d[\d,.]*(?=\s|\||$)")


def _counted_cell(line: str, start: int, digits_end: int) -> bool:
    """'3 40 41件': a count with its counter word printed as a cell of a row, apart from the text around
    it, with no sentence on the line. In prose the count touches its words ('公开9件', '9件申请')."""
    after = line[digits_end + 1 : digits_end + 2]
    before = line[start - 1 : start]
    return (
        line[digits_end : digits_end + 1] in _COUNTERS
        and (not before or before.isspace() or before == "|")
        and (not after or after.isspace() or after == "|")
        and not any(mark in line for mark in "。,;:")  # normalised: ,;: stand for ，；：
        and _BARE_NUMBER.search(line) is not None  # a plain cell beside it: a row, not a phrase
    )


def _is_cjk(char: str) -> bool:
    return bool(char) and "\u4e00" <= char <= "\u9fff"


def _value(sign: str | None, digits: str, frac: str | None) -> Value | None:
    """The number a regex match spells; whole numbers stay int (fast sums)."""
    digits = digits.replace(",", "")
    if not digits:
        return None
    value: Value = Decimal(digits + frac) if frac else int(digits)
    if sign and (sign[0] == "-" or sign[0] == "减"):
        value = -value
    return value


def _emit_text(piece: str, offset: int, out: list[Token], blanks: bool) -> None:
    """Text between numbers; standalone dash/slash marks inside it become blank cells."""
    if not piece.strip():
        return
    pos = 0
    if blanks:
        for match in _STANDALONE_BLANK.finditer(piece):
            if match.start() > pos and piece[pos : match.start()].strip():
                out.append(Token("text", piece[pos : match.start()].strip(), offset + pos, offset + match.start()))
            out.append(Token("blank", match.group(1), offset + match.start(1), offset + match.end(1)))
            pos = match.end()
    rest = piece[pos:]
    if rest.strip():
        out.append(Token("text", rest.strip(), offset + pos, offset + len(piece)))


def _scan_pipe_line(line: str, offset: int, out: list[Token]) -> int:
    pieces: list[tuple[str, int]] = []
    pos = 0
    for part in line.split("|"):
        pieces.append((part, pos))
        pos += len(part) + 1
    if pieces and not pieces[0][0].strip():
        pieces = pieces[1:]
    if pieces and not pieces[-1][0].strip():
        pieces = pieces[:-1]
    cells = [_cell_token(text, offset + start, offset + start + len(text)) for text, start in pieces]
    if all(c.kind == "empty" for c in cells):
        # '||||' is padding; a run of '| |' cells (an HTML grid row of blanks) is a row of empty cells
        if sum(1 for c in cells if c.start != c.end) < _EMPTY_ROW_CELLS:
            return 0
        out.extend(cells)
        return len(cells)
    values = 0
    for cell in cells:
        if cell.kind == "text" and not _DIGIT.search(cell.text):
            cell.in_cell = True
            out.append(cell)
        elif cell.kind == "text":
            # a cell holding a label and its numbers ('行政许可 517645') is split like free text
            first = len(out)
            values += _scan_free_line(cell.text, cell.start, out, allow_glued=False)
            for index in range(first, len(out)):
                out[index].in_cell = True
        elif cell.kind == "empty" and cell.start == cell.end:
            continue  # '||' with nothing between is padding; '| |' is an empty cell
        else:
            cell.in_cell = True
            out.append(cell)
            values += cell.kind != "empty"
    return values


def tokenize(text: str, start: int = 0, end: int | None = None) -> list[Token]:
    """Tokens of text[start:end]; a line holding two or more values ends with a row break."""
    end = len(text) if end is None else end
    out: list[Token] = []
    offset = start
    for number, line in enumerate(text[start:end].split("\n")):
        stripped = line.strip()
        if stripped == "|":
            # a line holding only '|' in a page printing one cell per line ('18 |'): an empty cell.
            # Where such lines only open or close rows, the row has its values without them and
            # the placement trims them (rows.py / cells.py keep empties only to fill a row's width)
            out.append(Token("empty", "", offset, offset + len(line), line=number))
        elif (
            stripped
            and not ("-" in stripped and _RULE_LINE.match(line))
            and not (len(stripped) < 24 and _PAGE_NUMBER.match(line))
        ):
            first = len(out)
            values = _scan_pipe_line(line, offset, out) if "|" in line else _scan_free_line(line, offset, out)
            if values >= 2:
                out.append(Token("break", "", offset + len(line), offset + len(line)))
            for index in range(first, len(out)):
                out[index].line = number
        offset += len(line) + 1
    return out
