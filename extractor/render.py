"""Rich renderings of an extraction for the terminal: one table per section, flagged cells marked."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from extractor.model import Extraction, FieldValue, format_number
from schemas import SectionSpec, TemplateSpec


def _cell(value: FieldValue | None) -> Text:
    if value is None or value.value is None:
        return Text("?", style="bold red")
    shown = format_number(value.value)
    if value.status == "inferred":
        return Text(f"({shown})", style="bold magenta")
    if value.flagged:
        return Text(f"{shown}*", style="bold yellow")
    return Text(shown)


def _section_table(section: SectionSpec, extraction: Extraction) -> Table:
    columns: list[str] = []
    for row in section.rows:
        for col in row.columns:
            if col.label not in columns:
                columns.append(col.label)
    uniform = len({tuple(c.key for c in row.columns) for row in section.rows}) == 1
    table = Table(title=f"{section.key} {section.title}", title_justify="left", show_lines=False)
    table.add_column("row")
    if uniform:
        for col in section.rows[0].columns:
            table.add_column(col.label, justify="right")
        for row in section.rows_used(extraction.fields):
            table.add_row(
                row.label, *[_cell(extraction.fields.get(row.field_key(section.key, c))) for c in row.columns]
            )
    else:
        table.add_column("cells")
        for row in section.rows_used(extraction.fields):
            parts = Text()
            for col in row.columns:
                parts.append(f"{col.label} ")
                parts.append_text(_cell(extraction.fields.get(row.field_key(section.key, col))))
                parts.append("   ")
            table.add_row(row.label, parts)
    return table


def render(extraction: Extraction, template: TemplateSpec | None) -> Group:
    header = Text(
        f"{extraction.doc} · template {extraction.template or '?'} · year {extraction.year or '?'} · "
        f"{extraction.agency or 'agency ?'}",
        style="bold",
    )
    parts: list[Table | Text] = [header]
    if extraction.notes:  # what the reader says of the document as a whole (a compilation, a table not found…)
        notes = Text("notes:\n", style="bold cyan")
        for note in extraction.notes:
            notes.append(f"  {note}\n")
        parts.append(notes)
    if template is not None:
        parts.extend(_section_table(section, extraction) for section in template.sections)
    flagged = [f for f in extraction.fields.values() if f.flagged and f.status != "missing"]
    missing = [f.key for f in extraction.fields.values() if f.status == "missing"]
    legend = Text("* flagged   (n) inferred, not read   ? not found", style="dim")
    parts.append(legend)
    if flagged:
        flags = Text(f"{len(flagged)} flagged cells:\n", style="bold yellow")
        for value in flagged:
            flags.append(f"  {value.key} = {value.value}: {'; '.join(value.reasons)}\n")
        parts.append(flags)
    if missing:
        parts.append(
            Text(
                f"{len(missing)} cells not found: {', '.join(missing[:12])}{' …' if len(missing) > 12 else ''}",
                style="red",
            )
        )
    if not flagged and not missing:
        parts.append(Text("no flags: every cell read and every identity holds", style="green"))
    return Group(*parts)
