"""The `gongkai` command: a thin door onto the engine (ingest, readers, reconciler, storage, evals)."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from extractor.ingest import IngestError, SourceDocument, load_path
from extractor.model import Extraction
from extractor.pipeline import READERS, extract
from extractor.readers.llm import LLMNotConfigured, LLMSettings
from extractor.settings import SAMPLE_REPORT, get_settings
from schemas import DISCLOSURE_REPORT
from workers.cli import submit_command, worker_command

app = typer.Typer(add_completion=False, help="Read Chinese government information-disclosure annual reports.")
out_console = Console()
err_console = Console(stderr=True)


ReaderOption = Annotated[
    str,
    typer.Option(
        "--reader", help="rules (default, no key), llm, both, or auto (LLM only where a second reading can help)"
    ),
]
LLMUrlOption = Annotated[
    str | None, typer.Option("--llm-base-url", help="OpenAI-compatible server (GONGKAI_LLM_BASE_URL)")
]
LLMModelOption = Annotated[str | None, typer.Option("--llm-model", help="model name (GONGKAI_LLM_MODEL)")]
LLMModeOption = Annotated[str | None, typer.Option("--llm-mode", help="instructor mode: TOOLS, JSON, MD_JSON")]


def _llm_settings(reader: str, base_url: str | None, model: str | None, mode: str | None) -> LLMSettings | None:
    """LLM settings from the environment with command-line overrides; a clear exit when missing."""
    if reader not in READERS:
        err_console.print(f"[red]error[/red] unknown reader '{reader}': choose one of {', '.join(READERS)}")
        raise typer.Exit(code=2)
    if reader == "rules":
        return None
    overrides = {k: v for k, v in {"base_url": base_url, "model": model, "mode": mode}.items() if v}
    settings = LLMSettings(**overrides)  # type: ignore[arg-type]
    if not settings.configured:
        err_console.print(f"[red]error[/red] --reader {reader}: {LLMNotConfigured()}", highlight=False)
        raise typer.Exit(code=2)
    return settings


class Format(StrEnum):
    table = "table"
    json = "json"
    flat = "flat"


class _Store:
    """One database for the whole command: migrations run once, one engine, one line per failure."""

    def __init__(self, url: str) -> None:
        from extractor.storage import database

        self.url = url
        database.upgrade(url)
        self.engine = database.make_engine(url)
        self.sessions = database.session_factory(self.engine)

    def save(self, doc: SourceDocument, extraction: Extraction) -> int:
        from extractor.storage import repository

        with self.sessions() as session:
            run = repository.save_result(session, doc, extraction)
            session.commit()
            return int(run.id)

    def close(self) -> None:
        self.engine.dispose()


def _open_store(url: str) -> _Store:
    from sqlalchemy.exc import SQLAlchemyError

    try:
        return _Store(url)
    except SQLAlchemyError as exc:
        err_console.print(
            f"[red]error[/red] database {escape(url)}: {exc.__class__.__name__}: {getattr(exc, 'orig', None) or exc}"[
                :300
            ]
        )
        raise typer.Exit(code=2) from exc


def _write(out: Path, name: str, extraction: Extraction) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(extraction.flat(), ensure_ascii=False, indent=1), encoding="utf-8")
    (out / f"{name}.detail.json").write_text(
        json.dumps(extraction.detailed(), ensure_ascii=False, indent=1), encoding="utf-8"
    )


def _output_names(paths: list[Path]) -> dict[Path, str]:
    """NAME for NAME.json: the stem, or the file name where two inputs share a stem."""
    stems: dict[str, int] = {}
    for path in paths:
        stems[path.stem] = stems.get(path.stem, 0) + 1
    names = {path: path.stem if stems[path.stem] == 1 else path.name for path in paths}
    counts: dict[str, int] = {}
    for path, name in names.items():
        counts[name] = counts.get(name, 0) + 1
        if counts[name] > 1:
            names[path] = f"{name}-{counts[name]}"
    return names


def _show(extraction: Extraction, fmt: Format, lines: bool) -> None:
    """Print one extraction; in a batch, JSON goes out one object per line (JSON Lines)."""
    if fmt is Format.table:
        from extractor.render import render

        template = DISCLOSURE_REPORT.template(extraction.template) if extraction.template else None
        out_console.print(render(extraction, template))
        return
    payload = extraction.flat() if fmt is Format.flat else extraction.detailed()
    text = json.dumps(payload, ensure_ascii=False) if lines else json.dumps(payload, ensure_ascii=False, indent=1)
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


@app.command("extract")
def extract_command(
    files: Annotated[list[Path] | None, typer.Argument(help="report files; none = the bundled sample report")] = None,
    fmt: Annotated[
        Format, typer.Option("--format", "-f", help="table, json (every cell) or flat (FIELDS.md)")
    ] = Format.table,
    out: Annotated[Path | None, typer.Option("--out", help="write NAME.json (flat) and NAME.detail.json here")] = None,
    store: Annotated[bool, typer.Option("--store/--no-store", help="save documents and runs in the database")] = True,
    database_url: Annotated[
        str | None, typer.Option("--db", help="database URL (default GONGKAI_DATABASE_URL)")
    ] = None,
    reader: ReaderOption = "rules",
    llm_base_url: LLMUrlOption = None,
    llm_model: LLMModelOption = None,
    llm_mode: LLMModeOption = None,
) -> None:
    """Read each report, check its arithmetic, flag doubtful cells, store the run."""
    settings = get_settings()
    llm = _llm_settings(reader, llm_base_url, llm_model, llm_mode)
    paths = files or [SAMPLE_REPORT]
    names = _output_names(paths)
    url = database_url or settings.database_url
    many = len(paths) > 1
    failures = 0
    store_to = _open_store(url) if store else None
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err_console,
        disable=not many,
        redirect_stdout=False,
        redirect_stderr=False,
    )
    with progress:
        task = progress.add_task("extracting", total=len(paths))
        for path in paths:
            shown = escape(str(path))
            progress.advance(task)
            try:
                doc = load_path(path, max_bytes=settings.max_bytes)
                extraction = extract(doc, reader=reader, llm=llm)  # type: ignore[arg-type]
            except IngestError as exc:
                failures += 1
                err_console.print(f"[red]error[/red] {shown}: {escape(str(exc))}", highlight=False)
                continue
            except Exception as exc:  # one broken file must not stop a batch of a thousand
                failures += 1
                err_console.print(f"[red]error[/red] {shown}: internal error ({exc.__class__.__name__}: "
                                  f"{escape(str(exc))[:200]})", highlight=False)  # fmt: skip
                continue
            if extraction.template is None:
                failures += 1
                err_console.print(f"[red]error[/red] {shown}: none of the mandated tables was found", highlight=False)
                continue
            if out is not None:
                _write(out, names[path], extraction)
            if store_to is not None:
                run_id = store_to.save(doc, extraction)
                if not many and fmt is Format.table:
                    err_console.print(f"stored as run {run_id} in {escape(url)}", style="dim", highlight=False)
            if not many or out is None:
                _show(extraction, fmt, lines=many)
    if store_to is not None:
        store_to.close()
    if many:
        err_console.print(f"{len(paths) - failures} of {len(paths)} files read", highlight=False)
    if failures:
        raise typer.Exit(code=1)


@app.command("eval")
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

    llm = _llm_settings(reader, llm_base_url, llm_model, llm_mode)
    suffixes = tuple(f".{s.strip().lstrip('.').lower()}" for s in only.split(",")) if only else None
    cases = load_cases(*folders, suffixes=suffixes)
    if not cases:
        err_console.print("no NAME.gold.json with a matching document found")
        raise typer.Exit(code=2)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=err_console) as bar:
        task = bar.add_task("scoring", total=len(cases))
        result = run_benchmark(cases, make_reader(reader, llm), progress=lambda _name: bar.advance(task))  # type: ignore[arg-type]
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


@app.command("bench")
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


app.command("worker")(worker_command)
app.command("submit")(submit_command)


def main() -> None:
    app()
