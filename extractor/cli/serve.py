"""`gongkai serve`: the HTTP API (uvicorn) with an in-process worker, or with the Celery workers."""

from __future__ import annotations

import dataclasses
import os
from typing import Annotated, Literal

import typer
from rich.console import Console
from rich.markup import escape

err_console = Console(stderr=True)


def serve_command(
    port: Annotated[int, typer.Option(help="TCP port to listen on")] = 8000,
    host: Annotated[str, typer.Option(help="address to bind (0.0.0.0 to serve other machines)")] = "127.0.0.1",
    database_url: Annotated[
        str | None, typer.Option("--db", help="database URL (default GONGKAI_DATABASE_URL)")
    ] = None,
    workers: Annotated[
        str,
        typer.Option(
            help="thread: read uploads in this process; celery: queue them for `gongkai worker`; "
            "auto: celery when GONGKAI_BROKER_URL is set, else thread"
        ),
    ] = "auto",
    log_level: Annotated[str, typer.Option(help="uvicorn log level")] = "info",
) -> None:
    """Run the review API: upload reports, read them, correct flagged cells (log in or use a token)."""
    import uvicorn

    from extractor.api import ApiSettings, create_app
    from extractor.review import ReviewService
    from extractor.storage.database import DatabaseUnavailable

    if workers not in ("thread", "celery", "auto"):
        err_console.print("[red]error[/red] --workers is thread, celery or auto")
        raise typer.Exit(code=2)
    if workers == "auto":
        workers = "celery" if os.environ.get("GONGKAI_BROKER_URL") else "thread"
    mode: Literal["thread", "celery"] = "celery" if workers == "celery" else "thread"
    if mode == "celery" and not os.environ.get("GONGKAI_BROKER_URL"):
        err_console.print("[red]error[/red] --workers celery needs GONGKAI_BROKER_URL (the workers' broker)")
        raise typer.Exit(code=2)
    if mode == "celery":
        from workers.app import BrokerUnavailable, check_broker

        try:  # before uvicorn starts, so an unreachable broker is one clear line, not a startup traceback
            check_broker(os.environ["GONGKAI_BROKER_URL"])
        except BrokerUnavailable as exc:
            err_console.print(f"[red]error[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
            raise typer.Exit(code=2) from None
    secret = os.environ.get("GONGKAI_SECRET_KEY")
    settings = ApiSettings(database_url=database_url, workers=mode)
    if secret:
        settings = dataclasses.replace(settings, secret_key=secret)
    try:
        service = ReviewService(database_url)
    except DatabaseUnavailable as exc:
        err_console.print(f"[red]error[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(code=2) from None
    try:
        app = create_app(settings, service)
        err_console.print(
            f"gongkai serve on http://{host}:{port}: review UI at /ui/ (log in with a `gongkai user create` "
            f"account), API docs at /docs; workers: {mode}",
            highlight=False,
        )
        uvicorn.run(app, host=host, port=port, log_level=log_level)
    finally:
        service.close()
