"""Cut a section into blocks of rows, each with the slice of text that prints them.

A small model transcribes a few rows from their own lines far better than a whole table from
a whole report, and sending only the slice keeps the tokens down. Rows are anchored where the
deterministic reader found their labels; a block without any anchor gets the section's text.
"""

from __future__ import annotations

from dataclasses import dataclass

from extractor.readers.layout.rows import assemble_rows
from extractor.readers.layout.tokens import tokenize
from schemas import RowSpec, SectionSpec


@dataclass(frozen=True)
class Block:
    section: SectionSpec
    rows: tuple[RowSpec, ...]
    start: int
    end: int
    anchors: tuple[tuple[int, str], ...] = ()  # (label start, row key) over the whole section, in order

    def text(self, normalized: str) -> str:
        return normalized[self.start : self.end]


def row_anchors(section: SectionSpec, normalized: str, region: tuple[int, int]) -> dict[str, int]:
    """Where each row's label starts, for the rows the label matcher recognises."""
    if not section.labelled:
        return {}
    widths = {len(row.columns) for row in section.rows}
    width = widths.pop() if len(widths) == 1 else None
    anchors: dict[str, int] = {}
    for raw in assemble_rows(section, tokenize(normalized, *region), width):
        if raw.row is not None and raw.label_span is not None and not raw.weak:
            anchors.setdefault(raw.row.key, raw.label_span[0])
    return anchors


def plan_blocks(section: SectionSpec, normalized: str, region: tuple[int, int], rows_per_block: int) -> list[Block]:
    """Blocks of consecutive rows; tables whose rows differ in width (table 2) or carry no
    labels (table 4) go as one block, they are short. The mandated rows only: a row some reports
    print instead of others (六 as one row) is the rules reader's to find, never a model's to fill."""
    rows = section.rows_used()
    anchors = row_anchors(section, normalized, region)
    ordered = tuple(sorted((start, key) for key, start in anchors.items()))
    if not section.labelled or len({len(r.columns) for r in rows}) > 1:
        return [Block(section, rows, region[0], region[1], ordered)]
    groups = [rows[i : i + rows_per_block] for i in range(0, len(rows), rows_per_block)]
    starts = [min((anchors[r.key] for r in group if r.key in anchors), default=None) for group in groups]
    blocks = []
    for index, group in enumerate(groups):
        start = starts[index]
        later = [s for s in starts[index + 1 :] if s is not None]
        end = later[0] if later and start is not None and later[0] > start else region[1]
        if start is None:
            previous = [s for s in starts[:index] if s is not None]
            start = previous[-1] if previous else region[0]
        blocks.append(Block(section, group, max(region[0], start), min(region[1], max(end, start + 1)), ordered))
    return blocks
