"""Choose between placements a row cannot decide alone, using the whole table's identities.

A run like '110000011' splits as 11|0|…|11 or 1|10|…|11; cells dropped from '5 5' could be
any applicant column. The column sums of table 3 usually tell which: try each row's
candidates and keep the combination that satisfies the most identities.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Protocol

from extractor.confidence import PROBABLE
from extractor.readers.layout.tokens import Value
from extractor.readers.rules.cells import Cells, Placement
from schemas import RowSpec, SectionSpec, TemplateSpec

_PASSES = 3
Compiled = tuple[tuple[int, ...], tuple[int, ...]]
# The search for every reading of the whole table stops here (and settles nothing) on tables it
# cannot finish quickly; real tables finish in a few hundred steps.
_STEP_LIMIT = 20000
_READING_LIMIT = 200
# A row that counts this many requests is not read as one in which the usual column (自然人) is empty
_PRIOR_FROM = 10


class HasRow(Protocol):
    @property
    def row(self) -> RowSpec: ...


class _Table:
    """Cell values by index and the identities over them, compiled once for the search."""

    def __init__(
        self, template: TemplateSpec, section: SectionSpec, keys: list[list[str]], zeros: Collection[str] = ()
    ) -> None:
        prefix = section.key + "."
        index: dict[str, int] = {}
        for row_keys in keys:
            for key in row_keys:
                index.setdefault(key, len(index))
        self.slots = [[index[k] for k in row_keys] for row_keys in keys]
        for key in zeros:  # rows printed with no values: 0 in every reading, so the column sums still count
            index.setdefault(key, len(index))
        self.values: list[Value | None] = [None] * len(index)
        for key in zeros:
            self.values[index[key]] = 0
        rules = [r for r in template.constraints if all(k.startswith(prefix) for k in r.cells)]
        self.rules: list[Compiled] = [
            (tuple(index[k] for k in r.left), tuple(index[k] for k in r.right))
            for r in rules
            if all(k in index for k in r.cells)
        ]
        self.by_row: list[list[int]] = [
            [n for n, (left, right) in enumerate(self.rules) if set(slots) & set(left + right)] for slots in self.slots
        ]

    def set_row(self, row: int, cells: Cells) -> None:
        for slot, cell in zip(self.slots[row], cells, strict=False):
            self.values[slot] = cell.value if cell is not None else None

    def holds(self, rule: int) -> bool:
        left, right = self.rules[rule]
        values = self.values
        if any(values[i] is None for i in left + right):
            return False
        return sum(values[i] for i in left) == sum(values[i] for i in right)  # type: ignore[misc]

    def checkable(self, rule: int) -> bool:
        left, right = self.rules[rule]
        return all(self.values[i] is not None for i in left + right)

    def score_row(self, row: int) -> int:
        return sum(self.holds(rule) for rule in self.by_row[row])


def choose_by_identities(
    template: TemplateSpec,
    section: SectionSpec,
    placed: Sequence[tuple[HasRow, Placement]],
    zeros: Collection[str] = (),
    settle: bool = True,
) -> None:
    """Replace ambiguous rows' cells by the candidates that satisfy the most identities (`zeros`: the
    keys of rows printed with no values, 0 whatever the other rows' placement); `settle`: mark the cells
    every plausible reading of the table agrees on (not where the rows may have lost values)."""
    keys = [[item.row.field_key(section.key, col) for col in item.row.columns] for item, _ in placed]
    table = _Table(template, section, keys, zeros)
    for row, (_, placement) in enumerate(placed):
        table.set_row(row, placement.cells)
    ambiguous = [i for i, (_, p) in enumerate(placed) if len(p.alternatives) > 1]
    for _ in range(_PASSES):
        improved = False
        for row in ambiguous:
            placement = placed[row][1]
            best = table.score_row(row)
            for candidate in placement.alternatives:
                if candidate is placement.cells:
                    continue
                table.set_row(row, candidate)
                score = table.score_row(row)
                if score > best:
                    best, placement.cells, improved = score, candidate, True
                table.set_row(row, placement.cells)
        if not improved:
            break
    for row in ambiguous:
        placement = placed[row][1]
        best = table.score_row(row)
        ties = 0
        for candidate in placement.alternatives:
            table.set_row(row, candidate)
            ties += table.score_row(row) == best
        table.set_row(row, placement.cells)
        if ties == 1 and best == len(table.by_row[row]):
            placement.doubt = f"{placement.doubt}; chosen as the only candidate that satisfies the table's sums"
            placement.level = max(placement.level, PROBABLE)
            # a split that alone fits the column sums is settled by them; dropped cells are not, since
            # shifting every row's cells into the same other column leaves every sum holding
            placement.sums_settle = placement.sums_settle or not placement.dropped
    if settle:
        _settle_by_table(table, section, placed)


class _GiveUp(Exception):
    pass


def _settle_by_table(table: _Table, section: SectionSpec, placed: Sequence[tuple[HasRow, Placement]]) -> None:
    """Mark the cells that every plausible reading of the whole table gives one value as settled.

    One row's identity leaves '3 3' in any applicant column; the column sums usually leave only
    readings that shift every row's values into other columns together. Here every combination of
    the rows' candidates that keeps each sum the chosen reading satisfies is found. Readings that
    leave the usual column (自然人) empty in a row that counts many requests are dropped as
    implausible; a cell on which all remaining readings agree is no longer a guess. Tables with
    signed columns, or rows whose candidates were cut short, are left as they are.
    """
    rows = [p for _, p in placed]
    if any(not p.complete for p in rows if len(p.alternatives) > 1):
        return
    if any(col.signed for item, _ in placed for col in item.row.columns):
        return
    choices = [p.alternatives if len(p.alternatives) > 1 else [p.cells] for p in rows]
    holding = [rule for rule in range(len(table.rules)) if table.holds(rule)]
    checkable = [rule for rule in range(len(table.rules)) if table.checkable(rule)]
    usual = [[i for i, col in enumerate(item.row.columns) if col.key == section.usual_column] for item, _ in placed]
    # the row-by-row choice may have stopped at a reading that breaks a sum one that holds them all avoids
    readings = _readings(table, choices, checkable) if len(checkable) > len(holding) else None
    if not readings:
        readings = _readings(table, choices, holding)
    if readings is None:
        return
    plausible = [r for r in readings if _plausible(r, choices, usual)]
    picked = [next((i for i, c in enumerate(choices[row]) if c is p.cells), None) for row, p in enumerate(rows)]
    if None in picked:
        return  # a row's chosen cells are none of its candidates: nothing to compare
    chosen = tuple(i for i in picked if i is not None)
    if chosen not in plausible:
        if not plausible or chosen in readings:
            return  # the reader's own choice is the implausible one: keep every doubt
        for row, placement in enumerate(rows):  # a reading that holds every sum the chosen one broke
            placement.cells = choices[row][plausible[0][row]]
    for row, placement in enumerate(rows):
        if len(choices[row]) < 2:
            continue
        width = len(placement.cells)
        agreed = {i for i in range(width) if len({_value(choices[row][reading[row]], i) for reading in plausible}) == 1}
        placement.settled = placement.settled | frozenset(agreed)


def _value(cells: Cells, i: int) -> Value | None:
    cell = cells[i] if i < len(cells) else None
    return cell.value if cell is not None else None


def _plausible(reading: tuple[int, ...], choices: list[list[Cells]], usual: list[list[int]]) -> bool:
    """No row that counts many requests leaves the usual column (自然人) empty."""
    for row, choice in enumerate(reading):
        cells = choices[row][choice]
        if not usual[row] or max((_value(cells, i) or 0 for i in range(len(cells))), default=0) < _PRIOR_FROM:
            continue
        if not any(_value(cells, i) for i in usual[row]):
            return False
    return True


def _readings(table: _Table, choices: list[list[Cells]], enforced: list[int]) -> list[tuple[int, ...]] | None:
    """Every combination of row candidates that satisfies the enforced sums (None: too many to know).

    Rows that stand alone on one side of a sum (the 总计 row) are set first, so that a running
    total can stop a branch early: counts are never negative, so parts may not exceed their whole.
    """
    slots_row = {slot: row for row, slots in enumerate(table.slots) for slot in slots}
    fixed = -1  # the row of slots that never change (rows printed with no values), set before any other
    slots_row.update((slot, fixed) for slot in range(len(table.values)) if slot not in slots_row)
    wholes = {
        slots_row[left[0]]
        for left, right in (table.rules[n] for n in enforced)
        if len(left) == 1 and any(slots_row[s] != slots_row[left[0]] for s in right)
    }
    order = sorted(range(len(choices)), key=lambda r: (r not in wholes, len(choices[r])))
    position = {row: depth for depth, row in enumerate(order)}
    position[fixed] = -1
    # each slot's least and greatest value over its row's candidates: a sum whose sides can no
    # longer meet, whatever the rows still open hold, ends the branch
    low: list[Value] = [0] * len(table.values)
    high: list[Value] = [0] * len(table.values)
    for row, cands in enumerate(choices):
        for i, slot in enumerate(table.slots[row]):
            options = [_value(cells, i) or 0 for cells in cands]
            low[slot], high[slot] = min(options), max(options)
    for slot, row in slots_row.items():
        if row == fixed:
            low[slot] = high[slot] = table.values[slot] or 0
    live: list[list[int]] = [[] for _ in order]
    for n in enforced:
        left, right = table.rules[n]
        depths = [position[slots_row[s]] for s in left + right]
        for depth in range(max(0, min(depths)), len(order)):
            live[depth].append(n)
    found: list[tuple[int, ...]] = []
    pick = [0] * len(choices)
    steps = 0

    def side(slots: tuple[int, ...], depth: int) -> tuple[Value, Value]:
        lo: Value = 0
        hi: Value = 0
        for slot in slots:
            if position[slots_row[slot]] <= depth:
                value = table.values[slot] or 0
                lo, hi = lo + value, hi + value
            else:
                lo, hi = lo + low[slot], hi + high[slot]
        return lo, hi

    def fits(depth: int) -> bool:
        for n in live[depth]:
            left, right = table.rules[n]
            (left_lo, left_hi), (right_lo, right_hi) = side(left, depth), side(right, depth)
            if left_lo > right_hi or right_lo > left_hi:
                return False
        return True

    def walk(depth: int) -> None:
        nonlocal steps
        if depth == len(order):
            found.append(tuple(pick))
            if len(found) > _READING_LIMIT:
                raise _GiveUp
            return
        row = order[depth]
        for index, cells in enumerate(choices[row]):
            steps += 1
            if steps > _STEP_LIMIT:
                raise _GiveUp
            table.set_row(row, cells)
            if fits(depth):
                pick[row] = index
                walk(depth + 1)

    saved = list(table.values)
    try:
        walk(0)
    except _GiveUp:
        return None
    finally:
        table.values = saved
    return found
