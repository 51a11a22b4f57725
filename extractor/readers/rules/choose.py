"""Choose between placements a row cannot decide alone, using the whole table's identities.

A run like '110000011' splits as 11|0|…|11 or 1|10|…|11; cells dropped from '5 5' could be
any applicant column. The column sums of table 3 usually tell which: try each row's
candidates and keep the combination that satisfies the most identities.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from extractor.confidence import PROBABLE
from extractor.readers.layout.tokens import Value
from extractor.readers.rules.cells import Cells, Placement
from schemas import RowSpec, SectionSpec, TemplateSpec

_PASSES = 3
Compiled = tuple[tuple[int, ...], tuple[int, ...]]


class HasRow(Protocol):
    @property
    def row(self) -> RowSpec: ...


class _Table:
    """Cell values by index and the identities over them, compiled once for the search."""

    def __init__(self, template: TemplateSpec, section: SectionSpec, keys: list[list[str]]) -> None:
        prefix = section.key + "."
        index: dict[str, int] = {}
        for row_keys in keys:
            for key in row_keys:
                index.setdefault(key, len(index))
        self.slots = [[index[k] for k in row_keys] for row_keys in keys]
        self.values: list[Value | None] = [None] * len(index)
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

    def score_row(self, row: int) -> int:
        return sum(self.holds(rule) for rule in self.by_row[row])


def choose_by_identities(
    template: TemplateSpec,
    section: SectionSpec,
    placed: Sequence[tuple[HasRow, Placement]],
) -> None:
    """Replace ambiguous rows' cells by the candidates that satisfy the most identities."""
    keys = [[item.row.field_key(section.key, col) for col in item.row.columns] for item, _ in placed]
    table = _Table(template, section, keys)
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
