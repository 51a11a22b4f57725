"""What the commands share: consoles, the reader and LLM options, and how a setting error is told."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from extractor.pipeline import READERS, Reader
from extractor.readers.llm import LLMNotConfigured, LLMSettings

out_console = Console()
err_console = Console(stderr=True, soft_wrap=True)  # an error is one line, however narrow the terminal

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


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print a one-line error and return the exit to raise: `raise fail(...)`."""
    err_console.print(f"[red]error[/red] {message}", highlight=False, markup=True)
    return typer.Exit(code=code)


def choose_reader(
    reader: str, base_url: str | None, model: str | None, mode: str | None
) -> tuple[Reader, LLMSettings | None]:
    """The reader and its LLM settings (environment, then command-line overrides); a clear exit when
    the reader is unknown or needs an LLM that is not configured."""
    if reader not in READERS:
        raise fail(f"unknown reader '{reader}': choose one of {', '.join(READERS)}")
    chosen: Reader = reader  # narrowed by the check just above
    return chosen, _llm_settings(chosen, base_url, model, mode)


def _llm_settings(reader: Reader, base_url: str | None, model: str | None, mode: str | None) -> LLMSettings | None:
    if reader == "rules":
        return None
    overrides = {k: v for k, v in {"base_url": base_url, "model": model, "mode": mode}.items() if v}
    settings = LLMSettings(**overrides)  # type: ignore[arg-type]
    if not settings.configured:
        raise fail(f"--reader {reader}: {LLMNotConfigured()}")
    return settings
