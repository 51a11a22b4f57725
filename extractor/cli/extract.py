"""`gongkai extract`: read reports, print or write what was found, store each run.

A thin door: files in, `Service` operations, rendering out. One broken file never stops a batch.
A file holding several reports (a 汇编) is read as one document per report (`Service.parts`):
the split is printed (`汇编.txt: 20 reports → 20 documents`), each part is stored as its own
document and run, and written as NAME#k.json with --out.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy.exc import SQLAlchemyError

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
from extractor.ingest import IngestError
from extractor.model import Extraction
from extractor.readers.llm import LLMConfigError
from extractor.service import Service
from extractor.settings import SAMPLE_REPORT
from extractor.split import describe
from schemas import DISCLOSURE_REPORT


class Format(StrEnum):
    table = "table"
    json = "json"
    flat = "flat"


def _open(url: str | None, store: bool) -> Service:
    """The service for the whole command: migrations run once; an unreachable database is one line."""
    try:
        return Service(url, store=store)
    except SQLAlchemyError as exc:
        raise fail(escape(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)[:300]) from exc


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
    chosen, llm = choose_reader(reader, llm_base_url, llm_model, llm_mode)
    paths = files or [SAMPLE_REPORT]
    names = _output_names(paths)
    many = len(paths) > 1
    failures = 0
    service = _open(database_url, store)
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=not many,  # one file: only its pages (a long PDF or scan) show, then the bar goes
        redirect_stdout=False,
        redirect_stderr=False,
    )
    documents = 0
    with progress:
        task = progress.add_task("extracting", total=len(paths), visible=many)
        pages = progress.add_task("pages", total=None, visible=False)

        def paged(done: int, total: int) -> None:
            progress.update(pages, completed=done, total=total, visible=total > 1)

        for path in paths:
            shown = escape(str(path))
            progress.advance(task)
            progress.update(pages, completed=0, total=None, visible=False, description=f"  {shown} pages")
            try:
                parts = service.ingest_parts(path, paged)
            except IngestError as exc:
                failures += 1
                err_console.print(f"[red]error[/red] {shown}: {escape(str(exc))}", highlight=False)
                continue
            except Exception as exc:  # one broken file must not stop a batch of a thousand
                failures += 1
                err_console.print(f"[red]error[/red] {shown}: internal error ({exc.__class__.__name__}: "
                                  f"{escape(str(exc))[:200]})", highlight=False)  # fmt: skip
                continue
            if len(parts) > 1:  # a compilation (汇编): each report is its own document and run
                err_console.print(escape(describe(path.name, parts)), highlight=False)
            lines = many or len(parts) > 1
            read = 0
            for doc in parts:
                label = shown if doc.origin is None else f"{shown} part {doc.origin.index} of {doc.origin.count}"
                try:
                    extraction = service.extract(doc, chosen, llm)
                except LLMConfigError as exc:  # a wrong key or URL is wrong for every file: stop, say which setting
                    progress.stop()
                    service.close()
                    raise fail(escape(str(exc))) from exc
                except Exception as exc:  # one broken report must not stop a batch of a thousand
                    err_console.print(f"[red]error[/red] {label}: internal error ({exc.__class__.__name__}: "
                                      f"{escape(str(exc))[:200]})", highlight=False)  # fmt: skip
                    continue
                if extraction.template is None:
                    err_console.print(f"[red]error[/red] {label}: none of the mandated tables was found",
                                      highlight=False)  # fmt: skip
                    continue
                read += 1
                if out is not None:
                    stem = names[path] if doc.origin is None else f"{names[path]}#{doc.origin.index}"
                    _write(out, stem, extraction)
                if store:
                    try:
                        run_id = service.store_run(doc, extraction)
                    except SQLAlchemyError as exc:
                        service.close()
                        raise fail(f"{label}: not stored: {escape(str(exc).splitlines()[0])[:300]}") from exc
                    if not many and fmt is Format.table:
                        err_console.print(f"stored as run {run_id} in {escape(service.url)}", style="dim",
                                          highlight=False)  # fmt: skip
                if not many or out is None:
                    _show(extraction, fmt, lines=lines)
            documents += read
            if read < len(parts):
                failures += 1
    service.close()
    if many:
        err_console.print(f"{len(paths) - failures} of {len(paths)} files read ({documents} documents)",
                          highlight=False)  # fmt: skip
    if failures:
        raise typer.Exit(code=1)
