"""Command line: `python -m evals.llm_server --gold DIR --port 8011 --failure-rate 0.1 --seed 1`.

Rates come from, in increasing precedence: `--config FILE.json` (a FailureConfig object),
`--failure-rate` (the total rate, spread evenly over the modes not given a rate of their own), and
one `--rate-<mode>` flag per mode (e.g. `--rate-shift-column 0.05`).

`--api-key KEY` and `--models a,b` make it answer a wrong key with 401 and an unknown model with 404,
as a real server does, so the reader's one-line errors can be tried by hand.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

import uvicorn

from evals.llm_server.app import create_app
from evals.llm_server.failures import MODES, FailureConfig


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m evals.llm_server",
        description="Scripted OpenAI-compatible server answering table blocks from gold files, with failures.",
    )
    parser.add_argument("--gold", action="append", required=True, type=Path, help="a folder of NAME.gold.json pairs")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8011)
    parser.add_argument("--seed", type=int, default=0, help="seed of the per-request failure draws")
    parser.add_argument("--config", type=Path, help="JSON file with a failure config (failure_rate, rates, ...)")
    parser.add_argument("--failure-rate", type=float, help="share of requests that fail, spread over the modes")
    for mode in MODES:
        parser.add_argument(f"--rate-{mode.replace('_', '-')}", type=float, dest=f"rate_{mode}", metavar="RATE")
    parser.add_argument("--timeout-seconds", type=float, help="how long a 'timeout' answer sleeps")
    parser.add_argument("--retry-after", type=float, help="Retry-After seconds of an HTTP 429")
    parser.add_argument("--api-key", help="accept only this bearer key (anything else gets a 401)")
    parser.add_argument("--models", help="comma-separated model names to accept (anything else gets a 404)")
    parser.add_argument("--log-level", default="info")
    return parser


def config_from_args(args: argparse.Namespace) -> FailureConfig:
    """Merge the config file and the flags into one validated FailureConfig."""
    data: dict[str, Any] = json.loads(args.config.read_text(encoding="utf-8")) if args.config else {}
    rates = dict(data.get("rates", {}))
    for mode in MODES:
        value = getattr(args, f"rate_{mode}")
        if value is not None:
            rates[mode] = value
    data["rates"] = rates
    for key in ("failure_rate", "timeout_seconds", "retry_after"):
        if getattr(args, key) is not None:
            data[key] = getattr(args, key)
    return FailureConfig.model_validate(data)


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        config = config_from_args(args)
    except ValueError as exc:
        raise SystemExit(f"bad failure config: {exc}") from exc
    models = [m.strip() for m in args.models.split(",") if m.strip()] if args.models else None
    app = create_app(args.gold, config, args.seed, api_key=args.api_key, models=models)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)


if __name__ == "__main__":
    main()
