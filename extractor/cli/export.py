"""`gongkai export` and `gongkai export-gold`: the stored, reviewed data out to analysts and to gold.

A thin door onto `extractor.exports`: options in, one read-only transaction, a file out.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from sqlalchemy.exc import SQLAlchemyError

from extractor import exports
from extractor.cli.options import err_console, fail
from extractor.service import Service

DatabaseOption = Annotated[str | None, typer.Option("--db", help="database URL (default GONGKAI_DATABASE_URL)")]
ReaderFilter = Annotated[
    str | None, typer.Option("--reader", help="only this reader's runs (default: the newest run of any reader)")
]


class ExportFormat(StrEnum):
    csv = "csv"
    xlsx = "xlsx"
    json = "json"


class ExportKind(StrEnum):
    wide = "wide"
    long = "long"


def _open(url: str | None) -> Service:
    try:
        return Service(url)
    except SQLAlchemyError as exc:
        raise fail(escape(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)[:300]) from exc


def export_command(
    out: Annotated[Path, typer.Option("--out", help="the file to write")],
    fmt: Annotated[ExportFormat, typer.Option("--format", "-f", help="csv, xlsx (wide + long sheets) or json")] = (
        ExportFormat.csv
    ),
    kind: Annotated[
        ExportKind, typer.Option("--kind", help="CSV only: wide (a row per report) or long (a row per cell)")
    ] = ExportKind.wide,
    reviewed_only: Annotated[bool, typer.Option("--reviewed-only", help="only documents marked reviewed")] = False,
    reader: ReaderFilter = None,
    database_url: DatabaseOption = None,
) -> None:
    """Export every report's values with reviewers' corrections applied, each cell with its status."""
    with _open(database_url) as service, service.session() as session:
        data = exports.export_bytes(session, fmt.value, kind=kind.value, reviewed_only=reviewed_only, reader=reader)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    err_console.print(f"wrote {escape(str(out))} ({len(data):,} bytes)", highlight=False)


def export_gold_command(
    folder: Annotated[Path, typer.Argument(help="where NAME.<ext> + NAME.gold.json pairs go")],
    all_documents: Annotated[
        bool, typer.Option("--all", help="every document with a done run, not only reviewed ones")
    ] = False,
    reader: ReaderFilter = None,
    database_url: DatabaseOption = None,
) -> None:
    """Write reviewed documents as gold pairs (FIELDS.md), for `gongkai eval`: corrections become regression cases."""
    with _open(database_url) as service, service.session() as session:
        written = exports.write_gold(session, folder, reviewed_only=not all_documents, reader=reader)
    corrected = sum(1 for gold in written if gold.corrected)
    err_console.print(
        f"wrote {len(written)} gold pairs to {escape(str(folder))} ({corrected} with reviewer corrections)"
        + ("" if written or all_documents else "; no document is marked reviewed (--all writes every one)"),
        highlight=False,
    )
