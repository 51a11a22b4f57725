"""What a complete report says, in reading order, before any file format exists.

Every channel (Word, PDF, scan) prints the same thing: the title, the
总体情况 prose, the three mandated sections with their tables, and the closing
sections.  The tables are evals.synth's table model (cells with rowspan and
colspan, gold keys on value cells), so a channel only decides how to draw —
it never decides which numbers a document shows.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

from evals.synth.layouts import (
    HEADINGS,
    Options,
    Table,
    between,
    build_tables,
    intro,
    outro,
    plain,
    shown_keys,
    title,
)
from evals.synth.values import ReportValues

Blanks = Literal["none", "org", "all"]
BLANKS: tuple[Blanks, ...] = ("none", "org", "all")
_ORG_SUFFIXES = (".commercial", ".research", ".social", ".legal", ".other_org")

# The section headings of the closing prose, printed as headings (not paragraphs).
_OUTRO_HEADINGS = frozenset({"五、存在的主要问题及改进情况", "六、其他需要报告的事项"})
_INTRO_HEADINGS = frozenset({"一、总体情况"})


@dataclass(frozen=True)
class Heading:
    """A section heading (level 1) or the document title (level 0)."""

    text: str
    level: int = 1


@dataclass(frozen=True)
class Paragraph:
    """A body paragraph of narrative prose (its numbers are never gold)."""

    text: str


Block = Heading | Paragraph | Table


@dataclass(frozen=True)
class Report:
    """A whole report as blocks, plus the gold keys its tables print."""

    blocks: list[Block]
    shown: tuple[str, ...]

    @property
    def tables(self) -> list[Table]:
        """The three tables, in order."""
        return [b for b in self.blocks if isinstance(b, Table)]


def _prose(paras: list[str], headings: frozenset[str]) -> list[Block]:
    return [Heading(p) if p in headings else Paragraph(p) for p in paras]


def blank_zeros(tables: list[Table], blanks: Blanks) -> None:
    """Leave zero cells empty, in place: none, table 3's legal-person columns, or all.

    Publishers often print a zero as an empty cell (real-shanghai-office-2019
    leaves the legal-person columns empty); FIELDS.md counts such a cell as 0,
    so the gold, which comes from the values, does not change.
    """
    for table in tables:
        for line in table.lines:
            for cell in line.cells:
                if cell.role != "value" or cell.text != "0" or not cell.key:
                    continue
                if blanks == "all" or (blanks == "org" and cell.key.endswith(_ORG_SUFFIXES)):
                    cell.text = ""


def build_report(values: ReportValues, rng: random.Random, blanks: Blanks = "none") -> Report:
    """Title, intro, the three tables (each after its heading and a sentence), closing prose.

    Values are printed as drawn (``plain``), so gold is the drawn values; the
    bracket style (full-width or ASCII parentheses) varies as it does in the
    wild; ``blanks`` says which zeros are printed as empty cells.
    """
    tables = build_tables(values, plain, Options(ascii_parens=rng.random() < 0.3), rng)
    blank_zeros(tables, blanks)
    blocks: list[Block] = [Heading(title(values), 0), *_prose(intro(values, rng), _INTRO_HEADINGS)]
    for table in tables:
        blocks.extend([Heading(HEADINGS[table.name]), Paragraph(between(table, values, rng)), table])
    blocks.extend(_prose(outro(values, rng), _OUTRO_HEADINGS))
    return Report(blocks, shown_keys(tables))
