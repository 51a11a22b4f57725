"""Cells a publisher left blank that the sums fully determine: one note for the table, not one alarm per cell.

Why: publishers often leave a whole column blank (the row totals, most often) or a few cells of a
row. Each blank breaks its row and its column, so the reconciler would blame every one of them
twice, in long reasons that differ only in their numbers, and would doubt every cell beside them
in those broken sums. When filling each blank with the one value its sums leave for it makes every
sum of the table hold, the table is consistent and the only thing to review is the publisher's
omission: the blanks are flagged once each, with the value the sums give, under one note.

Nothing is changed: a blank counts as 0, as printed (FIELDS.md), and the value the sums give is a
proposal in the cell's reason. A single blank is not a group; the engine's own rules handle it.
The words say "likely" the publisher: OCR that missed a column of faint digits looks the same.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from extractor.model import FieldValue, Number, format_number
from schemas import SumRule, TemplateSpec


@dataclass(frozen=True)
class LeftBlank:
    """A table's blanks that the sums determine: each cell → the sum that gives its value, worked out."""

    section: str
    values: dict[str, str]

    def note(self, template: TemplateSpec) -> str:
        columns = {template.column_of(k).label for k in self.values}
        rows = {k.split(".")[1] for k in self.values}
        section = template.section(self.section)
        where = f"column {columns.pop()}" if len(columns) == 1 else f"row {section.row(rows.pop()).label}"
        return (
            f"{self.section}: {len(self.values)} cells shown blank ({where}) are all determined by the sums, and "
            "with those values every sum of the table holds, so the publisher most likely left them blank — "
            f"{len(self.values)} values inferred from the sums, not read: each cell keeps its printed blank (0) "
            "and is flagged for one review"
        )

    def reason(self, key: str) -> str:
        return (
            f"shown blank, likely left so by the publisher; {self.values[key]} — "
            f"inferred, not read (one of {len(self.values)} such cells of {self.section}, see the note)"
        )


def determined_blanks(template: TemplateSpec, fields: Mapping[str, FieldValue], broken: set[str]) -> list[LeftBlank]:
    """Per section with a broken sum (`broken`: section keys), its blanks if the sums fully determine them.

    The blanks are filled one at a time: a sum with exactly one blank not yet filled gives that
    blank's value (never below zero, always whole). The section qualifies when every blank in a
    broken sum gets a value this way, at least two of them are not zero, all of those in one column
    or one row, and with the values every sum of the section that can be checked holds.
    """
    found: list[LeftBlank] = []
    for section in sorted(broken):
        rules = [r for r in template.constraints if r.cells[0].split(".", 1)[0] == section]
        group = _fill(template, rules, fields)
        if group is not None:
            found.append(LeftBlank(section, group))
    return found


def _blank(fields: Mapping[str, FieldValue], key: str) -> bool:
    cell = fields.get(key)
    return cell is not None and cell.status == "blank" and cell.value == 0


def _fill(template: TemplateSpec, rules: list[SumRule], fields: Mapping[str, FieldValue]) -> dict[str, str] | None:
    complete = [r for r in rules if all(k in fields and fields[k].value is not None for k in r.cells)]
    values: dict[str, Number] = {k: fields[k].value or 0 for r in complete for k in r.cells}
    open_blanks = {k for r in complete if not _holds(r, values) for k in r.cells if _blank(fields, k)}
    if len(open_blanks) < 2:
        return None
    pending = {k for r in complete for k in r.cells if _blank(fields, k)}
    signed = {k for k in pending if template.column_of(k).signed}
    filled: dict[str, str] = {}  # the blanks whose sums give them a value other than 0
    progress = True
    while progress:
        progress = False
        for rule in complete:
            unknown = [k for k in rule.cells if k in pending]
            if not unknown:
                continue
            if len(unknown) == 1:
                value = _needed(rule, unknown[0], values)
                if value < 0 or not float(value).is_integer():
                    return None
                values[unknown[0]] = int(value)
                if value:
                    filled[unknown[0]] = _how(rule, unknown[0], values)
            elif _zero_parts(rule, unknown, values) and not signed & set(unknown):
                values.update((k, 0) for k in unknown)  # counts are never negative: a whole of 0 leaves 0 parts
            else:
                continue
            pending.difference_update(unknown)
            progress = True
    if open_blanks & pending or len(filled) < 2 or not _one_line(filled):
        return None
    return filled if all(_holds(r, values) for r in complete) else None


def _one_line(keys: Iterable[str]) -> bool:
    """Whether the cells lie in one column or in one row. Only then is each filled from sums that
    its neighbours' own sums check: a blank row total absorbs a misread cell of its row, but that
    cell's column still adds up only if the cell is right. Blanks in several rows and columns could
    absorb a misreading between them, and the neighbours would go unflagged."""
    cells = [key.rsplit(".", 1) for key in keys]
    return len({column for _, column in cells}) == 1 or len({row for row, _ in cells}) == 1


def _how(rule: SumRule, key: str, values: Mapping[str, Number]) -> str:
    """The sum that gives `key` its value, as a reviewer checks it: its parts added up where it is the whole."""
    subject = rule.description.split(":", 1)[0]
    if rule.left == (key,):
        return f"{subject}: {'+'.join(format_number(values[k]) for k in rule.right)} = {format_number(values[key])}"
    return f"{subject} holds with {format_number(values[key])} here"


def _zero_parts(rule: SumRule, unknown: list[str], values: Mapping[str, Number]) -> bool:
    """Whether the `unknown` cells, all on one side of `rule`, must add up to 0 for it to hold."""
    for side, other in ((rule.right, rule.left), (rule.left, rule.right)):
        if all(k in side for k in unknown):
            known = sum(values[k] for k in side if k not in unknown)
            return abs(sum(values[k] for k in other) - known) < 1e-6
    return False


def _holds(rule: SumRule, values: Mapping[str, Number]) -> bool:
    return abs(sum(values[k] for k in rule.left) - sum(values[k] for k in rule.right)) < 1e-6


def _needed(rule: SumRule, key: str, values: Mapping[str, Number]) -> Number:
    """The value `key` needs for `rule` to hold, the other cells as they are."""
    left = sum(values[k] for k in rule.left if k != key)
    right = sum(values[k] for k in rule.right if k != key)
    return right - left if key in rule.left else left - right
