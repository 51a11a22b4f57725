"""The Word channel: a complete report as a .docx with real, merged tables.

Most annual reports are drafted in Word and many portals publish the .docx
itself.  The tables are real Word tables whose merged cells follow the
mandated layout (the same spans as the portal HTML of
real-shanghai-office-2019): table 3's 三、本年度办理结果 and (三)…(六) labels
merged down their rows, header cells merged across; a reader must undo the
merges, not just read cell text in order.
"""

from __future__ import annotations

import io
import random

from docx import Document as new_document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.table import Table as WordTable
from docx.table import _Cell

from evals.messy.content import Heading, Paragraph, Report
from evals.messy.grid import Grid, place

_FONT = "宋体"

# Column widths (cm) per table and grid width; an unknown width gets equal columns.
_WIDTHS: dict[tuple[str, int], tuple[float, ...]] = {
    ("t2", 4): (4.2, 3.8, 3.8, 3.8),
    ("t3", 10): (0.9, 1.4, 4.4, 1.2, 1.2, 1.2, 1.2, 1.2, 1.2, 1.2),
    ("t4", 15): (1.05,) * 15,
}


def _set_font(run_font: object, size: float) -> None:
    """Song typeface for Latin and East-Asian runs alike (Word otherwise falls back per script)."""
    font = run_font
    font.name = _FONT  # type: ignore[attr-defined]
    font.size = Pt(size)  # type: ignore[attr-defined]
    element = font.element  # type: ignore[attr-defined]
    rpr = element.get_or_add_rPr()
    rpr.get_or_add_rFonts().set(qn("w:eastAsia"), _FONT)


def _vertical(cell: _Cell) -> None:
    """Write the cell's text top to bottom (Word's 'tbRlV' is one char per line, upright)."""
    tc_pr = cell._tc.get_or_add_tcPr()
    direction = OxmlElement("w:textDirection")
    direction.set(qn("w:val"), "tbRlV")
    tc_pr.append(direction)


def _fill(cell: _Cell, text: str, size: float, center: bool) -> None:
    cell.text = ""
    paragraph = cell.paragraphs[0]
    if center:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run(text)
    _set_font(run.font, size)


def _table(doc: object, grid: Grid, vertical_groups: bool) -> WordTable:
    table: WordTable = doc.add_table(rows=grid.n_rows, cols=grid.n_cols)  # type: ignore[attr-defined]
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    widths = _WIDTHS.get((grid.table.name, grid.n_cols), (16.0 / max(1, grid.n_cols),) * grid.n_cols)
    # python-docx's table.cell() re-walks the whole table on every call; the unmerged grid is
    # taken once instead (merges touch only their own placed cell's slots, so it stays valid)
    slots = [_Cell(tc, table) for tr in table._tbl.tr_lst for tc in tr.tc_lst]
    for i, slot in enumerate(slots):
        slot.width = Cm(widths[i % grid.n_cols])
    for p in grid.cells:
        cell = slots[p.row * grid.n_cols + p.col]
        if p.rows > 1 or p.cols > 1:
            cell = cell.merge(slots[p.last_row * grid.n_cols + p.col + p.cols - 1])
        role = p.cell.role
        _fill(cell, p.cell.text, 9 if grid.table.name != "t4" else 8, role != "label")
        if role == "group" or (role == "subgroup" and vertical_groups):
            _vertical(cell)
    return table


def docx_bytes(report: Report, rng: random.Random) -> tuple[bytes, str]:
    """The report as .docx bytes (and a note on its choices): title, headings, prose, merged tables.

    Whether the (三)…(六) labels are also written vertically and whether headings use
    Word's heading styles or bold paragraphs is drawn from ``rng``.
    """
    doc = new_document()
    section = doc.sections[0]
    section.left_margin = section.right_margin = Cm(2.2)
    vertical_groups = rng.random() < 0.5
    styled_headings = rng.random() < 0.5
    for block in report.blocks:
        if isinstance(block, Heading):
            # Word's heading styles in some drafts, bold body paragraphs in most
            paragraph = doc.add_heading(level=block.level + 1) if styled_headings else doc.add_paragraph()
            if block.level == 0:
                paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            run = paragraph.add_run(block.text)
            run.bold = True
            _set_font(run.font, 16 if block.level == 0 else 12)
        elif isinstance(block, Paragraph):
            paragraph = doc.add_paragraph()
            paragraph.paragraph_format.first_line_indent = Pt(21)
            _set_font(paragraph.add_run(block.text).font, 10.5)
        else:
            _table(doc, place(block), vertical_groups)
    out = io.BytesIO()
    doc.save(out)
    note = ("Word heading styles" if styled_headings else "bold paragraphs as headings") + (
        "; (三)…(六) labels written vertically" if vertical_groups else ""
    )
    return out.getvalue(), note
