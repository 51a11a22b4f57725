"""The `gongkai` command: a thin door onto the engine (through `extractor.service`) and the benchmarks."""

from __future__ import annotations

import typer

from extractor.cli.evaluate import bench_command, eval_command
from extractor.cli.export import export_command, export_gold_command
from extractor.cli.extract import extract_command
from extractor.cli.serve import serve_command
from extractor.cli.user import user_app
from workers.cli import submit_command, worker_command

app = typer.Typer(add_completion=False, help="Read Chinese government information-disclosure annual reports.")
app.command("extract")(extract_command)
app.command("eval")(eval_command)
app.command("bench")(bench_command)
app.command("worker")(worker_command)
app.command("submit")(submit_command)
app.command("serve")(serve_command)
app.add_typer(user_app, name="user")
app.command("export")(export_command)
app.command("export-gold")(export_gold_command)


def main() -> None:
    app()
