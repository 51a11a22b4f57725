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
from itertools import pairwise

from extractor.ingest.pdf_grid import Grid, GridCell, is_number, is_value, starts_with_ordinal
from extractor.ingest.pdf_text import Segment, TextLine, is_cjk, join_lines

# Lines no further apart than this many font sizes stay in one table.
_MAX_ROW_GAP_EMS = 4.0
# Between two aligned lines, at most this many lines of one piece (wrapped labels, a vertical label).
_MAX_LOOSE_LINES = 8
# A table needs at least this many rows of numbers (or one, under a header of several cells).
_MIN_VALUE_ROWS = 2
# A vertical label: at least this many one-character pieces stacked in one narrow column.
_MIN_STACK = 3
# Two lines of one cell stand closer than this share of the pitch between two rows of numbers.
_SAME_CELL_PITCH = 0.8


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
    return _values_in(line.segments())


def _is_multi(line: TextLine) -> bool:
    return len(line.segments()) >= 2


def _table_end(lines: list[TextLine], start: int) -> int:
    """The end of the table that starts at `start` (an aligned line), or `start` when none does.

    The table goes on while lines follow closely; it ends before a row of numbers that does not
    fit its columns (two numbers in one column: the next table, with other columns, has begun),
    before a header row printed after its rows of numbers (the next table's) and before a line
    of prose (one piece reaching over the columns of numbers).
    """
    if not _is_multi(lines[start]):
        return start
    last_anchor = start
    last_value = start if _is_value_line(lines[start]) else -1
    numbers: list[list[Segment]] = [_numbers(lines[start])] if last_value >= 0 else []
    values = len(numbers)
    anchors = 1
    index = start + 1
    while index < len(lines):
        line = lines[index]
        gap = line.top - lines[index - 1].bottom
        if gap > _MAX_ROW_GAP_EMS * max(line.size, lines[index - 1].size):
            break
        if _is_multi(line):
            if _is_value_line(line):
                if numbers and not _fits(_bands(numbers), _numbers(line)):
                    last_anchor = last_value
                    break
                numbers.append(_numbers(line))
                values += 1
                last_value = index
            elif numbers and any(_middle(s) >= _bands(numbers)[0][0] for s in line.segments()):
                return index  # a header over the columns after rows of numbers: the next table's
            last_anchor = index
            anchors += 1
        elif index - last_anchor > _MAX_LOOSE_LINES or (numbers and _crosses_columns(line, numbers)):
            break
        index += 1
    if values < _MIN_VALUE_ROWS and not (values == 1 and anchors >= 2):
        return start
    # a table ends at its last aligned line; single lines after it are running text again
    return last_anchor + 1


def _crosses_columns(line: TextLine, numbers: list[list[Segment]]) -> bool:
    """A line of one piece reaching over the columns of numbers: prose or a heading, not a label."""
    return line.x1 > _bands(numbers)[0][0] + line.size


def _numbers(line: TextLine) -> list[Segment]:
    return [s for s in line.segments() if is_value(s.text)]


def _fits(bands: list[tuple[float, float]], numbers: list[Segment]) -> bool:
    """Every number falls in a column of its own (a number between columns fits the nearest)."""
    used = [_band_of(bands, s) for s in numbers]
    return len(set(used)) == len(used)


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
    if not value_rows:
        return None
    bands = _bands([[s for s in rest[i] if is_value(s.text)] for i in sorted(value_rows)])
    label_edge = bands[0][0]  # everything printed left of the first column of numbers is a label
    rows: list[_Row] = []
    pending: list[tuple[TextLine, list[Segment]]] = []  # label pieces waiting for the row below them
    last_top = 0.0  # the top of the last line given to rows[-1]
    pitch = _row_pitch([lines[i] for i in sorted(value_rows)])

    def close(upper: float, lower: float) -> bool:
        """Two lines of one cell: nearer than two rows of the table are."""
        return lower - upper < _SAME_CELL_PITCH * pitch

    def flush() -> None:
        rows.extend(_Row(line, segments, header=True) for line, segments in pending)
        pending.clear()

    for i, line in enumerate(lines):
        segments = rest[i]
        if not segments:
            continue
        if i in value_rows:
            if pending and not close(pending[-1][0].top, line.top):
                flush()
            rows.append(_Row(line, segments, before=[s for _, piece in pending for s in piece]))
            pending.clear()
        elif not value_rows.intersection(range(i)) or any(_middle(s) >= label_edge for s in segments):
            flush()
            rows.append(_Row(line, segments, header=True))
        elif starts_with_ordinal(segments[0].text) or pending or not rows or not close(last_top, line.top):
            if pending and not close(pending[-1][0].top, line.top):
                flush()
            pending.append((line, segments))
            continue
        else:
            rows[-1].after.extend(segments)
        last_top = line.top
    if pending and rows and not rows[-1].header and close(last_top, pending[0][0].top):
        rows[-1].after.extend(s for _, piece in pending for s in piece)
        pending.clear()
    flush()
    starts = _stack_rows(rows, stacks)
    cells = [_cells(row, bands, label_edge, starts.get(r, [])) for r, row in enumerate(rows)]
    return Grid(number, cells, ruled=False, bands=bands)


def _row_pitch(value_lines: list[TextLine]) -> float:
    """The distance between two rows of the table: the least between consecutive rows of numbers."""
    steps = [b.top - a.top for a, b in pairwise(value_lines) if b.top > a.top]
    return min(steps) if steps else 2.5 * value_lines[0].size


def _middle(segment: Segment) -> float:
    return (segment.x0 + segment.x1) / 2


def _values_in(segments: list[Segment]) -> bool:
    """A row of values: a number after the first piece, or (a row of zeros printed as marks) two marks."""
    values = [is_value(s.text) for s in segments[1:]]
    return len(segments) >= 2 and (any(is_number(s.text) for s in segments[1:]) or sum(values) >= 2)


def _stack_rows(rows: list[_Row], stacks: list[list[Segment]]) -> dict[int, list[list[Segment]]]:
    """Each vertical label goes to the first row whose line reaches down to the label's top."""
    starts: dict[int, list[list[Segment]]] = {}
    for stack in stacks:
        top = stack[0].top
        index = next((r for r, row in enumerate(rows) if row.line.bottom >= top), len(rows) - 1)
        starts.setdefault(index, []).append(stack)
    return starts


def _cells(
    row: _Row, bands: list[tuple[float, float]], label_edge: float, stacks: list[list[Segment]]
) -> list[GridCell | None]:
    out: list[GridCell | None] = [_cell(stack) for stack in stacks]
    if row.header:
        return out + [_cell([s]) for s in row.segments]
    labels = row.before + [s for s in row.segments if _middle(s) < label_edge] + row.after
    out.extend(_cell(column) for column in _label_columns(labels))
    by_band: list[list[Segment]] = [[] for _ in bands]
    for segment in row.segments:
        if _middle(segment) >= label_edge:
            by_band[_band_of(bands, segment)].append(segment)
    for (x0, x1), band in zip(bands, by_band, strict=True):
        out.append(_cell(band) if band else GridCell("", (x0, row.line.top, x1, row.line.bottom)))
    return out


def _label_columns(pieces: list[Segment]) -> list[list[Segment]]:
    """A row's label pieces by the column they start in (a group label, then the row's own), top to bottom."""
    columns: list[list[Segment]] = []
    for piece in sorted(pieces, key=lambda s: s.x0):
        if columns and piece.x0 - columns[-1][0].x0 <= piece.size:
            columns[-1].append(piece)
        else:
            columns.append([piece])
    return [sorted(column, key=lambda s: s.top) for column in columns]


def _cell(segments: list[Segment]) -> GridCell:
    text = join_lines(s.text for s in segments)
    rect = (
        min(s.x0 for s in segments),
        min(s.top for s in segments),
        max(s.x1 for s in segments),
        max(s.bottom for s in segments),
    )
    return GridCell(text, rect)
