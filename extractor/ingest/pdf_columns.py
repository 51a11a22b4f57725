"""The columns of a table printed without ruling lines: where its header words and numbers stand.

Numbers alone miss a column that holds none (a report printing its zeros as empty cells leaves
whole columns blank), so the header counts too: every column has a header word at the header's
lowest level (自然人, 商业企业 … 总计), and a header cell printed over several columns
(申请人情况, 法人或其他组织) is told by the header words of other lines standing under it.
The header over the row labels (信息内容) is not a column of values: it stands over the labels.
"""

from __future__ import annotations

from extractor.ingest.pdf_text import WORD_GAP_EMS, Segment, TextLine

Band = tuple[float, float]


def header_leaves(header: list[TextLine]) -> list[Segment]:
    """The header's lowest-level words: those with no header word printed under them.

    A header cell over several columns (申请人情况) has its columns' words under it, and the first
    line of a wrapped header cell (商业企 over 业) the rest of it: the lowest piece marks the column.
    Lines are cut at word gaps, not cell gaps: two narrow columns' header words printed close
    (`商业企 科研机`) are two words."""
    pieces = [(i, s) for i, line in enumerate(header) for s in line.segments(WORD_GAP_EMS)]
    return [
        piece
        for i, piece in pieces
        if not any(j > i and min(piece.x1, s.x1) - max(piece.x0, s.x0) > 1 for j, s in pieces)
    ]


def merged_spans(spans: list[Band]) -> list[Band]:
    """Overlapping extents merged, left to right."""
    bands: list[Band] = []
    for x0, x1 in sorted(spans):
        if bands and x0 <= bands[-1][1] + 1:
            bands[-1] = (bands[-1][0], max(bands[-1][1], x1))
        else:
            bands.append((x0, x1))
    return bands


def value_columns(leaves: list[Segment], values: list[Segment], labels: list[Segment]) -> list[Band]:
    """The table's columns of values, left to right.

    A header column with no number under it is a column of values unless it stands over the row
    labels: left of the labels' right edge, or nearer the labels' start than the next column.
    """
    header = merged_spans([(s.x0, s.x1) for s in leaves])
    value_spans = [(s.x0, s.x1) for s in values]
    if labels:
        start = min(s.x0 for s in labels)
        end = max(s.x1 for s in labels)
        size = max(s.size for s in labels)
        first = True
        while header:
            x0, x1 = header[0]
            holds_values = any(min(x1, b) > max(x0, a) for a, b in value_spans)
            next_x0 = header[1][0] if len(header) > 1 else float("inf")
            over_labels = x1 <= end + size or (first and x0 < start + 0.5 * (next_x0 - start))
            if holds_values or not over_labels:
                break
            header.pop(0)
            first = False
    if not header:
        return merged_spans(value_spans)
    # each header column widened by the numbers printed in it; a number in no header column makes
    # no column of its own (it is placed, or left unplaced, by `column_of`)
    bands = merged_spans(header)
    for _ in range(len(value_spans)):
        widened = [
            (min([a, *(x0 for x0, x1 in value_spans if min(b, x1) - max(a, x0) > 0.5)]),
             max([b, *(x1 for x0, x1 in value_spans if min(b, x1) - max(a, x0) > 0.5)]))
            for a, b in bands
        ]  # fmt: skip
        if widened == bands:
            break
        bands = widened
    return bands


def column_of(bands: list[Band], segment: Segment) -> int | None:
    """The one column a number stands in: the band it overlaps, or the band clearly nearest to it
    (less than half as far as the next); None when it overlaps two or stands between two."""
    hits = overlapped(bands, segment)
    if hits:
        return hits[0] if len(hits) == 1 else None
    distances = sorted((max(x0 - segment.x1, segment.x0 - x1), i) for i, (x0, x1) in enumerate(bands))
    if len(distances) == 1 or distances[0][0] <= 0.5 * distances[1][0]:
        return distances[0][1]
    return None


def overlapped(bands: list[Band], segment: Segment) -> list[int]:
    """The bands a segment overlaps (by more than a sliver)."""
    return [
        i
        for i, (x0, x1) in enumerate(bands)
        if min(x1, segment.x1) - max(x0, segment.x0) > 0.5 or (x0 <= _middle(segment) <= x1)
    ]


def _middle(segment: Segment) -> float:
    return (segment.x0 + segment.x1) / 2
