"""Place the values a row shows into the row's columns.

A row may show exactly its columns, fewer (empty cells dropped by the page), more (a
法人或其他组织 subtotal column) or a few long digit runs (cells run together). The row's own
identity, when it has one (总计 = sum of the others), decides between placements; when it
cannot, the most plausible placement is returned with a doubt, never silently.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from itertools import combinations, islice

from extractor.confidence import DOUBTFUL, EVEN, PROBABLE, SUSPECT, UNVERIFIED
from extractor.readers.layout.tokens import Token, Value

RowCheck = Callable[[Sequence[Value]], bool]
MAX_SPLITS = 20000
MAX_ALTERNATIVES = 40
MAX_PLACEMENTS = 400
_DECIMAL_TAIL = re.compile(r"(\.\d+)?(万元|元)?$")


@dataclass
class PlacedCell:
    value: Value
    raw: str
    span: tuple[int, int] | None
    status: str  # read | blank


Cells = list[PlacedCell | None]


@dataclass
class Placement:
    """The chosen cells of a row, the doubt that applies to them, and the other candidates.

    `alternatives` (the chosen one first) are placements the row's own identity cannot tell
    apart; the reader may pick another one using the column identities of the whole table.
    """

    cells: Cells
    note: str = ""
    doubt: str = ""
    level: float = 1.0
    alternatives: list[Cells] = field(default_factory=list)
    sums_settle: bool = False  # a wrong choice here would break a sum beyond the row
    settled: frozenset[int] = frozenset()  # columns on which every candidate agrees: the doubt spares them
    dropped: bool = False  # fewer values than columns: which columns they belong to is a guess
    complete: bool = True  # `alternatives` holds every candidate the row's identity admits


def _cell(token: Token) -> PlacedCell:
    if token.kind == "num" and token.value is not None:
        return PlacedCell(token.value, token.text, (token.start, token.end), "read")
    return PlacedCell(0, token.text, (token.start, token.end), "blank")


def _dropped(span: tuple[int, int] | None) -> PlacedCell:
    return PlacedCell(0, "", span, "blank")


Segment = tuple[int, RowCheck | None]
Piece = tuple[Value, str, int, int, str]  # value, raw text, span start, span end, status


def split_run_together(tokens: Sequence[Token], segments: Sequence[Segment]) -> list[list[PlacedCell]]:
    """Every way to cut glued digit runs into cells such that each row's identity holds.

    A glued token may be cut between any two digits (no piece with a leading zero); other
    tokens are one cell each. `segments` are consecutive rows (width, check) sharing the stream
    (table 4 prints its three groups as one run); each row is checked as soon as it is complete,
    which keeps the search small.
    """
    texts = [t.text.lstrip("+-") if t.glued else t.text for t in tokens]
    signs = [t.text[: len(t.text) - len(texts[i])] if t.glued else "" for i, t in enumerate(tokens)]
    # a decimal run ('13575394432.52元') may hide integer cells before it: split the integer part
    tails = [
        _DECIMAL_TAIL.search(text).group(0) if t.glued and _DECIMAL_TAIL.search(text) else ""  # type: ignore[union-attr]
        for t, text in zip(tokens, texts, strict=True)
    ]
    texts = [text[: len(text) - len(tail)] if tail else text for text, tail in zip(texts, tails, strict=True)]
    splittable = [t.glued and texts[i].isdecimal() for i, t in enumerate(tokens)]
    total = sum(width for width, _ in segments)
    found: list[list[Piece]] = []
    budget = [MAX_SPLITS]
    # most cells the tokens from k on can still give: every digit of a glued run, one per other token
    after = [0] * (len(tokens) + 1)
    for k in range(len(tokens) - 1, -1, -1):
        after[k] = after[k + 1] + (len(texts[k]) if splittable[k] else 1)
    pieces: dict[tuple[int, int, int], Piece] = {}

    def piece(index: int, offset: int, end: int) -> Piece:
        """The cell cut from token `index` between two digit offsets (cached: branches share them)."""
        cached = pieces.get((index, offset, end))
        if cached is None:
            text, sign, tail, start = texts[index], signs[index], tails[index], tokens[index].start
            first, last = offset == 0, end == len(text)
            digits = text[offset:end]
            number = digits + (tail.split("万")[0].rstrip("元") if last else "")
            value: Value = Decimal(number) if "." in number else int(number)
            if first and sign.startswith("-"):
                value = -value
            raw = (sign if first else "") + digits + (tail if last else "")
            begin = start + (0 if first else len(sign) + offset)
            cached = pieces[(index, offset, end)] = (value, raw, begin, begin + len(raw), "read")
        return cached

    def rec(index: int, offset: int, cells: list[Piece], seg: int, seg_start: int) -> None:
        budget[0] -= 1
        if budget[0] < 0:
            return
        if seg < len(segments) and len(cells) - seg_start == segments[seg][0]:
            check = segments[seg][1]
            if check is not None and not check([c[0] for c in cells[seg_start:]]):
                return
            rec(index, offset, cells, seg + 1, len(cells))
            return
        if index == len(tokens):
            if seg == len(segments):
                found.append(list(cells))
            return
        need = total - len(cells)
        most = after[index] - (offset if splittable[index] else 0)
        if need <= 0 or len(tokens) - index > need or most < need:
            return
        token = tokens[index]
        if not splittable[index]:
            status = "read" if token.kind == "num" else "blank"
            cells.append((token.value or 0, token.text, token.start, token.end, status))
            rec(index + 1, 0, cells, seg, seg_start)
            cells.pop()
            return
        text = texts[index]
        # leave enough digits for the cells still needed after this one
        last_end = min(len(text), len(text) + after[index + 1] - (need - 1))
        ends = [offset + 1] if text[offset] == "0" else range(offset + 1, last_end + 1)
        for end in ends:
            cells.append(piece(index, offset, end))
            if end == len(text):
                rec(index + 1, 0, cells, seg, seg_start)
            else:
                rec(index, end, cells, seg, seg_start)
            cells.pop()

    rec(0, 0, [], 0, 0)
    return [[PlacedCell(value, raw, (start, stop), status) for value, raw, start, stop, status in f] for f in found]


def _plausibility(cells: Sequence[PlacedCell]) -> tuple[int, int]:
    """Rank splits no identity decides: tables are mostly zeros, and digit counts vary little."""
    zeros = sum(1 for c in cells if c.value == 0)
    lengths = [len(c.raw.lstrip("+-")) for c in cells]
    return (-zeros, max(lengths) - min(lengths))


def place_row(
    tokens: Sequence[Token],
    width: int,
    check: RowCheck | None,
    label: str,
    segments: Sequence[Segment] | None = None,
    signed: Sequence[bool] | None = None,
    subtotals: bool = False,
) -> Placement:
    """Map a row's value tokens (num/blank/empty, in order) onto `width` columns.

    `segments` splits the width into sub-rows with their own identities (table 4's groups);
    `signed` says which columns may hold a negative number (a split may not put one elsewhere);
    `subtotals` whether the table may print a subtotal column that is not a field.
    """
    values = [t for t in tokens if t.kind in ("num", "blank")]
    if len(values) == width:
        return Placement([_cell(t) for t in values])
    if len(values) > width:
        return _too_many(values, width, check, label, subtotals)
    if len(values) == 1 and not values[0].in_cell and values[0].text.isdecimal() and len(values[0].text) >= width > 1:
        values = [replace(values[0], glued=True)]
    placement = _split(values, width, check, label, segments, signed)
    if placement is None and check is not None and sum(len(t.text) for t in values) >= width:
        # spaces in the wrong places ('30 0 0 0 03' for 3|0|0|0|0|0|3): re-cut free-text digits
        loose = [
            replace(t, glued=True) if t.kind == "num" and not t.in_cell and t.text.isdecimal() else t for t in values
        ]
        placement = _split(loose, width, check, label, segments, signed)
        # as many digits as cells ('10 0 1 200 …' for 15 one-digit cells): no other cut exists
        one_digit_each = sum(len(t.text) for t in values) == width and all(t.text.isdecimal() for t in values)
        if placement is not None and not placement.doubt and not one_digit_each:
            placement.doubt = f"{label}: digits re-cut across misplaced spaces to fit the row sum"
            placement.level = PROBABLE
            placement.sums_settle = True
    if placement is not None:
        return placement
    with_empty = _trim_empty([t for t in tokens if t.kind in ("num", "blank", "empty")], width)
    if len(with_empty) == width:
        return Placement([_cell(t) for t in with_empty])
    return _dropped_cells(values, width, check, label, segments)


def _split(
    values: list[Token],
    width: int,
    check: RowCheck | None,
    label: str,
    segments: Sequence[Segment] | None,
    signed: Sequence[bool] | None,
) -> Placement | None:
    if not any(t.glued for t in values):
        return None
    options = split_run_together(values, segments or [(width, check)])
    if signed is not None:
        options = [o for o in options if all(c.value >= 0 or ok for c, ok in zip(o, signed, strict=False))]
    if len(options) == 1:
        if check is not None or all(t.text.startswith("0") for t in values if t.glued):
            note = f"{label}: cells run together, split by the row sum" if check else ""
            return Placement(list(options[0]), note)
        reason = (
            f"{label}: '{' '.join(t.text for t in values)}' read as {'|'.join(c.raw for c in options[0])}; "
            "no sum can confirm where one cell ends"
        )
        return Placement(list(options[0]), reason, reason, EVEN)
    if not options:
        return None
    ranked: list[Cells] = [list(o) for o in sorted(options, key=_plausibility)[:MAX_ALTERNATIVES]]
    shown = "; ".join("|".join(c.raw for c in o if c) for o in ranked[:4])
    reason = f"cells run together in '{''.join(t.text for t in values)}': {len(options)} splits fit ({shown}…)"
    settled = _agreeing(ranked) if len(options) <= MAX_ALTERNATIVES else frozenset()
    complete = len(options) <= MAX_ALTERNATIVES
    return Placement(ranked[0], reason, reason, SUSPECT, ranked, settled=settled, complete=complete)


def _agreeing(candidates: Sequence[Cells]) -> frozenset[int]:
    """Columns whose value is the same in every candidate (e.g. the total of a row whose applicant
    cells were dropped): whichever candidate is right, these cells are."""
    first = candidates[0]
    return frozenset(
        i for i, cell in enumerate(first)
        if cell is not None and all(c[i] is not None and c[i].value == cell.value for c in candidates[1:])  # type: ignore[union-attr]
    )  # fmt: skip


def _trim_empty(tokens: list[Token], width: int) -> list[Token]:
    while len(tokens) > width and tokens and tokens[-1].kind == "empty":
        tokens = tokens[:-1]
    while len(tokens) > width and tokens and tokens[0].kind == "empty":
        tokens = tokens[1:]
    return tokens


def _too_many(values: list[Token], width: int, check: RowCheck | None, label: str, allow_subtotal: bool) -> Placement:
    """One value too many: a subtotal column (法人或其他组织 小计) printed beside the fields.

    The extra cell is the one that equals the sum of the cells next to it; where several could
    be, the one that leaves the row's identity true wins. A row breaking its identity keeps its
    numbers (the reconciler flags it); the subtotal is never mistaken for the printed total.
    """
    if allow_subtotal and len(values) == width + 1:
        numbers = [t.value or 0 for t in values]
        subtotals = [k for k in range(1, len(values) - 1) if _is_subtotal(numbers, k)]
        passing = [k for k in subtotals if check is not None and check(numbers[:k] + numbers[k + 1 :])]
        skip = next(iter(passing or subtotals), None)
        if skip is not None:
            note = f"{label}: a subtotal cell '{values[skip].text}' that is not a field was skipped"
            placement = Placement([_cell(t) for t in values[:skip] + values[skip + 1 :]], note)
            outcomes = {tuple(numbers[:k] + numbers[k + 1 :]) for k in (passing or subtotals)}
            if not passing or len(outcomes) > 1:
                placement.doubt, placement.level = note, UNVERIFIED
            if passing and len(outcomes) > 1:
                # '0 2 0 0 0 2 0 2': either 2 may be the subtotal; the table's column sums may tell which
                placement.alternatives = [placement.cells] + [
                    [_cell(t) for t in values[:k] + values[k + 1 :]] for k in passing if k != skip
                ]
                placement.settled = _agreeing(placement.alternatives)
            return placement
    cells: Cells = [_cell(t) for t in values[:width]]
    reason = f"{label}: {len(values)} values for {width} columns; extra values not placed"
    return Placement(cells, reason, reason, DOUBTFUL)


def _is_subtotal(numbers: list[Value], k: int, block: int = 5) -> bool:
    """numbers[k] is the sum of the `block` cells after it, or of those before it."""
    after = numbers[k + 1 : k + 1 + block]
    before = numbers[max(0, k - block) : k]
    return (len(after) == block and numbers[k] == sum(after)) or (len(before) == block and numbers[k] == sum(before))


def _dropped_cells(
    values: list[Token], width: int, check: RowCheck | None, label: str, segments: Sequence[Segment] | None = None
) -> Placement:
    """Fewer values than columns: empty cells were dropped. Use the row identities to place them."""
    shown = len(values)
    if shown == 0:
        return Placement([None] * width, "")
    fits: list[tuple[int, ...]] = []
    if check is not None or segments:
        fits = list(islice(_fits(values, segments or [(width, check)]), MAX_PLACEMENTS))
    default = (*range(shown - 1), width - 1)
    order = ([default] if default in fits or not fits else []) + [f for f in fits if f != default]
    span = (values[0].start, values[-1].end)
    candidates = [_place_at(positions, values, width, span) for positions in order[:MAX_ALTERNATIVES]]
    complete = bool(fits) and len(fits) < MAX_PLACEMENTS and len(order) <= MAX_ALTERNATIVES
    if len(fits) == 1 and shown > 1 and all(v.value for v in values):
        reason = f"{label}: {shown} of {width} cells shown; placed by the row sum"
        level = PROBABLE
    else:
        reason = f"{label}: only {shown} of {width} cells shown (empty cells dropped); placement uncertain"
        level = DOUBTFUL
    settled = _agreeing(candidates) if complete else frozenset()
    return Placement(candidates[0], reason, reason, level, candidates, settled=settled, dropped=True, complete=complete)


def _fits(values: list[Token], segments: Sequence[Segment]) -> Iterator[tuple[int, ...]]:
    """Positions for the shown values (kept in order) such that each row's identity holds."""

    def rec(seg: int, first: int) -> Iterator[tuple[int, ...]]:
        if seg == len(segments):
            if first == len(values):
                yield ()
            return
        width, check = segments[seg]
        offset = sum(w for w, _ in segments[:seg])
        capacity = sum(w for w, _ in segments[seg + 1 :])
        for take in range(min(width, len(values) - first) + 1):
            if len(values) - first - take > capacity:
                continue
            chunk = values[first : first + take]
            for positions in combinations(range(width), take):
                row: list[Value] = [0] * width
                for pos, token in zip(positions, chunk, strict=True):
                    row[pos] = token.value or 0
                if check is None or check(row):
                    for rest in rec(seg + 1, first + take):
                        yield tuple(offset + p for p in positions) + rest

    yield from rec(0, 0)


def _place_at(positions: tuple[int, ...], values: list[Token], width: int, span: tuple[int, int]) -> Cells:
    placed: Cells = [None] * width
    for pos, token in zip(positions, values, strict=True):
        placed[pos] = _cell(token)
    return [cell if cell is not None else _dropped(span) for cell in placed]
