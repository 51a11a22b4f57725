"""The deterministic reader: template → table regions → rows → cells, every cell with its span.

It reads and places; it does not judge sums (that is the reconciler's room) beyond using a
row's own identity to choose between placements the layout leaves open.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from extractor.confidence import CHECKED, DOUBTFUL, EVEN, PROBABLE, SUSPECT, UNVERIFIED
from extractor.ingest import SourceDocument
from extractor.model import FieldValue, Number
from extractor.readers.layout.labels import compact, residue
from extractor.readers.layout.plan import DocumentPlan, SectionReading
from extractor.readers.layout.rows import Assigned, RawRow, align_rows, assemble_rows
from extractor.readers.layout.tokens import Token, Value, tokenize
from extractor.readers.rules.cells import PlacedCell, Placement, RowCheck, place_row
from extractor.readers.rules.choose import choose_by_identities
from schemas import DISCLOSURE_REPORT, ColumnSpec, ReportType, RowSpec, SectionSpec, TemplateSpec

READER_VERSION = "rules-0.1.0"


def read_section(
    normalized: str, plan: DocumentPlan, section_key: str, report: ReportType = DISCLOSURE_REPORT
) -> SectionReading:
    """Every cell of one table; the unit of work a worker may run on its own."""
    reading = SectionReading(section_key)
    if plan.template is None:
        return reading
    template = report.template(plan.template)
    section = template.section(section_key)
    region = plan.regions.get(section_key)
    if region is None:
        reading.notes.append(f"{section.key} ({section.title}) not found")
        return reading
    tokens = tokenize(normalized, *region)
    # more of the document follows the table, so it was printed whole, not cut off mid-table
    closed = bool(normalized[region[1] :].strip())
    if section.labelled:
        reading.fields = _read_labelled(section, template, tokens, reading.notes, closed)
    else:
        reading.fields = _read_sequence(section, template, tokens, reading.notes)
    _doubt_foreign_columns(report, template, section, normalized[region[0] : region[1]], reading)
    if reading.fields is _NO_VALUES:
        reading.fields = _empty_table(section, template, tokens, closed, reading.notes)
    return reading


def _doubt_foreign_columns(
    report: ReportType, template: TemplateSpec, section: SectionSpec, text: str, reading: SectionReading
) -> None:
    """A table that prints another template version's column words (本年新制作数量 in a 2021 report)
    may hold its values in columns that are not this template's: every cell of it is in doubt."""
    flat = compact(text)
    foreign = sorted({m for other in report.templates if other is not template for m in other.markers if m in flat})
    if not foreign or not reading.fields:
        return
    reason = (
        f"{section.title}: it prints column words of another template version ({'、'.join(foreign[:3])}): "
        "a value may sit in a column this template does not have"
    )
    reading.notes.append(reason)
    for value in reading.fields:
        value.doubt(reason, EVEN, layout=False)


def read_sections(
    doc: SourceDocument, plan: DocumentPlan, section_keys: Sequence[str], report: ReportType = DISCLOSURE_REPORT
) -> list[SectionReading]:
    return [read_section(doc.normalized, plan, key, report) for key in section_keys]


_NO_VALUES: list[FieldValue] = []  # the table shows no number at all (read_section decides what that means)
_LABELS_SHOWN = 0.9  # share of a table's row labels that must be printed for it to count as empty, not absent

_CHECKS: dict[tuple[str, str, tuple[str, ...]], RowCheck | None] = {}


def _row_check(template: TemplateSpec, section: SectionSpec, rows: Sequence[RowSpec]) -> RowCheck | None:
    """Cached by identity: hashing frozen pydantic models on every row would cost more than reading."""
    key = (template.version, section.key, tuple(row.key for row in rows))
    if key not in _CHECKS:
        _CHECKS[key] = _build_check(template, section, rows)
    return _CHECKS[key]


def _build_check(template: TemplateSpec, section: SectionSpec, rows: Sequence[RowSpec]) -> RowCheck | None:
    """A check built from the template's identities whose keys all lie within these rows."""
    keys = [row.field_key(section.key, col) for row in rows for col in row.columns]
    index = {key: i for i, key in enumerate(keys)}
    rules = [r for r in template.constraints if all(k in index for k in r.cells)]
    if not rules:
        return None
    compiled = [([index[k] for k in r.left], [index[k] for k in r.right]) for r in rules]

    def check(values: Sequence[Value]) -> bool:
        return all(sum(values[i] for i in left) == sum(values[i] for i in right) for left, right in compiled)

    return check


def _number(value: Value) -> Number:
    if isinstance(value, int) or value == value.to_integral_value():
        return int(value)
    return float(value)


def _field(key: str, column: ColumnSpec, cell: PlacedCell) -> FieldValue:
    value = FieldValue(key, _number(cell.value), cell.raw, cell.span, "read" if cell.status == "read" else "blank")
    if cell.value < 0 and not column.signed:
        value.doubt(f"negative value {cell.raw} in a column that cannot be negative", SUSPECT, layout=False)
    if isinstance(cell.value, Decimal) and cell.value != cell.value.to_integral_value() and column.kind == "int":
        value.doubt(f"decimal value {cell.raw} in a column of counts", SUSPECT, layout=False)
    if not column.unit and cell.raw.endswith("元"):
        value.doubt(f"printed with a unit ('{cell.raw}') where the template's column names none: check the scale",
                    UNVERIFIED, layout=False)  # fmt: skip
    if column.unit and cell.raw and cell.raw.endswith("元") and not cell.raw.endswith(column.unit):
        value.doubt(
            f"unit: '{cell.raw}' is not in {column.unit}, the column's unit (value kept as printed)", EVEN, layout=False
        )
    return value


def _fields_of(section: SectionSpec, row: RowSpec, placement: Placement) -> list[FieldValue]:
    return [
        _field(key, column, cell)
        for key, column, cell in zip(_keys(section, row), row.columns, placement.cells, strict=False)
        if cell is not None
    ]


def _read_labelled(
    section: SectionSpec, template: TemplateSpec, tokens: list[Token], notes: list[str], closed: bool = False
) -> list[FieldValue]:
    """`closed`: text follows the table, so rows printed after its last value are blank, not cut off."""
    widths = {len(row.columns) for row in section.rows}
    width = widths.pop() if len(widths) == 1 else None
    extra = _extra_columns(section, tokens)
    if extra and width is not None:
        notes.append(f"{section.key}: the header prints {extra} column(s) that are not fields (e.g. 小计)")
    raw_rows = assemble_rows(section, tokens, width + extra if width is not None else None)
    if width is not None:
        assigned, dropped = align_rows(section, raw_rows)
        for raw in dropped:
            if raw.value_count():
                shown = " ".join(t.text for t in raw.tokens if t.kind in ("num", "blank"))
                notes.append(f"{section.key}: values {shown} could not be placed in any row")
    else:
        assigned = _by_label(section, raw_rows, notes)
    out: list[FieldValue] = []
    deduplicated = _has_sums(template, section) and _deduplicated(tokens)
    if deduplicated:
        notes.append(f"{section.key}: no number is printed twice, as if repeated lines were dropped: rows printed "
                     "without values may have lost them")  # fmt: skip
    last_with_values = max((i for i, a in enumerate(assigned) if a.raw.value_count()), default=-1)
    if last_with_values < 0:
        # every row label and no number: an empty table; a few row words and no number: prose
        return _NO_VALUES if len(assigned) >= len(section.rows) * _LABELS_SHOWN else []
    placed: list[tuple[Assigned, Placement]] = []
    positions: list[int] = []  # each placed row's position among the assigned rows
    zeros: list[str] = []
    for position, item in enumerate(assigned):
        row = item.row
        if row.replaces and item.raw.value_count() == 0:
            continue  # a row standing for others (六 as one row) counts only where it holds values
        if item.raw.value_count() == 0 and item.raw.cell_count() < len(row.columns):
            if position < last_with_values or closed:
                checked = any(k in r.cells for r in template.constraints for k in _keys(section, row))
                blanks = _blank_row(section, row, item, checked, deduplicated)
                if not deduplicated:  # where lines were dropped, a row without values may have lost them
                    zeros.extend(v.key for v in blanks if v.value == 0)
                out.extend(blanks)
            continue
        check = _row_check(template, section, [row])
        signed = [col.signed for col in row.columns]
        placement = place_row(
            item.raw.tokens, len(row.columns), check, f"row {row.label}", signed=signed,
            subtotals=bool(section.extra_columns),
        )  # fmt: skip
        if placement.note:
            notes.append(placement.note)
        placed.append((item, placement))
        positions.append(position)
    if any(len(p.alternatives) > 1 for _, p in placed):
        # where repeated numbers were dropped, a row may have lost values: no reading of it is settled
        choose_by_identities(template, section, placed, zeros, settle=not deduplicated)
    for index, (item, placement) in enumerate(placed):
        values = _fields_of(section, item.row, placement)
        # the last row may be cut off rather than printed with its empty cells dropped: spare none,
        # unless another row's label follows it (the row ended there) or text follows the table
        followed = positions[index] < len(assigned) - 1
        whole = (index < len(placed) - 1 or followed or closed) and not deduplicated
        spared = _spared(section, item.row, placement) if whole else set()
        for value in values:
            if item.raw.garbled:
                # text that is no number: a value hidden in it would leave its row or column short
                garbled = f"unreadable text in the row: {' '.join(item.raw.garbled)}"
                damaged = any("\ufffd" in text for text in item.raw.garbled)  # a lost value may sit anywhere
                value.doubt(garbled, DOUBTFUL, layout=False, sums_settle=not damaged)
            if placement.doubt and value.key not in spared:  # every placement gives a spared cell one value
                value.doubt(placement.doubt, placement.level, sums_settle=placement.sums_settle)
            if item.doubt:
                value.doubt(item.doubt, item.level, sums_settle=item.sums_settle)
        out.extend(values)
    return out


def _spared(section: SectionSpec, row: RowSpec, placement: Placement) -> set[str]:
    """Keys of the cells every candidate placement agrees on: the placement's doubt is not about them,
    only whether the row is the row its label says, which the sums around the cell check."""
    if not placement.settled:
        return set()
    keys = _keys(section, row)
    return {keys[i] for i in placement.settled if i < len(keys)}


_KEYS: dict[tuple[str, str, tuple[str, ...]], list[str]] = {}


def _keys(section: SectionSpec, row: RowSpec) -> list[str]:
    """Field keys of a row, built once: formatting them per cell costs more than reading the cell."""
    ident = (section.key, row.key, tuple(column.key for column in row.columns))
    keys = _KEYS.get(ident)
    if keys is None:
        keys = _KEYS[ident] = [row.field_key(section.key, column) for column in row.columns]
    return keys


def _extra_columns(section: SectionSpec, tokens: list[Token]) -> int:
    """How many non-field columns (小计) the header names before the first value."""
    header = []
    for token in tokens:
        if token.kind in ("num", "blank"):
            break
        if token.kind == "text":
            header.append(token.text)
    flat = compact("".join(header))
    return sum(flat.count(word) for word in section.extra_columns)


_HAS_SUMS: dict[tuple[str, str], bool] = {}


def _has_sums(template: TemplateSpec, section: SectionSpec) -> bool:
    """Whether any identity reads this table's cells; cached like the row checks (asked per table)."""
    key = (template.version, section.key)
    if key not in _HAS_SUMS:
        prefix = f"{section.key}."
        _HAS_SUMS[key] = any(cell.startswith(prefix) for rule in template.constraints for cell in rule.cells)
    return _HAS_SUMS[key]


_DEDUP_MIN_NUMBERS = 6


def _deduplicated(tokens: list[Token]) -> bool:
    """A table in which no number is printed twice: a scraper dropped every line equal to an earlier
    one, so the zeros (and any repeated count) of most rows are gone, not blank."""
    numbers = [t.text for t in tokens if t.kind == "num"]
    return len(numbers) >= _DEDUP_MIN_NUMBERS and len(set(numbers)) == len(numbers)


def _blank_row(
    section: SectionSpec, row: RowSpec, item: Assigned, checked: bool, deduplicated: bool = False
) -> list[FieldValue]:
    """A labelled row with no values inside a table that goes on: its cells were empty (0).

    Below the flag line when no identity covers the row (a lost value would pass unseen there), or
    when the table looks deduplicated (its values may have been dropped); the sums lift that doubt
    where they all hold.
    """
    span = item.raw.label_span
    out = []
    for column in row.columns:
        value = FieldValue(row.field_key(section.key, column), 0, raw="", span=span, status="blank", confidence=CHECKED)
        if not checked:
            value.doubt("row printed with no values: read as blanks (0); no sum can confirm it", PROBABLE)
        elif deduplicated:
            value.doubt("row printed with no values in a table that prints no number twice: its values may have "
                        "been dropped; read as blanks (0)", PROBABLE, sums_settle=True)  # fmt: skip
        else:
            value.doubt("row printed with no values: read as blanks (0)", PROBABLE, sums_settle=True)
        if item.doubt:
            value.doubt(item.doubt, item.level)
        out.append(value)
    return out


def _by_label(section: SectionSpec, raw_rows: list[RawRow], notes: list[str]) -> list[Assigned]:
    """Rows of different widths (table 2): a label names its row; unlabelled values are set aside.

    A row printed twice with different numbers keeps the fuller one, flagged with both readings.
    """
    chosen: dict[str, Assigned] = {}
    printed: dict[str, set[str]] = {}
    for raw in raw_rows:
        if raw.row is None:
            if raw.tokens and not raw.unknown:
                notes.append(
                    f"{section.key}: values {' '.join(t.text for t in raw.tokens)} have no row label; not placed"
                )
            elif raw.tokens:
                notes.append(f"{section.key}: row '{raw.label}' is not a field of the template; skipped")
            continue
        if raw.value_count():
            printed.setdefault(raw.row.key, set()).add(
                " ".join(t.text for t in raw.tokens if t.kind in ("num", "blank"))
            )
        previous = chosen.get(raw.row.key)
        if (
            previous is None
            or (previous.raw.value_count() != len(raw.row.columns) and raw.value_count() == len(raw.row.columns))
            or (previous.raw.value_count() == 0 and raw.value_count() > 0)
        ):
            chosen[raw.row.key] = Assigned(raw, raw.row)
    for key, versions in printed.items():
        if len(versions) > 1:
            item = chosen[key]
            item.doubt = f"row {item.row.label} is printed more than once, with different numbers: " + " / ".join(
                sorted(versions)
            )
            item.level = DOUBTFUL
    return [chosen[row.key] for row in section.rows if row.key in chosen]


def _read_sequence(
    section: SectionSpec, template: TemplateSpec, tokens: list[Token], notes: list[str]
) -> list[FieldValue]:
    """Tables without row labels (table 4): values after the header fill the rows in order."""
    values: list[Token] = []
    started = False
    for token in tokens:
        if token.kind == "text":
            flat = compact(token.text)
            if not started:
                started = any(word in flat for word in section.values_after)
                continue
            if values and len(residue(section, flat)) > 3:
                break
            continue
        if started and token.kind in ("num", "blank", "empty"):
            values.append(token)
    if not started:
        values = [t for t in tokens if t.kind in ("num", "blank")]
    elif not any(t.kind in ("num", "blank") for t in values):
        return _NO_VALUES
    width = sum(len(row.columns) for row in section.rows)
    check = _row_check(template, section, section.rows)
    segments = [(len(row.columns), _row_check(template, section, [row])) for row in section.rows]
    signed = [col.signed for row in section.rows for col in row.columns]
    placement = place_row(values, width, check, section.title, segments, signed)
    if placement.note:
        notes.append(placement.note)
    out: list[FieldValue] = []
    position = 0
    for row in section.rows:
        part = Placement(placement.cells[position : position + len(row.columns)])
        spared = {i - position for i in placement.settled if position <= i < position + len(row.columns)}
        position += len(row.columns)
        spared_keys = _spared(section, row, Placement(part.cells, settled=frozenset(spared)))
        for value in _fields_of(section, row, part):
            if placement.doubt:
                settle = placement.sums_settle or value.key in spared_keys
                value.doubt(placement.doubt, placement.level, sums_settle=settle)
            out.append(value)
    return out


def _empty_table(
    section: SectionSpec, template: TemplateSpec, tokens: list[Token], closed: bool, notes: list[str]
) -> list[FieldValue]:
    """A table whose header and rows are printed but not one value: blanks (0), as the form's rule
    for empty cells says, but perhaps an image or a scraper that lost the numbers.

    That is one doubt about the whole table, not one per cell, so it is put once, on the cell most
    sums run through (the grand total), and said in a note; every other cell is a plain blank. A
    table that runs to the end of the text may be cut off there, so each of its cells stays flagged.
    """
    span = (tokens[0].start, tokens[-1].end)
    keys = [key for row in section.rows_used() for key in _keys(section, row)]  # the mandated form
    weight = {key: sum(key in rule.cells for rule in template.constraints) for key in keys}
    anchor = max(reversed(keys), key=lambda k: weight[k])
    reason = (
        f"{section.title}: the table is printed with no values at all: its {len(keys)} cells are read as "
        "blanks (0); if the numbers were lost (an image, a scraper), every cell of it is wrong"
    )
    if closed:
        notes.append(reason)
    out = []
    for key in keys:
        value = FieldValue(key, 0, raw="", span=span, status="blank")
        if key == anchor or not closed:
            value.doubt(reason, UNVERIFIED)
        out.append(value)
    return out
