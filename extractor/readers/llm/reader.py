"""The LLM reader: blocks of rows → one structured call each → grounded field values.

It uses the deterministic reader's plan (template, table regions, row anchors) only to cut the
text; every number comes from the model, and every number is checked against the text.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from extractor.confidence import EVEN, GROUNDED, SUSPECT
from extractor.ingest import SourceDocument
from extractor.model import FieldValue
from extractor.readers.layout import DocumentPlan, SectionReading
from extractor.readers.llm.blocks import Block, plan_blocks, row_anchors
from extractor.readers.llm.cache import ResponseCache
from extractor.readers.llm.client import Answer, BlockClient
from extractor.readers.llm.config import LLMSettings
from extractor.readers.llm.grounding import ground_row
from extractor.readers.llm.prompts import block_prompt, system_prompt
from extractor.readers.llm.windows import Blanked, blank_narrative, trim
from schemas import DISCLOSURE_REPORT, ReportType, SectionSpec, block_model, block_name, row_cells

LLM_READER_VERSION = "llm-0.2.0"  # 0.2: auto falls back to text windows; whole rows settled by the sums


@dataclass
class LLMUsage:
    """What the LLM cost for one document: every attempt counts, cached answers cost nothing."""

    calls: int = 0
    attempts: int = 0
    cached: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    seconds: float = 0.0
    cost: float = 0.0
    failures: list[str] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)

    def add(self, answer: Answer, seconds: float, settings: LLMSettings) -> None:
        self.calls += 1
        self.attempts += answer.attempts
        self.tokens_in += answer.tokens_in
        self.tokens_out += answer.tokens_out
        self.seconds += seconds
        self.cost = settings.cost(self.tokens_in, self.tokens_out)

    def merge(self, other: dict[str, Any]) -> None:
        """Add another run's usage (as stored on an Extraction) to this one: benchmark totals."""
        for name in ("calls", "attempts", "cached", "tokens_in", "tokens_out"):
            setattr(self, name, getattr(self, name) + int(other.get(name, 0)))
        self.seconds += float(other.get("seconds", 0.0))
        self.cost += float(other.get("cost", 0.0))
        self.failures.extend(other.get("failures", []))

    def as_dict(self) -> dict[str, object]:
        return {
            "calls": self.calls, "attempts": self.attempts, "cached": self.cached, "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out, "seconds": round(self.seconds, 3), "cost": round(self.cost, 6),
            "failures": list(self.failures), "sections": list(self.sections),
        }  # fmt: skip


class Budget(Protocol):
    """Tokens one document may still spend. A document read in one process uses `TokenBudget`;
    a document whose sections are read by several workers shares one kept in the broker."""

    def allows(self) -> bool: ...

    def spend(self, tokens: int) -> None: ...


class TokenBudget:
    """A document's token budget within one process (blocks are read by a thread pool)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.spent = 0
        self.lock = threading.Lock()

    def allows(self) -> bool:
        with self.lock:
            return self.spent < self.limit

    def spend(self, tokens: int) -> None:
        with self.lock:
            self.spent += tokens


@dataclass(frozen=True)
class _Job:
    """One block to ask for; `text` is what it is read and grounded in (prose blanked in a fallback window)."""

    reading: SectionReading
    block: Block
    text: str
    blanked: Blanked | None = None  # a fallback window: what the model is shown leaves the prose out


def _answer(job: _Job, settings: LLMSettings, client: BlockClient, cache: ResponseCache,
            budget: Budget, usage: LLMUsage, lock: threading.Lock) -> Answer:  # fmt: skip
    block = job.block
    text = job.blanked.shown(block.start, block.end) if job.blanked else block.text(job.text)
    name = block_name(block.section, block.rows)
    key = cache.key(settings.model or "", settings.prompt_version, settings.mode, name, text)
    cached = cache.get(key)
    if cached is not None:
        with lock:
            usage.cached += 1
        return Answer(cached, 0, 0, 0)
    if not budget.allows():
        return Answer(None, 0, 0, 0, "token budget for this document spent")
    started = time.perf_counter()
    answer = client.ask(
        system_prompt(settings.prompt_version),
        block_prompt(settings.prompt_version, block.section, block.rows, text),
        block_model(block.section, block.rows),
    )
    budget.spend(answer.tokens_in + answer.tokens_out)
    with lock:
        usage.add(answer, time.perf_counter() - started, settings)
        if answer.error:
            usage.failures.append(f"{name}: {answer.error}")
    if answer.data is not None:
        cache.put(key, answer.data)
    return answer


def _row_windows(block: Block, normalized: str) -> dict[str, tuple[int, int] | None]:
    """Each row's own stretch of the text, from its label to the next label found.

    Tables without row labels (table 4) share the block's text; a labelled row whose label is
    not found gets no window, so nothing the model says about it counts as grounded.
    """
    if not block.section.labelled:
        return {row.key: (block.start, block.end) for row in block.rows}
    windows: dict[str, tuple[int, int] | None] = {row.key: None for row in block.rows}
    for index, (start, key) in enumerate(block.anchors):
        if key in windows:
            end = block.anchors[index + 1][0] if index + 1 < len(block.anchors) else block.end
            windows[key] = (start, max(start + 1, end))
    order = [row.key for row in block.section.rows]
    found = {key: start for start, key in block.anchors}
    for key in [k for k, w in windows.items() if w is None]:
        # a row whose label was lost still prints its cells between its neighbours' labels
        position = order.index(key)
        before = [found[k] for k in order[:position] if k in found]
        after = [found[k] for k in order[position + 1 :] if k in found]
        if before and after and max(before) < min(after):
            windows[key] = (max(before), min(after))
    return windows


def _fields(block: Block, answer: Answer, normalized: str) -> list[FieldValue]:
    if answer.data is None:
        return []
    windows = _row_windows(block, normalized)
    rows = [(row, row_cells(row, answer.data.get(row.key))) for row in block.rows]
    if not block.section.labelled:
        # rows without labels (table 4) are one run of cells in order: ground them as one row
        flat = [value for _, values in rows for value in values]
        width = sum(len(row.columns) for row, _ in rows)
        grounded_all = ground_row(normalized, (block.start, block.end), flat, width)
        cuts = [sum(len(r.columns) for r, _ in rows[:i]) for i in range(len(rows) + 1)]
        groundings_by_row = [grounded_all[cuts[i] : cuts[i + 1]] for i in range(len(rows))]
    else:
        groundings_by_row = [
            ground_row(normalized, windows.get(row.key), values, len(row.columns)) for row, values in rows
        ]
    out: list[FieldValue] = []
    for (row, values), groundings in zip(rows, groundings_by_row, strict=True):
        partial = any(v is None for v in values) and any(v is not None for v in values)
        for column, value, grounding in zip(row.columns, values, groundings, strict=True):
            if value is None or grounding is None:
                continue
            cell = FieldValue(
                row.field_key(block.section.key, column), value, raw=str(value), span=grounding.span,
                status="read", confidence=GROUNDED, source="llm",
            )  # fmt: skip
            if not grounding.grounded:
                cell.doubt(grounding.reason, SUSPECT)
            if partial:
                cell.doubt("the LLM left other cells of this row empty: its reading of the row is incomplete", EVEN)
            out.append(cell)
    return out


def read_sections_llm(
    doc: SourceDocument, plan: DocumentPlan, section_keys: Sequence[str], settings: LLMSettings,
    client: BlockClient | None = None, report: ReportType = DISCLOSURE_REPORT, budget: Budget | None = None,
    windows: Mapping[str, tuple[int, int]] | None = None,
) -> tuple[list[SectionReading], LLMUsage]:  # fmt: skip
    """Read the named sections with the LLM, blocks in parallel up to the configured concurrency.

    `budget` is the document's: pass the same one to every call that reads part of one document.
    `windows` are text windows for sections the rules reader could not place (`windows.py`): such a
    section is read there, with narrative lines blanked, instead of in its (missing) region.
    The usage's `sections` are those for which at least one block was asked for.
    """
    settings.require()
    windows = windows or {}
    usage = LLMUsage(sections=list(section_keys))
    if plan.template is None:
        return [], usage
    template = report.template(plan.template)
    client = client or BlockClient(settings)
    cache = ResponseCache(settings.cache_dir, settings.base_url)
    budget = budget if budget is not None else TokenBudget(settings.token_budget)
    lock = threading.Lock()
    readings: list[SectionReading] = []
    jobs: list[_Job] = []
    for key in section_keys:
        reading = SectionReading(key)
        readings.append(reading)
        section = template.section(key)
        if key in windows:
            later = template.sections[[s.key for s in template.sections].index(key) + 1 :]
            jobs.extend(_fallback_jobs(reading, section, later, doc.normalized, windows[key], settings.block_rows))
            continue
        region = plan.regions.get(key)
        if region is None:
            reading.notes.append(f"{key}: not found, not sent to the LLM")
            continue
        for block in plan_blocks(section, doc.normalized, region, settings.block_rows):
            jobs.append(_Job(reading, block, doc.normalized))
    usage.sections = [key for key in section_keys if any(job.reading.section == key for job in jobs)]
    with ThreadPoolExecutor(max_workers=max(1, settings.concurrency)) as pool:
        answers = list(pool.map(lambda job: _answer(job, settings, client, cache, budget, usage, lock), jobs))
    for job, answer in zip(jobs, answers, strict=True):
        if answer.error:
            name = block_name(job.block.section, job.block.rows)
            job.reading.notes.append(f"{name}: LLM gave no usable answer ({answer.error})")
        job.reading.fields.extend(_fields(job.block, answer, job.text))
    return readings, usage


def _fallback_jobs(
    reading: SectionReading, section: SectionSpec, later: Sequence[SectionSpec], normalized: str,
    window: tuple[int, int], block_rows: int,
) -> list[_Job]:  # fmt: skip
    """The blocks of a table the rules reader could not place, read in its window with the prose blanked.

    A labelled table none of whose row labels is printed in the window (outside prose) is not sent,
    nor is a block of rows none of which is: no value the model gave for them could be grounded. A
    table without row labels (table 4) is sent only from its heading on, so that its run of cells
    is not mistaken for the numbers before it. The window is cut to the table (`windows.trim`).
    """
    blanked = blank_narrative(normalized, window)
    text, (start, end) = blanked.text, window
    anchors = row_anchors(section, text, window)
    if section.labelled:
        if not anchors:
            reading.notes.append(f"{section.key}: not placed, and no row of it is printed near: not sent to the LLM")
            return []
        start, end = trim(section, later, text, window, min(anchors.values()), max(anchors.values()))
    else:
        heading = min((p for h in section.location.headings if (p := text.find(h, start, end)) >= 0), default=None)
        if heading is None:
            reading.notes.append(f"{section.key}: not placed, and its heading is not printed near: not sent to the LLM")
            return []
        start, end = heading, trim(section, later, text, window, heading, heading + 1)[1]
    reading.notes.append(
        f"{section.key}: not placed by the rules reader; the LLM read characters {start}-{end} around it "
        "(narrative lines left out)"
    )
    blocks = plan_blocks(section, text, (start, end), block_rows)
    # a block none of whose rows is printed in the window could only be answered by invention
    printed = [b for b in blocks if not section.labelled or any(row.key in anchors for row in b.rows)]
    return [_Job(reading, block, text, blanked) for block in printed]
