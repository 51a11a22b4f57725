"""Tables printed without ruling lines: rows and columns from how the words line up.

A run of lines that carry numbers in the same horizontal bands is a table. Its columns are the
bands the value rows' cells occupy; every other line inside the run is placed by geometry:

- a label wrapped over two lines (the numbers printed beside the middle line, or beside one of
  them) joins the row it belongs to: a piece that starts with an ordinal (一、 (二) 3.) opens the
  label of the row below it, any other piece ends the label of the row above it;
- a label printed vertically, one character per line in its own narrow column, is one cell,
  written once in the row where it starts (as a merged cell is);
- lines before the first row of numbers are header rows, one cell per printed cell.

An empty label cell is left out of its row (the label of a group of rows is written once), an
empty value cell is kept, so that every number stays under its column.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from extractor.ingest.pdf_grid import Grid, GridCell, is_number, starts_with_ordinal
from extractor.ingest.pdf_text import Segment, TextLine, is_cjk, join_lines

# Lines with a cell on them no further apart than this many line heights stay in one table.
_MAX_ROW_GAP_LINES = 3.0
# A table needs at least this many rows of numbers.
_MIN_VALUE_ROWS = 2
# A vertical label: at least this many one-character pieces stacked in one narrow column.
_MIN_STACK = 3
# A label line no further than this many line heights from a row's line is part of that row's label.
_TIGHT_LINES = 0.8


@dataclass
class _Row:
    """One table row being built: its value line's segments by column, plus wrapped label pieces."""

    line: TextLine
    segments: list[Segment]
    before: list[Segment] = field(default_factory=list)
    after: list[Segment] = field(default_factory=list)
    header: bool = False


def aligned_blocks(lines: list[TextLine], number: int) -> list[TextLine | Grid]:
    """The page's lines, with every run of aligned lines that forms a table replaced by its grid."""
    out: list[TextLine | Grid] = []
    index = 0
    while index < len(lines):
        end = _table_end(lines, index)
        if end > index:
            grid = _grid(lines[index:end], number)
            if grid is not None:
                out.append(grid)
                index = end
                continue
        out.append(lines[index])
        index += 1
    return out


def _is_value_line(line: TextLine) -> bool:
    segments = line.segments()
    return len(segments) >= 2 and any(is_number(s.text) for s in segments[1:])


def _is_multi(line: TextLine) -> bool:
    return len(line.segments()) >= 2


def _table_end(lines: list[TextLine], start: int) -> int:
    """The end of the table that starts at `start` (an aligned line), or `start` when none does."""
    if not _is_multi(lines[start]):
        return start
    last_anchor = start
    values = 1 if _is_value_line(lines[start]) else 0
    index = start + 1
    while index < len(lines):
        line = lines[index]
        gap = line.top - lines[last_anchor].bottom
        if gap > _MAX_ROW_GAP_LINES * max(line.size, lines[last_anchor].size) * 1.5:
            break
        if _is_multi(line):
            last_anchor = index
            values += _is_value_line(line)
        elif index - last_anchor > _MAX_ROW_GAP_LINES * 2:
            break
        index += 1
    if values < _MIN_VALUE_ROWS:
        return start
    # a table ends at its last aligned line; single lines after it are running text again
    return last_anchor + 1


def _stacks(lines: list[TextLine]) -> tuple[list[list[Segment]], dict[int, list[Segment]]]:
    """Vertical labels (one-character pieces stacked in a narrow column) and each line's other pieces."""
    pieces = [(i, s) for i, line in enumerate(lines) for s in line.segments()]
    small = [
        (i, s)
        for i, s in pieces
        if len(s.text.replace(" ", "")) <= 2 and s.x1 - s.x0 <= 2.2 * s.size and any(is_cjk(c) for c in s.text)
    ]
    used: set[int] = set()
    stacks: list[list[Segment]] = []
    for a, (line_a, seg_a) in enumerate(small):
        if id(seg_a) in used:
            continue
        column = [(line_a, seg_a)]
        for line_b, seg_b in small[a + 1 :]:
            last = column[-1][1]
            if id(seg_b) in used or line_b == column[-1][0]:
                continue
            same_x = abs((seg_b.x0 + seg_b.x1) / 2 - (last.x0 + last.x1) / 2) <= 0.6 * last.size
            if same_x and seg_b.top - last.bottom <= 3 * last.size:
                column.append((line_b, seg_b))
        if len(column) >= _MIN_STACK:
            stacks.append([s for _, s in column])
            used.update(id(s) for _, s in column)
    rest = {i: [s for s in line.segments() if id(s) not in used] for i, line in enumerate(lines)}
    return stacks, rest


def _bands(rows: list[list[Segment]]) -> list[tuple[float, float]]:
    """Column bands: the value rows' cell extents, overlapping extents merged, left to right."""
    spans = sorted((s.x0, s.x1) for row in rows for s in row)
    bands: list[tuple[float, float]] = []
    for x0, x1 in spans:
        if bands and x0 <= bands[-1][1] + 1:
            bands[-1] = (bands[-1][0], max(bands[-1][1], x1))
        else:
            bands.append((x0, x1))
    return bands


def _band_of(bands: list[tuple[float, float]], segment: Segment) -> int:
    """The band the segment overlaps most (the nearest one when it overlaps none)."""

    def score(band: tuple[float, float]) -> float:
        overlap = min(band[1], segment.x1) - max(band[0], segment.x0)
        if overlap > 0:
            return overlap
        return -min(abs(band[0] - segment.x1), abs(segment.x0 - band[1]))

    return max(range(len(bands)), key=lambda i: score(bands[i]))


def _grid(lines: list[TextLine], number: int) -> Grid | None:
    stacks, rest = _stacks(lines)
    value_rows = {i for i in range(len(lines)) if _values_in(rest[i])}
    if len(value_rows) < _MIN_VALUE_ROWS:
        return None
    bands = _bands([rest[i] for i in sorted(value_rows)])
    first_value_band = min(_band_of(bands, s) for i in value_rows for s in rest[i] if is_number(s.text))
    rows: list[_Row] = []
    pending: list[tuple[TextLine, list[Segment]]] = []  # label pieces waiting for the row below them
    last_bottom = 0.0  # the bottom of the last line given to rows[-1]

    def flush() -> None:
        rows.extend(_Row(line, segments, header=True) for line, segments in pending)
        pending.clear()

    for i, line in enumerate(lines):
        segments = rest[i]
        if not segments:
            continue
        tight = _TIGHT_LINES * line.size
        if i in value_rows:
            if pending and line.top - pending[-1][0].bottom > tight:
                flush()
            rows.append(_Row(line, segments, before=[s for _, piece in pending for s in piece]))
            pending.clear()
        elif not value_rows.intersection(range(i)) or any(_band_of(bands, s) >= first_value_band for s in segments):
            flush()
            rows.append(_Row(line, segments, header=True))
        elif starts_with_ordinal(segments[0].text) or pending or not rows or line.top - last_bottom > tight:
            if pending and line.top - pending[-1][0].bottom > tight:
                flush()
            pending.append((line, segments))
            continue
        else:
            rows[-1].after.extend(segments)
        last_bottom = line.bottom
    if pending and rows and not rows[-1].header and pending[0][0].top - last_bottom <= _TIGHT_LINES * pending[0][0].size:
        rows[-1].after.extend(s for _, piece in pending for s in piece)
        pending.clear()
    flush()
    starts = _stack_rows(rows, stacks)
    return Grid(number, [_cells(row, bands, first_value_band, starts.get(r, [])) for r, row in enumerate(rows)], ruled=False)


def _values_in(segments: list[Segment]) -> bool:
    return len(segments) >= 2 and any(is_number(s.text) for s in segments[1:])


def _stack_rows(rows: list[_Row], stacks: list[list[Segment]]) -> dict[int, list[list[Segment]]]:
    """Each vertical label goes to the first row whose line reaches down to the label's top."""
    starts: dict[int, list[list[Segment]]] = {}
    for stack in stacks:
        top = stack[0].top
        index = next((r for r, row in enumerate(rows) if row.line.bottom >= top), len(rows) - 1)
        starts.setdefault(index, []).append(stack)
    return starts


def _cells(
    row: _Row, bands: list[tuple[float, float]], first_value_band: int, stacks: list[list[Segment]]
) -> list[GridCell | None]:
    out: list[GridCell | None] = [_cell(stack) for stack in stacks]
    if row.header:
        return out + [_cell([s]) for s in row.segments]
    by_band: list[list[Segment]] = [[] for _ in bands]
    for segment in row.segments:
        by_band[_band_of(bands, segment)].append(segment)
    label_pieces = row.before + [s for band in by_band[:first_value_band] for s in band] + row.after
    if label_pieces:
        out.append(_cell(label_pieces))
    for index, band in enumerate(by_band[first_value_band:], first_value_band):
        x0, x1 = bands[index]
        out.append(_cell(band) if band else GridCell("", (x0, row.line.top, x1, row.line.bottom)))
    return out


def _cell(segments: list[Segment]) -> GridCell:
    text = join_lines(s.text for s in segments)
    rect = (
        min(s.x0 for s in segments),
        min(s.top for s in segments),
        max(s.x1 for s in segments),
        max(s.bottom for s in segments),
    )
    return GridCell(text, rect)
