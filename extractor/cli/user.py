"""`gongkai user create NAME --role reviewer|admin`: an account, and its API token printed once."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

err_console = Console(stderr=True)
user_app = typer.Typer(add_completion=False, help="Accounts for the review service.")


@user_app.command("create")
def create_command(
    name: Annotated[str, typer.Argument(help="login name")],
    role: Annotated[str, typer.Option(help="reviewer or admin")] = "reviewer",
    password: Annotated[
        str | None, typer.Option(help="the password (asked for, hidden, when not given)", show_default=False)
    ] = None,
    database_url: Annotated[
        str | None, typer.Option("--db", help="database URL (default GONGKAI_DATABASE_URL)")
    ] = None,
) -> None:
    """Create a user and print its API token (stored only as a hash: it cannot be shown again)."""
    from extractor.review import ReviewService
    from extractor.storage.database import DatabaseUnavailable

    if password is None:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    try:
        service = ReviewService(database_url)
        try:
            token = service.create_user(name, role, password)
        finally:
            service.close()
    except (ValueError, DatabaseUnavailable) as exc:
        err_console.print(f"[red]error[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(code=2) from None
    err_console.print(f"user {escape(name)} ({role}) created; API token (shown once):", highlight=False)
    typer.echo(token)
