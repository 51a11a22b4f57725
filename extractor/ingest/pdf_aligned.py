"""Tables printed without ruling lines: rows and columns from how the words line up.

A run of lines that carry numbers in the same horizontal bands is a table, and so is a header of
several cells followed by row labels with no numbers at all (a report printing its zeros as empty
cells). Its columns are the header's lowest-level words and the numbers' extents
(`extractor.ingest.pdf_columns`); every other line inside the run is placed by geometry:

- lines before the first row label (a line with numbers, a label that opens with an ordinal or
  stands alone left of the columns) are header rows, one cell per printed cell;
- a label wrapped over lines (the numbers printed beside the middle line, or beside one of them)
  joins the row it belongs to: a piece that starts with an ordinal (一、 (二) 3.) opens the label of
  a row, any other piece printed close under a label ends it;
- a label that opens with an ordinal and meets no number before the next label in its column is
  a row of empty cells;
- a label printed vertically, one character per line in its own narrow column, is one cell,
  written once in the row where it starts (as a merged cell is).

Each number goes to the column it stands in and every other column of the row is an empty cell,
so that a number stays under its header when the columns before it are blank. A row whose
numbers do not stand each in one column of its own (one between two columns, two in one) is
written as its label and its numbers only: the reader then places them and says it guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from extractor.ingest.pdf_columns import Band, column_of, header_leaves, merged_spans, overlapped, value_columns
from extractor.ingest.pdf_grid import Grid, GridCell, is_number, is_value, starts_with_ordinal
from extractor.ingest.pdf_pieces import cell_pieces, value_pieces
from extractor.ingest.pdf_text import Segment, TextLine, join_lines

# Lines no further apart than this many font sizes stay in one table.
_MAX_ROW_GAP_EMS = 4.0
# Between two aligned lines, at most this many lines of one piece (wrapped labels, a vertical label)
# unless they stand left of the table's columns in the table's type size (row labels of empty rows).
_MAX_LOOSE_LINES = 8
# A table needs at least this many rows of numbers (or one, under a header of several cells).
_MIN_VALUE_ROWS = 2
# A table with no number at all needs a header of this many cells over its row labels (or of two,
# printed in the labels' type).
_MIN_HEADER_CELLS = 3
# Two lines of one cell: the gap between them is less than this share of the type size.
_SAME_CELL_GAP_EMS = 0.55
# A line holding one number joins a table only this close under it (font sizes).
_MAX_LONE_GAP_EMS = 2.5
# A page's foot (page numbers, running footers) is this share of its height.
_FOOT = 0.1
# A header carried from the previous page is read this many font sizes above the page's first line.
_CARRIED_GAP_EMS = 0.8
# Two lines in one table's type when their sizes differ by no more than this (points).
_SAME_SIZE = 0.3


@dataclass
class _Row:
    """One table row being built: its value line's segments, plus label pieces printed above/below."""

    line: TextLine
    segments: list[Segment]
    before: list[Segment] = field(default_factory=list)
    after: list[Segment] = field(default_factory=list)
    header: bool = False


def aligned_blocks(lines: list[TextLine], number: int, carried: OpenTable | None = None) -> list[TextLine | Grid]:
    """The page's lines, with every run of aligned lines that forms a table replaced by its grid.

    `carried` is the unruled table the previous page ended with: the page's first
    lines are read under it first, as the rest of that table (a report seldom repeats a header)."""
    out: list[TextLine | Grid] = []
    index = 0
    if carried and lines:
        grid, used = _carried_grid(carried, lines, number)
        if grid is not None:
            out.append(grid)
            index = used
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


@dataclass
class OpenTable:
    """An unruled table a page ends with, as the next page needs it: the header its rows are read
    under, the type size of its rows, and the lines printing that header when no row came under
    it yet (the whole body is on the next page, and they go there with it)."""

    header: list[TextLine]
    size: float
    printed: list[TextLine] = field(default_factory=list)


def open_table(blocks: list[TextLine | Grid], height: float) -> OpenTable | None:
    """The unruled table the page ends with (its foot's furniture aside), if it does."""
    body = [b for b in blocks if b.top < (1 - _FOOT) * height]
    if not body:
        return None
    last = body[-1]
    if isinstance(last, Grid):
        return OpenTable(list(last.header), last.size) if not last.ruled and last.header else None
    trailing: list[TextLine] = []
    for block in reversed(body):
        if isinstance(block, Grid) or not _is_multi(block) or _is_value_line(block):
            break
        trailing.insert(0, block)
    if sum(len(line.segments()) for line in trailing) < _MIN_HEADER_CELLS:
        return None
    return OpenTable(trailing, trailing[-1].size, trailing)


def _carried_grid(table: OpenTable, lines: list[TextLine], number: int) -> tuple[Grid | None, int]:
    """The table part that opens the page, read under the previous page's header (moved to just above
    it), and how many of the page's lines it takes; its header cells keep their own page and place."""
    carried = table.header
    size = lines[0].size
    if abs(size - table.size) > _SAME_SIZE and abs(size - carried[-1].size) > _SAME_SIZE:
        return None, 0  # the page opens in another type: prose or a heading, not the table's rows
    first = lines[0]
    if not (_is_value_line(first) or _is_lone_number(first) or first.x1 <= min(map(_columns_start, carried))):
        return None, 0  # nor a row of numbers nor a label left of the columns: not the table's
    shift = carried[-1].bottom + _CARRIED_GAP_EMS * size - lines[0].top
    moved = [_moved(line, shift) for line in carried]
    end = _table_end([*moved, *lines], 0)
    if end <= len(moved):
        return None, 0
    grid = _grid([*moved, *lines[: end - len(moved)]], number)
    if grid is None or not any(c is not None and c.rect[3] > lines[0].top - 0.5 for r in grid.rows for c in r):
        return None, 0
    grid.header = carried
    grid.size = table.size
    top = lines[0].top - 0.5
    for row in grid.rows:
        for cell in row:
            if cell is not None and cell.rect[3] <= top:  # a header cell: printed on the page before
                x0, y0, x1, y1 = cell.rect
                cell.rect = (x0, y0 + shift, x1, y1 + shift)
                cell.page = number - 1
    return grid, end - len(moved)


def _moved(line: TextLine, shift: float) -> TextLine:
    return TextLine([replace(g, top=g.top - shift, bottom=g.bottom - shift) for g in line.glyphs])


def _is_value_line(line: TextLine) -> bool:
    return _values_in(line.segments())


def _is_multi(line: TextLine) -> bool:
    return len(line.segments()) >= 2


def _table_end(lines: list[TextLine], start: int) -> int:
    """The end of the table that starts at `start` (an aligned line), or `start` when none does.

    The table goes on while lines follow closely; it ends before a row of numbers that does not
    fit its columns (two numbers in one column: the next table, with other columns, has begun),
    before a header row printed after its rows of numbers (the next table's) and before a line
    of prose (one piece reaching over the columns, or printed in another type size).
    """
    first = lines[start]
    if not _is_multi(first):
        return start
    last_anchor = start
    last_kept = start
    last_value = start if _is_value_line(first) else -1
    numbers: list[list[Segment]] = [_numbers(first)] if last_value >= 0 else []
    values = len(numbers)
    header_cells = 0 if numbers else len(first.segments())
    labels = 0  # single lines kept left of the columns: row labels
    label_size = 0.0
    columns_at = _columns_start(first)
    index = start + 1
    while index < len(lines):
        line = lines[index]
        gap = line.top - lines[index - 1].bottom
        if gap > _MAX_ROW_GAP_EMS * max(line.size, lines[index - 1].size):
            break
        lone = _is_lone_number(line) and (header_cells > 0 or bool(numbers))
        if lone and gap > _MAX_LONE_GAP_EMS * line.size:
            break  # a number standing apart under a table: a page number, or the next block's
        if _is_multi(line) or lone:
            if _is_value_line(line):
                if numbers and not _fits(merged_spans(_spans(numbers)), _numbers(line)):
                    last_kept = last_value
                    break
                numbers.append(_numbers(line))
                values += 1
                last_value = index
            elif numbers and any(_middle(s) >= _bands(numbers)[0][0] for s in line.segments()):
                return max(last_kept, index - 1) + 1  # a header over the columns after rows of numbers
            elif not numbers and not labels:
                header_cells += len(line.segments())
                columns_at = min(columns_at, _columns_start(line))
            if numbers:
                columns_at = min(columns_at, min(s.x0 for s in numbers[-1]))
            last_anchor = last_kept = index
        elif line.x1 <= columns_at and abs(line.size - (label_size or line.size)) <= _SAME_SIZE:
            labels += 1
            label_size = label_size or line.size  # the row labels' type: prose in another one ends the table
            last_kept = index
        elif (
            index - last_anchor > _MAX_LOOSE_LINES
            or (numbers and _crosses_columns(line, numbers))
            or ((numbers or labels) and line.x1 > columns_at + line.size)
        ):
            break
        index += 1
    if values == 0:
        small = header_cells < _MIN_HEADER_CELLS and abs(label_size - first.size) > _SAME_SIZE
        if header_cells < 2 or labels == 0 or small:  # a header of two cells over labels in its own type
            return start
    elif values < _MIN_VALUE_ROWS and not (values == 1 and (last_kept > last_value or header_cells >= 2)):
        return start
    return last_kept + 1


def _columns_start(line: TextLine) -> float:
    """Where a multi-cell line's columns start: at its second piece (the first may be a label)."""
    segments = line.segments()
    return min(s.x0 for s in segments[1:]) if len(segments) >= 2 else float("inf")


def _crosses_columns(line: TextLine, numbers: list[list[Segment]]) -> bool:
    """A line of one piece reaching over the columns of numbers: prose or a heading, not a label."""
    return line.x1 > _bands(numbers)[0][0] + line.size


def _numbers(line: TextLine) -> list[Segment]:
    return [s for s in value_pieces(line.segments()) if is_value(s.text)]


def _spans(rows: list[list[Segment]]) -> list[Band]:
    return [(s.x0, s.x1) for row in rows for s in row]


def _bands(rows: list[list[Segment]]) -> list[Band]:
    return merged_spans(_spans(rows))


def _fits(bands: list[Band], numbers: list[Segment]) -> bool:
    """No two numbers stand in one column (a number in no column yet opens a new one)."""
    used = [i for s in numbers for i in overlapped(bands, s)[:1]]
    return len(set(used)) == len(used)


def _grid(lines: list[TextLine], number: int) -> Grid | None:
    stacks, rest = cell_pieces(lines)
    value_rows = {i for i in range(len(lines)) if _values_in(rest[i])}
    head = _header_end(lines, rest, value_rows)
    if head >= len(lines):
        return None
    body = range(head, len(lines))
    values = [s for i in sorted(value_rows) for s in rest[i] if is_value(s.text)]
    label_pieces = [s for i in body for s in rest[i] if not is_value(s.text)]
    bands = value_columns(header_leaves(lines[:head]), values, label_pieces)
    if not bands:
        return None
    label_edge = bands[0][0]  # everything printed left of the first column is a label
    rows = _header_rows(lines[:head], rest)
    rows.extend(_body_rows([(lines[i], rest[i]) for i in body], value_rows - set(range(head)), head, label_edge))
    starts = _stack_rows(rows, stacks)
    cells = [_cells(row, bands, label_edge, starts.get(r, [])) for r, row in enumerate(rows)]
    sizes = sorted(lines[i].size for i in body)
    return Grid(number, cells, ruled=False, bands=bands, header=lines[:head], size=sizes[len(sizes) // 2])


def _header_rows(lines: list[TextLine], rest: dict[int, list[Segment]]) -> list[_Row]:
    """Header rows, a header cell wrapped over lines (结果 over 维持) joined into one cell where it starts.

    A piece continues the cell whose last piece stands just above it (a line's gap) in the same
    columns; lines of other cells may be printed between (a cell centred beside a wrapped one)."""
    cells: list[tuple[int, list[Segment]]] = []  # (line the cell starts on, its pieces)
    for i in range(len(lines)):
        for piece in rest[i]:
            above = [
                c
                for c in cells
                if min(c[1][-1].x1, piece.x1) - max(c[1][-1].x0, piece.x0) > 1
                and -1 < piece.top - c[1][-1].bottom < _SAME_CELL_GAP_EMS * piece.size
            ]
            if above:
                max(above, key=lambda c: c[1][-1].bottom)[1].append(piece)
            else:
                cells.append((i, [piece]))
    rows: list[_Row] = []
    for i, line in enumerate(lines):
        own = sorted((c for start, c in cells if start == i), key=lambda c: c[0].x0)
        if own:
            rows.append(_Row(line, [_joined(c) for c in own], header=True))
    return rows


def _joined(pieces: list[Segment]) -> Segment:
    return Segment(
        join_lines(p.text for p in pieces),
        min(p.x0 for p in pieces),
        min(p.top for p in pieces),
        max(p.x1 for p in pieces),
        max(p.bottom for p in pieces),
        max(p.size for p in pieces),
    )


def _header_end(lines: list[TextLine], rest: dict[int, list[Segment]], value_rows: set[int]) -> int:
    """The first body line: a row of numbers, a label opening with an ordinal, or a lone piece left of
    the header's columns that does not continue the header cell above it."""
    columns_at = float("inf")
    for i, line in enumerate(lines):
        segments = rest[i]
        if i in value_rows or (segments and starts_with_ordinal(segments[0].text)):
            return i
        if not segments:
            continue
        if i and len(segments) == 1 and segments[0].x1 <= columns_at:
            above = lines[i - 1]
            wrapped = line.top - above.bottom < _SAME_CELL_GAP_EMS * line.size and any(
                abs(s.x0 - segments[0].x0) <= line.size or abs(_middle(s) - _middle(segments[0])) <= line.size
                for s in rest[i - 1]
            )
            if not wrapped:
                return i
        if len(segments) >= 2:
            columns_at = min(columns_at, min(s.x0 for s in segments[1:]))
    return len(lines)


def _body_rows(
    lines: list[tuple[TextLine, list[Segment]]], value_rows: set[int], offset: int, label_edge: float
) -> list[_Row]:
    """The body's rows: each row of numbers with its label pieces, and labels that meet no number."""
    rows: list[_Row] = []
    pending: list[tuple[TextLine, list[Segment]]] = []  # label pieces waiting for the row below them
    last: TextLine | None = None  # the last line given to rows[-1]

    def flush() -> None:
        """Pending label pieces with no number: one row of empty cells per label they open."""
        group: list[tuple[TextLine, list[Segment]]] = []
        for line, pieces in pending:
            if group and _opens_row(pieces, [p for _, ps in group for p in ps]):
                rows.append(_Row(group[0][0], [], before=[p for _, ps in group for p in ps]))
                group = []
            group.append((line, pieces))
        if group:
            rows.append(_Row(group[0][0], [], before=[p for _, ps in group for p in ps]))
        pending.clear()

    for index, (line, segments) in enumerate(lines):
        if not segments:
            continue
        if index + offset in value_rows:
            own = [s for s in segments if _middle(s) < label_edge]
            held = [p for _, ps in pending for p in ps]
            if pending and (not _close(pending[-1][0], line) or (own and _opens_row(own, held))):
                flush()
            rows.append(_Row(line, segments, before=[p for _, ps in pending for p in ps]))
            pending.clear()
        elif any(_middle(s) >= label_edge for s in segments):
            flush()  # a header row repeated inside the table
            rows.append(_Row(line, segments, header=True))
        elif starts_with_ordinal(segments[0].text) or pending or not rows or last is None or not _close(last, line):
            if pending and not _close(pending[-1][0], line):
                flush()
            pending.append((line, segments))
            continue
        else:
            opener = next((k for k, s in enumerate(segments) if starts_with_ordinal(s.text)), len(segments))
            rows[-1].after.extend(segments[:opener])  # the end of the row's (group) label above
            if opener < len(segments):  # ... beside the label of the next row
                pending.append((line, segments[opener:]))
                continue
        last = line
    closes_last = pending and rows and not rows[-1].header and last is not None and _close(last, pending[0][0])
    if closes_last and not starts_with_ordinal(pending[0][1][0].text):
        rows[-1].after.extend(pending.pop(0)[1])
    flush()
    return rows


def _opens_row(pieces: list[Segment], held: list[Segment]) -> bool:
    """A label opening with an ordinal in the column where a held label already opened one: the held
    label's row is another row (a group label further left is not one)."""
    if not pieces or not starts_with_ordinal(pieces[0].text):
        return False
    x0 = pieces[0].x0
    return any(starts_with_ordinal(p.text) and abs(p.x0 - x0) <= p.size for p in held) or any(
        p.x0 >= x0 + p.size for p in held
    )


def _close(upper: TextLine, lower: TextLine) -> bool:
    """Two lines of one cell: the gap between them is narrower than a row's padding."""
    return lower.top - upper.bottom < _SAME_CELL_GAP_EMS * max(upper.size, lower.size)


def _middle(segment: Segment) -> float:
    return (segment.x0 + segment.x1) / 2


def _values_in(segments: list[Segment]) -> bool:
    """A row of values: a number after the first piece, (a row of zeros printed as marks) two marks,
    or a lone number (a row whose other cells are blank, its label printed on the lines around it)."""
    if len(segments) == 1:
        return is_number(segments[0].text)
    values = [is_value(s.text) for s in segments[1:]]
    return len(segments) >= 2 and (any(is_number(s.text) for s in segments[1:]) or sum(values) >= 2)


def _is_lone_number(line: TextLine) -> bool:
    segments = line.segments()
    return len(segments) == 1 and is_number(segments[0].text)


def _stack_rows(rows: list[_Row], stacks: list[list[Segment]]) -> dict[int, list[list[Segment]]]:
    """Each vertical label goes to the first row whose line reaches down to the label's top."""
    starts: dict[int, list[list[Segment]]] = {}
    for stack in stacks:
        top = stack[0].top
        index = next((r for r, row in enumerate(rows) if _row_bottom(row) >= top), len(rows) - 1)
        starts.setdefault(index, []).append(stack)
    return starts


def _row_bottom(row: _Row) -> float:
    return max([row.line.bottom, *(s.bottom for s in row.before + row.after)])


def _cells(row: _Row, bands: list[Band], label_edge: float, stacks: list[list[Segment]]) -> list[GridCell | None]:
    out: list[GridCell | None] = [_cell(stack) for stack in stacks]
    if row.header:
        return out + [_cell([s]) for s in row.segments]
    labels = row.before + [s for s in row.segments if _middle(s) < label_edge] + row.after
    out.extend(_cell(column) for column in _label_columns(labels))
    numbers = [s for s in row.segments if _middle(s) >= label_edge]
    placed = _placed(bands, numbers)
    if placed is None:  # a number between two columns, or two in one: the reader places them
        return out + [_cell([s]) for s in numbers]
    for (x0, x1), band in zip(bands, placed, strict=True):
        out.append(_cell([band]) if band else GridCell("", (x0, row.line.top, x1, row.line.bottom)))
    return out


def _placed(bands: list[Band], numbers: list[Segment]) -> list[Segment | None] | None:
    """Each column's number (None where it is blank), or None when a number has no column of its own."""
    placed: list[Segment | None] = [None] * len(bands)
    for segment in numbers:
        column = column_of(bands, segment)
        if column is None or placed[column] is not None:
            return None
        placed[column] = segment
    return placed


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
