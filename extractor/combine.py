"""Two readers, one answer: compare the rules reading and the LLM reading cell by cell.

Agreement of two independent readings settles layout doubts (which column, where digits
split). A disagreement is settled row by row by the reading that satisfies the table's sums and
is grounded in the text; when neither or both do, the cell is flagged with both readings.
An LLM value that is not in the text (not grounded) is no evidence: it never wins, never fills
a gap, and never flags a cell the rules reader read cleanly (the run's notes keep it).
It knows no reader's internals: only field values, their provenance and the sum rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from extractor.confidence import AGREED, DOUBTFUL, SETTLED
from extractor.model import FieldValue, Number, format_number
from extractor.reconcile import evaluate
from schemas import TemplateSpec


@dataclass
class Combined:
    fields: dict[str, FieldValue]
    notes: list[str] = field(default_factory=list)
    agreed: int = 0
    settled: int = 0
    disputed: int = 0


def _satisfied(template: TemplateSpec, values: Mapping[str, Number], keys: Iterable[str]) -> tuple[int, int]:
    """(sums that hold, sums that can be checked) among the rules touching these keys."""
    wanted = set(keys)
    rules = [r for r in template.constraints if wanted.intersection(r.cells)]
    outcomes = evaluate(rules, values)
    return sum(o.ok for o in outcomes), len(outcomes)


def _rows(keys: Iterable[str]) -> dict[str, list[str]]:
    rows: dict[str, list[str]] = {}
    for key in keys:
        rows.setdefault(key.rsplit(".", 1)[0], []).append(key)
    return rows


def _confirmed_by_sums(template: TemplateSpec, fields: Mapping[str, FieldValue]) -> set[str]:
    """Cells inside a sum that holds and is not all zeros: an agreement there is worth trusting."""
    values = {k: v.value for k, v in fields.items() if v.value is not None}
    outcomes = evaluate(template.constraints, values)
    return {k for o in outcomes if o.ok and any(values.get(c) for c in o.rule.cells) for k in o.rule.cells}


def sections_to_check(template: TemplateSpec, fields: Mapping[str, FieldValue], found: Sequence[str]) -> list[str]:
    """The sections (of those `found` in the document, in order) where a second reading can settle something.

    A second reading only settles a cell through the sums (`combine`: an agreement clears a
    doubt where a sum confirms the cell; a disagreement goes to the row that satisfies more
    sums), or by finding a cell the first reading did not. So a section is worth the LLM when

    - a cell is missing and the document goes on past the section (a table cut off by the end
      of the document is simply absent; another reading finds nothing there either);
    - a cell the rules reader doubted is checked by some sum (on a cell no sum checks, two
      readings agreeing on a layout guess confirm nothing, and a disagreement stays flagged);
    - a sum of the section fails: either a misreading the reader did not notice, or the
      publisher's own mistake, which a second reading of the same text tells apart.
    """
    summed = {cell for rule in template.constraints for cell in rule.cells}
    values = {k: v.value for k, v in fields.items() if v.value is not None}
    broken = {cell for o in evaluate(template.constraints, values) if not o.ok for cell in o.rule.cells}
    with_values = {key.split(".", 1)[0] for key in values}
    wanted = []
    for index, section in enumerate(found):
        prefix = f"{section}."
        cells = {k: v for k, v in fields.items() if k.startswith(prefix)}
        goes_on = any(s in with_values for s in found[index + 1 :])
        missing = goes_on and any(v.status == "missing" for v in cells.values())
        doubted = any(v.reasons and v.status != "missing" and k in summed for k, v in cells.items())
        if missing or doubted or any(k.startswith(prefix) for k in broken):
            wanted.append(section)
    return wanted


def sections_unplaced(
    template: TemplateSpec, fields: Mapping[str, FieldValue], regions: Mapping[str, tuple[int, int] | None]
) -> list[str]:
    """The sections the rules reader could not place: no region found, or most of its cells missing.

    Such a table may still be printed in the text around the tables that were read (a layout the
    locator does not know, a region anchored on the introduction's mention of the table); the LLM
    reads that text instead (`readers.llm.windows`). A section with at least half its cells read
    is placed: its gaps are left to `sections_to_check`.
    """
    wanted = []
    for section in template.sections:
        keys = [k for k in template.keys if k.startswith(f"{section.key}.")]
        missing = sum(1 for k in keys if (cell := fields.get(k)) is None or cell.status == "missing")
        if regions.get(section.key) is None or (keys and missing * 2 > len(keys)):
            wanted.append(section.key)
    return wanted


def combine(
    template: TemplateSpec, rules: Mapping[str, FieldValue], llm: Mapping[str, FieldValue], sections: Iterable[str]
) -> Combined:
    """The rules fields, with the LLM reading of `sections` weighed in cell by cell.

    Two readers agreeing clears a layout doubt only where a (non-zero) sum confirms the cell:
    both can guess the same column for a row that prints fewer cells than it has.
    """
    wanted = tuple(f"{s}." for s in sections)
    out = Combined({k: v for k, v in rules.items()})
    confirmed = _confirmed_by_sums(template, rules)
    section_keys = [k for k in template.field_keys() if k.startswith(wanted)]
    for row, keys in _rows(section_keys).items():
        differing = []
        for key in keys:
            mine, theirs = rules.get(key), llm.get(key)
            if theirs is None or theirs.value is None:
                continue
            if mine is not None and mine.value is not None and float(mine.value) == float(theirs.value):
                if theirs.reasons:
                    continue  # an ungrounded agreement settles nothing
                out.agreed += 1
                if mine.reasons and not mine.hard and key in confirmed:
                    out.fields[key] = replace(mine, reasons=[], confidence=AGREED, source="rules+llm")
                else:
                    out.fields[key] = replace(mine, reasons=list(mine.reasons), source="rules+llm")
            else:
                differing.append(key)
        if differing:
            _settle(template, out, row, differing, rules, llm)
    return out


def _none_read(fields: Mapping[str, FieldValue], keys: Iterable[str]) -> bool:
    return all((cell := fields.get(key)) is None or cell.value is None for key in keys)


def _clean_read(cell: FieldValue | None) -> bool:
    return cell is not None and cell.value is not None and cell.status == "read" and not cell.reasons


def _settle(
    template: TemplateSpec, out: Combined, row: str, keys: list[str],
    rules: Mapping[str, FieldValue], llm: Mapping[str, FieldValue],
) -> None:  # fmt: skip
    """Keep the row version (rules or LLM) that satisfies more sums; flag when it is a draw."""
    base = {k: v.value for k, v in out.fields.items() if v.value is not None}
    theirs_values = dict(base)
    for key in keys:
        theirs_values[key] = llm[key].value  # type: ignore[assignment]
    ours_ok, checkable = _satisfied(template, base, keys)
    theirs_ok, theirs_checkable = _satisfied(template, theirs_values, keys)
    grounded = all(not llm[k].reasons for k in keys)
    described = "; ".join(
        f"{k}: rules {format_number(rules[k].value if k in rules else None)}, LLM {format_number(llm[k].value)}"
        for k in keys
    )
    # a row the rules reader missed whole (a table it could not place) has no sum of its own to
    # check; the LLM's row, grounded, is then settled by the sums it completes (a gap in a row the
    # rules reader did read stays flagged when the LLM fills it: one value that makes a sum hold)
    whole_row = [k for k in template.field_keys() if k.rsplit(".", 1)[0] == row]
    if (checkable or (theirs_checkable and _none_read(rules, whole_row))) and theirs_ok > ours_ok and grounded:
        out.settled += len(keys)
        out.notes.append(f"row {row}: readers disagreed ({described}); the LLM reading satisfies the sums")
        for key in keys:
            out.fields[key] = replace(llm[key], reasons=[], confidence=SETTLED, source="llm")
        return
    if checkable and ours_ok > theirs_ok and ours_ok == checkable:
        out.settled += len(keys)
        out.notes.append(f"row {row}: readers disagreed ({described}); the rules reading satisfies the sums")
        return
    unfounded = [k for k in keys if llm[k].reasons and _clean_read(out.fields.get(k))]
    if unfounded:
        # The LLM printed a number that is not in the text where a cell was read cleanly: no
        # evidence against that reading, so it is noted on the run, not flagged on the cell.
        out.notes.append(f"row {row}: the LLM's ungrounded reading ignored ({described})")
        keys = [k for k in keys if k not in unfounded]
    out.disputed += len(keys)
    for key in keys:
        mine = out.fields.get(key)
        reason = f"readers disagree — {described}"
        if (mine is None or mine.value is None) and not llm[key].reasons:
            taken = replace(llm[key], reasons=[], source="llm")
            taken.doubt(reason, DOUBTFUL)
            out.fields[key] = taken
        elif mine is not None:
            # An ungrounded LLM value never fills a gap either: the gap stays, and the
            # reconciler may still infer it from the sums (as it would with the rules alone).
            mine.doubt(reason, DOUBTFUL)
