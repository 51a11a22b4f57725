"""Synthetic messy annual reports whose gold is known by construction.

Real reports are few and hand-checked gold is expensive; this package makes
as many documents as wanted, each printing one randomly drawn, consistent set
of tables (:mod:`evals.synth.values`) in one of the messy layouts seen in the
wild (:mod:`evals.synth.layouts`).  The gold file is the drawn values
restricted to the cells the layout prints, fixed before any text exists, so
a reader under test can be scored without anyone re-reading the text.

Regenerate the committed dev set with::

    python -m evals.synth --out evals/data/synth --seed 7 --count 52
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

from evals.synth.layouts import BASE_LAYOUTS, Layout
from evals.synth.patterns import PATTERN_LAYOUTS
from evals.synth.values import (
    TEMPLATES,
    Number,
    Template,
    broken_identities,
    field_keys,
    inject_mistake,
    random_values,
)

__all__ = ["LAYOUTS", "Document", "generate", "plan", "write"]

MISTAKE_RATE = 0.15
LAYOUTS: tuple[Layout, ...] = BASE_LAYOUTS + PATTERN_LAYOUTS


@dataclass
class Document:
    """One generated document: file bytes plus its gold object."""

    name: str
    ext: str
    body: bytes
    gold: dict[str, object]
    layout: str
    template: Template
    mistake: str | None
    encoding: str
    merged_other: bool = False  # (六)其他处理 printed as one row in a 2021 report

    @property
    def fields(self) -> dict[str, Number]:
        """The gold ``fields`` mapping, typed."""
        fields = self.gold["fields"]
        assert isinstance(fields, dict)
        return fields


def plan(count: int, layouts: tuple[Layout, ...] = LAYOUTS) -> list[tuple[Layout, int, Template]]:
    """Which layout and template each document gets.

    Layouts are cycled so each appears ``count // len(LAYOUTS)`` times or
    once more; the template alternates between a layout's successive
    documents (offset by the layout's index), so any layout produced twice
    shows both templates — unless the layout exists for one template only
    (``Layout.templates``).
    """
    out: list[tuple[Layout, int, Template]] = []
    for i in range(count):
        idx = i % len(layouts)
        k = i // len(layouts)
        layout = layouts[idx]
        choices = layout.templates or TEMPLATES
        out.append((layout, k, choices[(k + idx) % len(choices)]))
    return out


def generate(seed: int, count: int, layouts: tuple[Layout, ...] = LAYOUTS, prefix: str = "synth") -> list[Document]:
    """Generate ``count`` documents deterministically from ``seed``.

    Each document has its own ``random.Random`` seeded from (seed, index), so
    one document does not change when another layout's code changes.
    ``layouts`` and ``prefix`` let another generator (evals.messy: Word, PDF,
    scans) reuse the values, mistakes and gold with its own renderers; the
    prefix names the files and the random streams, so the defaults reproduce
    the committed synth set bit for bit.
    """
    master = random.Random(f"gongkai-{prefix}:{seed}")
    layout_plan = plan(count, layouts)
    eligible = [i for i, (lay, _, _) in enumerate(layout_plan) if lay.mistakes]
    n_mistakes = min(len(eligible), max(1, round(MISTAKE_RATE * count)))
    mistaken = set(master.sample(eligible, n_mistakes))
    docs: list[Document] = []
    for i, (layout, k, template) in enumerate(layout_plan):
        rng = random.Random(f"gongkai-{prefix}:{seed}:{i}")
        values = random_values(rng, template)
        while layout.nonzero and values.fields["t3.total.total"] == 0:
            values = random_values(rng, template, values.year, values.agency)
        if layout.tweak is not None:
            layout.tweak(values, rng, k)
        mistake_note: str | None = None
        if i in mistaken:
            mistake_note = inject_mistake(rng, values).describe(template, values.merged_other)
        # Gold is fixed here, before the renderer produces any text.
        truth = dict(values.fields)
        rendered = layout.render(values, rng, k)
        if values.fields != truth:
            raise AssertionError(f"layout {layout.name} changed the values while rendering")
        shown = set(rendered.shown) if rendered.shown is not None else set(truth)
        merged = values.merged_other
        fields = {key: truth[key] for key in field_keys(template, merged) if key in shown}
        name = f"{prefix}-{layout.name}-{k + 1}"
        notes = [f"layout {layout.name}: {layout.description}", *rendered.notes]
        if mistake_note:
            notes.append(mistake_note)
        elif not broken_identities(fields, template, merged):
            notes.append("all identities of FIELDS.md hold")
        gold: dict[str, object] = {
            "doc": name,
            "template": template,
            "year": values.year,
            "agency": values.agency.name,
            "source": f"synthetic (evals/{prefix}, seed {seed})",
            "notes": "; ".join(notes),
            "fields": fields,
        }
        docs.append(
            Document(
                name,
                rendered.ext,
                rendered.body,
                gold,
                layout.name,
                template,
                values.mistake.key if values.mistake else None,
                rendered.encoding,
                merged,
            )
        )
    return docs


def _readme(docs: list[Document], seed: int, count: int) -> str:
    """The data directory's README, generated so it never drifts from the data."""
    lines = [
        "# Synthetic dev set (evals/synth)",
        "",
        "Messy renderings of randomly drawn annual-report tables, each `NAME.<ext>` with",
        "`NAME.gold.json` in the format of `/work/shared/benchmark/FIELDS.md` (plus",
        "`source` and `notes`).",
        "",
        "**Gold is by construction.** The generator first draws a complete set of",
        "values that satisfies every identity of FIELDS.md (`evals/synth/values.py`),",
        "then fixes the gold (those values, restricted to the cells the layout prints),",
        "and only then renders the text (`evals/synth/layouts.py`). Gold is never",
        "obtained by reading the rendered text back. Blanks/`—`/`-`/`/`/`无`/empty",
        "cells are 0 in gold; cells a cut-off document does not show are absent.",
        "",
        f"In about {int(MISTAKE_RATE * 100)} % of documents one publisher's mistake is",
        "injected on purpose (one cell of table 3 or 4 changed so that a sum breaks);",
        "gold keeps the printed value and `notes` names the cell, the consistent value",
        "and the identities it breaks. Every other document satisfies all identities",
        "that its shown cells allow checking.",
        "",
        "Regenerate (deletes and rewrites the `synth-*` files here):",
        "",
        "```",
        f"python -m evals.synth --out evals/data/synth --seed {seed} --count {count}",
        "```",
        "",
        "## Layouts",
        "",
        "| layout | what it is | documents |",
        "| --- | --- | --- |",
    ]
    for lay in LAYOUTS:
        n = sum(1 for d in docs if d.layout == lay.name)
        desc = lay.description.replace("|", "\\|")  # keep the markdown table intact
        lines.append(f"| `{lay.name}` | {desc} | {n} |")
    lines += [
        "",
        "Quirk layouts (cutheaders, labels, extrarows, traditional, fullwidth,",
        "numformats, blanks, cutoff, encoding, dropped) print their tables in one of",
        "the plain styles (pipes, cellpipe, barline, paragraphs, markdown, flipbook);",
        "the gold `notes` say which.",
        "",
        "The last seven layouts (`evals/synth/patterns.py`) reproduce patterns met in real",
        "reports (issue 9): `barcells` (one cell per line, empty cells as lone `|` lines),",
        "`prosethree` (a paragraph in or before table 3 restating it with numbers that",
        "sometimes differ; gold is the table, prose numbers are never gold), `flippage`",
        "(one flip-book page: no heading, vertical headers; cells before the page are",
        "absent), `tradpage` (no title, traditional characters, pinyin glosses),",
        "`hybridtwo` (odd/stripped 第二十条 labels, unlabelled table-2 rows; in a 2021",
        "report a 2019-style table 2 of which only the three 处理决定数量 cells are gold),",
        "`dedup` (every repeated line dropped; every other one has all-zero tables 3",
        "and 4) and `otherrow` (2021 template, (六)其他处理 as one row: `t3.other.*`).",
        "",
        "## Documents",
        "",
        "| doc | template | year | layout | encoding | injected mistake |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for d in docs:
        lines.append(
            f"| `{d.name}.{d.ext}` | {d.template} | {d.gold['year']} | {d.layout} | {d.encoding} | {d.mistake or ''} |"
        )
    return "\n".join(lines) + "\n"


def write(docs: list[Document], out: Path, seed: int, count: int) -> None:
    """Write documents, gold files and README into ``out``, replacing old ones."""
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("synth-*"):
        old.unlink()
    for d in docs:
        (out / f"{d.name}.{d.ext}").write_bytes(d.body)
        (out / f"{d.name}.gold.json").write_text(
            json.dumps(d.gold, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
    (out / "README.md").write_text(_readme(docs, seed, count), encoding="utf-8")
