"""Review load on the dev set: how many cells a reviewer looks at per report, and how many keys clear them.

    .venv/bin/python -m evals.review_load [FOLDERS...] [--only txt,md,html] [--out out/review-load.json]

The same documents and reader as `make eval` (`gongkai eval ../shared/benchmark/real evals/data
--only txt,md,html`): every `NAME.<ext>` with a `NAME.gold.json`, read by the rules reader through
`evals.benchmark.rules_reader` (ingest, read, reconcile: what `gongkai eval` and `gongkai serve`
run). Per report, over the cells of its template (the form's cells, which the document page draws):

- *look at*: the cells the document page's keyboard walks (states `flagged` and `inferred`:
  confidence below `FLAG_BELOW`, missing, not returned at all, or inferred from the sums);
- of those, *right* (the value equals gold, or there is no value and gold has none: the document
  does not show that cell — counted apart too as *absent*) and *wrong* (anything else);
- *silent* wrong cells: not flagged and not equal to gold; nothing to type, the page shows them
  as verified, so they are the ones a reviewer would miss;
- *keystrokes* to clear the flags with the document page's keyboard model (docs contract): accept
  = 1 (Enter); a correction = the characters of the gold value + 1 (Enter); clearing a value the
  document does not show = 2 (Backspace, Enter); moving to the next flagged cell costs nothing.

The dev set's real reports include 25 page excerpts (`-x`, cut off in table 2 or 3): their
absent cells are flagged "not found" and cost one Enter each, so figures are also given for
*complete* reports (gold has at least 95 % of the template's cells) and *partial* ones apart.

A report whose template is misread is counted with the cells of the template read (or, when none
was read, the gold template's cells all wrong): the reviewer would have to notice it anyway.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from evals.benchmark import Reader, rules_reader
from evals.gold import GoldCase, load_cases
from evals.shared import shared_real
from extractor.confidence import FLAG_BELOW
from extractor.ingest import IngestError
from extractor.model import FieldValue
from schemas import DISCLOSURE_REPORT

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_FOLDERS = (shared_real(), ROOT / "evals" / "data")
ACCEPT, ENTER, CLEAR = 1, 1, 2


def typed(value: float) -> str:
    """What a reviewer types for a number: no thousands separators, no trailing `.0`."""
    if float(value).is_integer():
        return str(int(value))
    return format(float(value), "g") if abs(value) < 1e15 else repr(value)


def same(read: Any, gold: Any) -> bool:
    if read is None or gold is None:
        return read is None and gold is None
    return math.isclose(float(read), float(gold), abs_tol=1e-9)


@dataclass
class ReportLoad:
    """One report's review load."""

    doc: str
    folder: str
    template: str
    template_ok: bool
    cells: int = 0
    gold_cells: int = 0
    look_at: int = 0
    right: int = 0
    absent: int = 0
    wrong: int = 0
    corrections: int = 0
    clears: int = 0
    silent: int = 0
    keystrokes: int = 0
    silent_keys: list[str] = field(default_factory=list)


def template_keys(template: str | None, present: Collection[str] = ()) -> list[str]:
    """The keys of the form the report used (the mandated form when nothing was read)."""
    if not template:
        return []
    try:
        return DISCLOSURE_REPORT.template(str(template)).used_keys(present)
    except (KeyError, ValueError):
        return []


def walked(cell: FieldValue | None) -> bool:
    """Whether the document page asks about this cell (its `flagged` and `inferred` states); a cell
    the reader did not return is drawn as missing."""
    return cell is None or cell.status in ("inferred", "missing") or cell.confidence < FLAG_BELOW


def load_of(case: GoldCase, reader: Reader = rules_reader) -> ReportLoad:
    """Read one gold case and count what its review takes."""
    gold_template = str(case.gold.get("template") or "")
    gold = case.fields
    folder = case.document.parent.name
    try:
        extraction = reader(case)
    except IngestError:
        # Unreadable: every cell of the gold template would have to be typed.
        keys = template_keys(gold_template)
        load = ReportLoad(case.name, folder, gold_template, False, len(keys), len(gold), look_at=len(keys))
        for key in keys:
            load.wrong += 1
            if key in gold:
                load.corrections += 1
                load.keystrokes += len(typed(gold[key])) + ENTER
        return load
    template = str(extraction.template or "")
    keys = template_keys(template, extraction.fields) or sorted(extraction.fields)
    load = ReportLoad(case.name, folder, gold_template or template, template == gold_template, len(keys), len(gold))
    for key in keys:
        cell = extraction.fields.get(key)
        value = cell.value if cell else None
        flagged = walked(cell)
        expected = gold.get(key)
        if not flagged:
            if not same(value, expected):
                load.silent += 1
                load.silent_keys.append(key)
            continue
        load.look_at += 1
        if same(value, expected):
            load.right += 1
            load.absent += value is None
            load.keystrokes += ACCEPT
        elif expected is None:
            load.wrong += 1
            load.clears += 1
            load.keystrokes += CLEAR
        else:
            load.wrong += 1
            load.corrections += 1
            load.keystrokes += len(typed(expected)) + ENTER
    return load


FIGURES = ("cells", "gold_cells", "look_at", "right", "absent", "wrong", "silent", "keystrokes")
COMPLETE = 0.95  # a report whose gold has this share of its template's cells is complete


def quantile(values: Sequence[float], q: float) -> float:
    """The `q` quantile, nearest rank (so a p90 is a value some report has)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def summarize(loads: Sequence[ReportLoad]) -> dict[str, Any]:
    """Mean, median and p90 of each figure over reports, and the median report by keystrokes."""
    if not loads:
        return {"reports": 0}
    out: dict[str, Any] = {"reports": len(loads), "templates_wrong": sum(1 for x in loads if not x.template_ok)}
    for name in FIGURES:
        values = [float(getattr(x, name)) for x in loads]
        out[name] = {
            "mean": round(statistics.fmean(values), 1),
            "median": statistics.median(values),
            "p90": quantile(values, 0.9),
            "total": int(sum(values)),
        }
    ordered = sorted(loads, key=lambda x: (x.keystrokes, x.look_at, x.doc))
    typical = ordered[(len(ordered) - 1) // 2]
    out["typical_report"] = {k: v for k, v in asdict(typical).items() if k != "silent_keys"}
    looked = out["look_at"]["total"]
    out["share_of_cells_looked_at"] = round(looked / out["cells"]["total"], 4) if out["cells"]["total"] else 0.0
    out["share_of_looked_at_right"] = round(out["right"]["total"] / looked, 4) if looked else 0.0
    return out


def run(cases: Sequence[GoldCase], progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    loads = []
    for case in cases:
        loads.append(load_of(case))
        if progress:
            progress(case.name)
    groups: dict[str, list[ReportLoad]] = defaultdict(list)
    for load in loads:
        groups[f"template {load.template}"].append(load)
        groups[load.folder].append(load)
        complete = "complete" if load.gold_cells >= COMPLETE * load.cells else "partial"
        groups[complete].append(load)
        groups[f"{load.folder} {complete}"].append(load)
    return {
        "how": (__doc__ or "").split("\n\n", 2)[2].strip(),
        "all": summarize(loads),
        "groups": {name: summarize(group) for name, group in sorted(groups.items())},
        "reports": [asdict(x) for x in loads],
    }


def print_table(result: dict[str, Any]) -> None:
    """One row per group of reports: mean / median / p90 of each figure."""
    from rich.console import Console
    from rich.table import Table

    console = Console(width=max(Console().width, 130))
    table = Table("reports", "n", *FIGURES, title="Review load per report: mean / median / p90")
    for name, figures in {"all": result["all"], **result["groups"]}.items():
        if not figures["reports"]:
            continue

        def cell(figure: str, stats: dict[str, Any] = figures) -> str:
            return " / ".join(f"{stats[figure][k]:g}" for k in ("mean", "median", "p90"))

        table.add_row(name, str(figures["reports"]), *(cell(f) for f in FIGURES))
    console.print(table)
    for name, figures in (("all", result["all"]), *result["groups"].items()):
        typical = figures.get("typical_report")
        if not typical or name not in ("all", "complete", "real complete"):
            continue
        console.print(
            f"typical {name} report (median by keystrokes): {typical['doc']}, template {typical['template']}: "
            f"{typical['cells']} cells, {typical['look_at']} to look at ({typical['right']} right: accept, "
            f"{typical['absent']} of them absent; {typical['wrong']} wrong: {typical['corrections']} typed, "
            f"{typical['clears']} cleared), {typical['keystrokes']} keystrokes, {typical['silent']} silent",
            highlight=False,
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.review_load", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("folders", nargs="*", type=Path, default=list(DEFAULT_FOLDERS))
    parser.add_argument("--only", default="txt,md,html", help="document suffixes (as `make eval`); '' for all")
    parser.add_argument("--out", type=Path, default=Path("out/review-load.json"))
    args = parser.parse_args(argv)
    suffixes = tuple(f".{s.strip().lstrip('.').lower()}" for s in args.only.split(",") if s.strip()) or None
    cases = load_cases(*args.folders, suffixes=suffixes)
    if not cases:
        parser.error("no NAME.gold.json with a matching document found")
    result = run(cases)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print_table(result)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
