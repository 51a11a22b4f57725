"""`gongkai eval` and `gongkai bench`: the benchmark doors (scores against gold, documents per second)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from extractor.cli.options import (
    LLMModelOption,
    LLMModeOption,
    LLMUrlOption,
    ReaderOption,
    choose_reader,
    err_console,
    fail,
    out_console,
)
from extractor.readers.llm import LLMConfigError

if TYPE_CHECKING:
    from rich.table import Table

    from evals.score import CalibrationBin


def eval_command(
    folders: Annotated[list[Path], typer.Argument(help="folders of NAME.<ext> + NAME.gold.json pairs")],
    report: Annotated[Path, typer.Option("--report", help="folder for report.html and the plot")] = Path("out/eval"),
    show_docs: Annotated[bool, typer.Option("--docs/--no-docs", help="one line per document")] = True,
    only: Annotated[str | None, typer.Option("--only", help="document suffixes to include, e.g. txt,md,html")] = None,
    reader: ReaderOption = "rules",
    llm_base_url: LLMUrlOption = None,
    llm_model: LLMModelOption = None,
    llm_mode: LLMModeOption = None,
) -> None:
    """Score the reader against gold: accuracy, silent errors, flagged errors, false flags, invented, speed."""
    from rich.table import Table

    from evals.benchmark import make_reader, run_benchmark
    from evals.gold import load_cases
    from evals.report import write_report
    from evals.score import calibration

    chosen, llm = choose_reader(reader, llm_base_url, llm_model, llm_mode)
    suffixes = tuple(f".{s.strip().lstrip('.').lower()}" for s in only.split(",")) if only else None
    cases = load_cases(*folders, suffixes=suffixes)
    if not cases:
        err_console.print("no NAME.gold.json with a matching document found")
        raise typer.Exit(code=2)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=err_console) as bar:
        task = bar.add_task("scoring", total=len(cases))
        try:
            result = run_benchmark(cases, make_reader(chosen, llm), progress=lambda _name: bar.advance(task))
        except LLMConfigError as exc:
            bar.stop()
            raise fail(str(exc)) from exc
    s = result.summary
    if show_docs:
        table = Table("doc", "fields", "correct", "wrong+flagged", "silent", "invented", "false flags", "template")
        for d in result.scores:
            table.add_row(
                d.doc,
                str(d.gold_fields),
                str(d.correct),
                str(d.flagged_errors),
                str(d.silent_errors),
                str(d.invented),
                str(d.false_flags),
                "ok" if d.template_ok else f"WRONG {d.error}",
            )
        out_console.print(table)
    summary: dict[str, Any] = {
        "documents": s.documents,
        "fields": s.fields,
        "accuracy": round(s.accuracy, 5),
        "silent_errors": s.silent_errors,
        "silent_rate": round(s.silent_rate, 5),
        "flagged_errors": s.flagged_errors,
        "false_flags": s.false_flags,
        "invented": s.invented,
        "templates_wrong": s.templates_wrong,
        "unreadable": s.failed_documents,
        "docs_per_second": round(s.docs_per_second, 1),
    }
    out_console.print(calibration_table(calibration(result.scores)))
    if llm is not None:
        t, u = result.llm, result.llm.usage
        summary["llm"] = {
            "model": llm.model, "mode": llm.mode, "calls": u.calls, "attempts": u.attempts, "cached": u.cached,
            "tokens_in": u.tokens_in, "tokens_out": u.tokens_out,
            "tokens_per_document": round((u.tokens_in + u.tokens_out) / max(1, s.documents), 1),
            "sections_sent": t.sections_sent, "sections_total": t.sections_total,
            "seconds_per_section": round(u.seconds / max(1, t.sections_sent), 3), "cost": round(u.cost, 6),
        }  # fmt: skip
    out_console.print_json(json.dumps(summary))
    page = write_report(result.scores, s, report, f"gongkai benchmark: {reader} reader")
    err_console.print(f"report: {page}", highlight=False)


def calibration_table(bins: list[CalibrationBin]) -> Table:
    """The CLI's calibration table: flagged gold cells per confidence bin, and the share wrong."""
    from rich.table import Table

    table = Table("confidence", "flagged", "wrong", "wrong rate", title="flagged cells by confidence")
    for b in bins:
        rate = "" if b.wrong_rate is None else f"{b.wrong_rate:.0%}"
        table.add_row(b.label, str(b.flagged), str(b.wrong), rate)
    return table


def bench_command(
    folders: Annotated[list[Path], typer.Argument(help="folders of report documents")],
    repeat: Annotated[int, typer.Option(help="timed passes over the documents")] = 7,
    max_kb: Annotated[int, typer.Option(help="only documents up to this size")] = 20,
) -> None:
    """Documents per second of ingest + rules reader + reconciliation on one core."""
    from evals.speed import measure, text_documents

    paths = text_documents(*folders, max_bytes=max_kb * 1024)
    result = measure(paths, repeat=repeat)
    out_console.print_json(
        json.dumps(
            {
                "documents": result.documents,
                "passes": len(result.pass_seconds),
                "mean_kb": round(result.mean_bytes / 1024, 1),
                "cpu_seconds": round(result.seconds, 3),
                "docs_per_second_median_pass": round(result.docs_per_second, 1),
                "docs_per_second_best_pass": round(result.best_docs_per_second, 1),
            }
        )
    )
