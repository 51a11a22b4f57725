"""The constraint engine.

It evaluates the template's identities (schemas/), points at the cell most likely at fault
(the one that breaks the most identities, e.g. both its row and its column), proposes values
for cells the document leaves blank or does not show when the identities determine them, and
says which failures look like reading errors and which like the publisher's own.
It knows no reader: it sees only field values and their provenance.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from extractor.confidence import CHECKED, EVEN, IN_BROKEN_SUM, SUSPECT, UNVERIFIED
from extractor.model import FieldValue, Number, format_number
from extractor.reconcile.left_blank import determined_blanks
from extractor.reconcile.proposals import proposal
from schemas import SumRule, TemplateSpec


@dataclass(frozen=True)
class RuleOutcome:
    rule: SumRule
    left: Number
    right: Number
    ok: bool
    message: str


def _subject(rule: SumRule) -> str:
    return rule.description.split(":", 1)[0]


def _message(rule: SumRule, values: Mapping[str, Number]) -> str:
    left = [values[k] for k in rule.left]
    right = [values[k] for k in rule.right]
    right_sum = f"{'+'.join(format_number(v) for v in right)} = {format_number(sum(right))}"
    if len(rule.left) == 1:
        return f"{_subject(rule)}: {right_sum}, table says {format_number(left[0])}"
    left_sum = f"{'+'.join(format_number(v) for v in left)} = {format_number(sum(left))}"
    return f"{_subject(rule)}: {left_sum} but {right_sum}"


def _close(a: Number, b: Number) -> bool:
    return abs(a - b) < 1e-6


def evaluate(rules: Iterable[SumRule], values: Mapping[str, Number]) -> list[RuleOutcome]:
    """Outcome of every rule whose cells all have values; rules with a gap are skipped."""
    out = []
    for rule in rules:
        try:
            left = sum([values[k] for k in rule.left])
            right = sum([values[k] for k in rule.right])
        except KeyError:
            continue
        ok = _close(left, right)
        out.append(RuleOutcome(rule, left, right, ok, "" if ok else _message(rule, values)))
    return out


def _values(fields: Mapping[str, FieldValue]) -> dict[str, Number]:
    return {k: f.value for k, f in fields.items() if f.value is not None}


def _fix_blanks(template: TemplateSpec, fields: dict[str, FieldValue], failed: list[RuleOutcome]) -> None:
    """A cell shown blank that alone breaks every sum it is in, all agreeing on one value: propose it.

    This is how a value displaced by a converter (the cell empty, the number printed elsewhere)
    is recovered; it is marked inferred and flagged, never passed off as read.
    """
    failing: dict[str, list[RuleOutcome]] = {}
    for outcome in failed:
        for key in outcome.rule.cells:
            failing.setdefault(key, []).append(outcome)
    for key, outcomes in failing.items():
        cell = fields.get(key)
        if cell is None or cell.status != "blank" or cell.value != 0:
            continue
        complete = [r for r in template.constraints if key in r.cells and _complete(r, fields)]
        rivals = {k for o in outcomes for k in o.rule.cells if k != key and fields[k].status == "blank"}
        if len(outcomes) != len(complete) or any(len(failing.get(k, [])) >= len(outcomes) for k in rivals):
            continue
        proposals = {_needed(o, key) for o in outcomes}
        value = proposals.pop() if len(proposals) == 1 else 0
        if value > 0 and float(value).is_integer():
            cell.value = int(value)
            cell.status = "inferred"
            cell.doubt(
                f"the document shows this cell blank ('{cell.raw}'); its sums imply {format_number(int(value))} "
                "(a displaced or lost value) — inferred, not read",
                EVEN,
            )


def _complete(rule: SumRule, fields: Mapping[str, FieldValue]) -> bool:
    return all(k in fields and fields[k].value is not None for k in rule.cells)


def _needed(outcome: RuleOutcome, key: str) -> Number:
    """The value `key` would need for this rule to hold, the other cells unchanged."""
    current = 0
    diff = outcome.right - outcome.left
    if key in outcome.rule.left:
        return current + diff
    return current - diff


def _infer_missing(template: TemplateSpec, fields: dict[str, FieldValue]) -> None:
    """A cell the document does not show but an identity determines: proposed, always flagged."""
    changed = True
    while changed:
        changed = False
        for rule in template.constraints:
            gaps = [k for k in rule.cells if k not in fields or fields[k].value is None]
            if len(gaps) != 1:
                continue
            key = gaps[0]
            if key not in fields:
                continue
            values = {k: fields[k].value for k in rule.cells if k != key}
            left = sum(v for k, v in values.items() if k in rule.left and v is not None)
            right = sum(v for k, v in values.items() if k in rule.right and v is not None)
            value = right - left if key in rule.left else left - right
            if value < 0 or not float(value).is_integer():
                continue
            cell = fields[key]
            cell.value = int(value)
            cell.status = "inferred"
            cell.reasons.clear()
            cell.doubt(f"not shown in the document; inferred from {_subject(rule)} = {int(value)}", EVEN)
            changed = True


def reconcile(
    template: TemplateSpec, fields: dict[str, FieldValue], verify: Collection[str] = (), notes: list[str] | None = None
) -> list[RuleOutcome]:
    """Flag broken identities on the cells most likely at fault; returns every outcome.

    Values from the sources in `verify` (e.g. an LLM) must be confirmed by a sum: one that sits
    in sums but in none that could be checked (other cells missing) is flagged as unverified.
    What concerns a table as a whole (blanks the sums determine) goes to `notes`.
    """
    outcomes = evaluate(template.constraints, _values(fields))
    failed = [o for o in outcomes if not o.ok]
    if failed:
        _fix_blanks(template, fields, failed)
        outcomes = evaluate(template.constraints, _values(fields))
        failed = [o for o in outcomes if not o.ok]
        failed = _left_blank(template, fields, failed, notes)
    blame = Counter(k for o in failed for k in o.rule.cells)
    clean = {k for k in blame if not fields[k].reasons}
    lone = _lone_culprits(failed)
    rows = _lone_rows(failed, outcomes, fields, set(lone))
    confirmed = _confirmed(outcomes, blame, clean)
    offered: set[str] = set()  # cells whose proposed value is already in a reason
    for index, outcome in enumerate(failed):
        if index in lone:
            key = lone[index]
            cell = fields[key]
            offer = "" if key in offered else proposal(cell.value, cell.raw, _needed(outcome, key))
            offered.add(key)
            cell.doubt(f"{outcome.message} — {_origin(cell, blame[key], key in clean)}{offer}", SUSPECT)
            continue
        if index in rows:
            for key, change in rows[index]:
                fields[key].doubt(f"{outcome.message} — {_row_origin(fields[key], change, rows[index])}", SUSPECT)
            continue
        # a cell that another sum confirms did not break this one; if every cell is confirmed, the
        # confirmations contradict each other (two errors that cancel in one sum) and all stay in doubt
        keys = [k for k in outcome.rule.cells if k not in confirmed] or list(outcome.rule.cells)
        worst = max(blame[k] for k in keys)
        suspects = [k for k in keys if blame[k] == worst]
        for key in keys:
            cell = fields[key]
            if key in suspects and (worst > 1 or len(suspects) == 1):
                cell.doubt(f"{outcome.message} — {_origin(cell, worst, key in clean)}", SUSPECT)
            else:
                cell.doubt(f"in a broken sum: {outcome.message}", IN_BROKEN_SUM)
    if verify:
        _flag_unverified(template, fields, outcomes, verify)
    _lift_settled(fields, outcomes)
    _infer_missing(template, fields)
    return outcomes


def _left_blank(
    template: TemplateSpec, fields: dict[str, FieldValue], failed: list[RuleOutcome], notes: list[str] | None
) -> list[RuleOutcome]:
    """Flag the blanks of tables the sums fully determine, once each under one note; returns the
    broken sums those blanks do not explain."""
    groups = determined_blanks(template, fields, {_section(o.rule) for o in failed})
    for group in groups:
        for key in group.values:
            fields[key].doubt(group.reason(key), EVEN)
        if notes is not None:
            notes.append(group.note(template))
    explained = {group.section for group in groups}
    return [o for o in failed if _section(o.rule) not in explained]


def _section(rule: SumRule) -> str:
    return rule.cells[0].split(".", 1)[0]


def _lift_settled(fields: dict[str, FieldValue], outcomes: list[RuleOutcome]) -> int:
    """Clear layout doubts the arithmetic has settled; returns how many cells were cleared.

    A cell whose only doubts are of the kind a wrong choice would show in the sums (a row placed by
    its position, digits re-cut to fit its row) is no longer in doubt when every sum of it that can
    be checked holds, and one of them, with a value that is not zero, reaches beyond the cell's own
    row: the row's own sum chose the reading, so only another sum is independent evidence. Runs
    before inference, so a value the reconciler proposes never confirms anything.
    """
    results: dict[str, list[RuleOutcome]] = {}
    for outcome in outcomes:
        for key in outcome.rule.cells:
            results.setdefault(key, []).append(outcome)
    broken_sections = {k.split(".", 1)[0] for o in outcomes if not o.ok for k in o.rule.cells}
    lifted = 0
    for key, cell in fields.items():
        if not cell.reasons or not cell.sums_settle or cell.status not in ("read", "blank"):
            continue
        mine = results.get(key, [])  # the sums that could be checked: one with a gap checks nothing
        if not all(o.ok for o in mine):
            continue  # a broken sum blames someone
        row = key.rsplit(".", 1)[0]
        beyond = [o for o in mine if any(k.rsplit(".", 1)[0] != row for k in o.rule.cells)]
        # a zero in a column of zeros is vouched for by that column's sum (counts are never negative,
        # so a whole of 0 leaves every part 0, whichever row it is) only while the whole table adds
        # up: in a table whose sums fail somewhere, its lost values may be anywhere
        trusted_zero = cell.value == 0 and key.split(".", 1)[0] not in broken_sections
        if any(trusted_zero or any(fields[k].value for k in o.rule.cells) for o in beyond):
            cell.reasons.clear()
            cell.confidence = CHECKED
            lifted += 1
    return lifted


def _confirmed(outcomes: list[RuleOutcome], blame: Counter[str], clean: set[str]) -> set[str]:
    """Cells of a broken sum that another sum vouches for: read cleanly, in no other broken sum, and
    in at least one sum that holds. A value misread there would break that sum too, so the broken
    sum's fault lies with its other cells (a publisher who left a row's total blank breaks the row,
    not the columns the row's other cells are checked by)."""
    holding = {k for o in outcomes if o.ok for k in o.rule.cells}
    return {k for k in clean if blame[k] == 1 and k in holding}


def _lone_culprits(failed: list[RuleOutcome]) -> dict[int, str]:
    """Failed sums that one cell explains alone: index of each such outcome → that cell.

    Failures are grouped where they share cells. A group of two or more broken sums whose only
    common cell would, changed by one amount, make every one of them hold (a cell breaking its row
    and its column by the same amount) has one error, at that cell; the other cells of those sums
    are confirmed by the same arithmetic and are not flagged. Any other pattern (a value shifted
    to the next column breaks two columns that share no cell; two errors; a lone broken sum) has
    no single explanation, and every cell in it stays flagged.
    """
    groups: list[list[int]] = []
    cells_of: list[set[str]] = []
    for index, outcome in enumerate(failed):
        cells = set(outcome.rule.cells)
        joined = [g for g, group_cells in enumerate(cells_of) if group_cells & cells]
        merged = [index] + [i for g in joined for i in groups[g]]
        for g in sorted(joined, reverse=True):
            cells |= cells_of.pop(g)
            groups.pop(g)
        groups.append(sorted(merged))
        cells_of.append(cells)
    lone: dict[int, str] = {}
    for group in groups:
        if len(group) < 2:
            continue
        common = set.intersection(*(set(failed[i].rule.cells) for i in group))
        explaining = [
            key for key in common
            if len({round(_needed(failed[i], key), 6) for i in group}) == 1 and _needed(failed[group[0]], key) != 0
        ]  # fmt: skip
        if len(explaining) == 1:
            lone.update((i, explaining[0]) for i in group)
    return lone


def _row_of(key: str) -> str:
    return key.rsplit(".", 1)[0]


def _lone_rows(
    failed: list[RuleOutcome], outcomes: list[RuleOutcome], fields: dict[str, FieldValue], explained: set[int]
) -> dict[int, list[tuple[str, Number]]]:
    """Broken sums of a section that one row explains: index of each such outcome → (cell, change) of
    the explaining rows' cells in it.

    A publisher who counts a row twice, or a reader who takes a row from the prose, breaks every
    column the row has values in, while each row still adds up. Where changing one row's cells (one
    per broken sum, each by what its sum lacks, none below zero) makes every broken sum of the
    section hold and breaks no sum that held, that row is the likely culprit: its cells are flagged,
    and the other cells of those sums, each vouched for by its own row, are not. With more than a few
    such rows the arithmetic points nowhere, and every cell stays flagged.
    """
    by_section: dict[str, list[int]] = {}
    for index, outcome in enumerate(failed):
        if index not in explained:
            by_section.setdefault(outcome.rule.cells[0].split(".", 1)[0], []).append(index)
    values = _values(fields)
    out: dict[int, list[tuple[str, Number]]] = {}
    for group in by_section.values():
        candidates = set.intersection(*({_row_of(k) for k in failed[i].rule.cells} for i in group))
        explaining: list[dict[str, Number]] = []
        for row in sorted(candidates):
            change = _row_change(row, [failed[i] for i in group])
            if change is not None and _holds_after(change, outcomes, values):
                explaining.append(change)
        if not 1 <= len(explaining) <= _MAX_EXPLAINING_ROWS:
            continue
        for i in group:
            cells = set(failed[i].rule.cells)
            out[i] = [(key, delta) for change in explaining for key, delta in change.items() if key in cells]
    return out


_MAX_EXPLAINING_ROWS = 3


def _row_change(row: str, broken: list[RuleOutcome]) -> dict[str, Number] | None:
    """The change to `row`'s cells that makes every broken sum hold (one cell per sum), if there is one."""
    change: dict[str, Number] = {}
    for outcome in broken:
        keys = [k for k in outcome.rule.cells if _row_of(k) == row]
        if len(keys) != 1:
            return None
        delta = _needed(outcome, keys[0])
        if keys[0] in change and not _close(change[keys[0]], delta):
            return None
        change[keys[0]] = delta
    return change


def _holds_after(change: dict[str, Number], outcomes: list[RuleOutcome], values: dict[str, Number]) -> bool:
    """Whether every sum with a changed cell holds once the change is made (no value below zero)."""
    new = dict(values)
    for key, delta in change.items():
        new[key] = values[key] + delta
        if new[key] < 0:
            return False
    rules = [o.rule for o in outcomes if any(k in change for k in o.rule.cells)]
    return all(o.ok for o in evaluate(rules, new))


def _row_origin(cell: FieldValue, change: Number, culprits: list[tuple[str, Number]]) -> str:
    rows = sorted({_row_of(k) for k, _ in culprits})
    which = "this row alone" if len(rows) == 1 else f"this row or one of {len(rows) - 1} other(s), each alone,"
    fix = format_number(cell.value + change) if cell.value is not None else "?"
    return (
        f"{which} would make every broken column hold (this cell {fix} instead of {format_number(cell.value)}); "
        "each other cell adds up in its own row, so the fault is likely here"
        + (
            "; it is printed clearly, so the document itself may be wrong (publisher's mistake)"
            if not cell.reasons
            else ""
        )
    )


def _flag_unverified(
    template: TemplateSpec, fields: dict[str, FieldValue], outcomes: list[RuleOutcome], verify: Collection[str]
) -> None:
    # a sum of zeros proves little (0 = 0 holds for any misread row of zeros): it verifies nothing
    values = _values(fields)
    checked = {
        key
        for outcome in outcomes
        if outcome.ok and any(values.get(k) for k in outcome.rule.cells)
        for key in outcome.rule.cells
    }
    in_rules = {key for rule in template.constraints for key in rule.cells}
    for key, cell in fields.items():
        if cell.source in verify and cell.value is not None and key in in_rules and key not in checked:
            cell.doubt("no sum could confirm this value (its sums are incomplete, or all zero)", UNVERIFIED)


def _origin(cell: FieldValue, breaks: int, clean: bool) -> str:
    """Whose mistake it likely is: a cell read cleanly points at the document, a doubtful one at us."""
    where = f"this cell breaks {breaks} sums" if breaks > 1 else "this cell may be at fault"
    if clean and cell.status == "blank":
        return f"{where}; the document leaves it blank, so the publisher likely omitted a value"
    if clean and cell.status == "read":
        return f"{where}; it is printed clearly, so the document itself may be wrong (publisher's mistake)"
    return f"{where}; its reading was already uncertain, so this is likely a reading error"
