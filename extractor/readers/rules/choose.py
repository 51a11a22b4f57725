"""Choose between placements a row cannot decide alone, using the whole table's identities.

A run like '110000011' splits as 11|0|…|11 or 1|10|…|11; cells dropped from '5 5' could be
any applicant column. The column sums of table 3 usually tell which: try each row's
candidates and keep the combination that satisfies the most identities.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Protocol

from extractor.model import FieldValue
from extractor.readers.rules.cells import Cells, Placement
from schemas import RowSpec, SectionSpec, SumRule, TemplateSpec

_PASSES = 3


class HasRow(Protocol):
    @property
    def row(self) -> RowSpec: ...


def _keys(section: SectionSpec, row: RowSpec) -> list[str]:
    return [row.field_key(section.key, col) for col in row.columns]


def _satisfied(rules: Sequence[SumRule], values: dict[str, Decimal]) -> int:
    count = 0
    for rule in rules:
        try:
            left = sum((values[k] for k in rule.left), Decimal(0))
            right = sum((values[k] for k in rule.right), Decimal(0))
        except KeyError:
            continue
        count += left == right
    return count


def _assign(values: dict[str, Decimal], keys: list[str], cells: Cells) -> None:
    for key, cell in zip(keys, cells, strict=False):
        if cell is not None:
            values[key] = cell.value


def choose_by_identities(
    template: TemplateSpec,
    section: SectionSpec,
    placed: Sequence[tuple[HasRow, Placement]],
    fixed: Sequence[FieldValue] = (),
) -> None:
    """Replace ambiguous rows' cells by the candidates that satisfy the most identities."""
    prefix = section.key + "."
    rules = [r for r in template.constraints if all(k.startswith(prefix) for k in r.cells())]
    values: dict[str, Decimal] = {f.key: Decimal(str(f.value)) for f in fixed if f.value is not None}
    keys = [_keys(section, item.row) for item, _ in placed]
    for row_keys, (_, placement) in zip(keys, placed, strict=True):
        _assign(values, row_keys, placement.cells)
    ambiguous = [i for i, (_, p) in enumerate(placed) if len(p.alternatives) > 1]
    best_score = _satisfied(rules, values)
    for _ in range(_PASSES):
        improved = False
        for index in ambiguous:
            placement = placed[index][1]
            for candidate in placement.alternatives:
                if candidate is placement.cells:
                    continue
                trial = dict(values)
                _assign(trial, keys[index], candidate)
                score = _satisfied(rules, trial)
                if score > best_score:
                    best_score, values, placement.cells, improved = score, trial, candidate, True
        if not improved:
            break
    for index in ambiguous:
        placement = placed[index][1]
        ties = 0
        for candidate in placement.alternatives:
            trial = dict(values)
            _assign(trial, keys[index], candidate)
            ties += _satisfied(rules, trial) == best_score
        if ties == 1 and best_score == len([r for r in rules if all(k in values for k in r.cells())]):
            placement.doubt = f"{placement.doubt}; chosen as the only candidate that satisfies the table's sums"
            placement.level = max(placement.level, 0.85)
