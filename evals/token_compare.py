"""Tokens per report: the LLM reader (blocks of rows, each with its own text slice) against the
naive way (the whole report text and one schema for all tables in one call).

Both are counted with the scripted server's rule (evals.llm_server.app.count_tokens), so the
ratio is fair; our figure is what the server metered on real requests, retries included.

    python -m evals.token_compare --server http://127.0.0.1:8011
    python -m evals.token_compare --tokenizer http://127.0.0.1:8090   # also count both sides with
        a real model's tokenizer (llama-cpp-python's /extras/tokenize/count): each of our calls and
        the whole-report call as system prompt + user message + tool schema + answer JSON
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel, create_model

from evals.gold import load_cases
from evals.llm_server.app import count_tokens
from extractor.ingest import load_path
from extractor.pipeline import extract
from extractor.readers.llm import LLMSettings
from extractor.readers.llm.client import Answer, BlockClient
from extractor.readers.llm.prompts import system_prompt
from schemas import DISCLOSURE_REPORT, section_model


def real_tokenizer(url: str) -> Callable[[str], int]:
    """Token counts from a llama.cpp server's tokenizer (no inference, no chat-template overhead)."""
    client = httpx.Client(base_url=url, timeout=60)

    def count(text: str) -> int:
        response = client.post("/extras/tokenize/count", json={"input": text})
        response.raise_for_status()
        return int(response.json()["count"])

    return count


def tool_tokens(model: type[BaseModel], count: Callable[[str], int]) -> int:
    """The function-calling schema of `model`, as the request carries it."""
    tool = {"type": "function", "function": {"name": model.__name__, "parameters": model.model_json_schema()}}
    return count(json.dumps([tool], ensure_ascii=False))


class RecountingClient(BlockClient):
    """Our block calls, also counted by `naive_tokens`' rule with another tokenizer (system prompt +
    user message + tool schema + the answer's JSON), so both sides of that ratio count alike.
    The answers keep the usage the server metered; the recount adds up in `tokens`."""

    def __init__(self, settings: LLMSettings, count: Callable[[str], int]) -> None:
        super().__init__(settings)
        self.count = count
        self.tokens = 0

    def ask(self, system: str, user: str, model: type[BaseModel]) -> Answer:
        answer = super().ask(system, user, model)
        prompt = self.count(system) + 4 + self.count(user) + 4 + tool_tokens(model, self.count)
        output = self.count(json.dumps(answer.data, ensure_ascii=False)) if answer.data else 0
        with self.lock:  # the reader asks from several threads
            self.tokens += max(1, answer.attempts) * prompt + output
        return answer


def naive_tokens(
    text: str, template: str, gold: dict[str, Any], count_tokens: Callable[[str], int] = count_tokens
) -> int:
    """One call: system prompt + whole report + a schema of every table + every cell in the answer."""
    spec = DISCLOSURE_REPORT.template(template)
    whole = create_model("Report", **{s.key: (section_model(s), ...) for s in spec.sections})  # type: ignore[call-overload]
    prompt = (
        count_tokens(system_prompt("v1")) + 4 + count_tokens(f"请抄写全部表格。原文：\n<text>\n{text}\n</text>") + 4
    )
    prompt += tool_tokens(whole, count_tokens)
    answer: dict[str, dict[str, dict[str, Any]]] = {}
    for key in spec.field_keys():
        section, row, column = key.split(".")
        answer.setdefault(section, {}).setdefault(row, {})[column] = gold.get(key)
    return prompt + count_tokens(json.dumps(answer, ensure_ascii=False))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.token_compare")
    parser.add_argument("--server", default="http://127.0.0.1:8011")
    parser.add_argument("--gold", action="append", type=Path)
    parser.add_argument("--tokenizer", help="a llama.cpp server: also count both sides with its tokenizer")
    args = parser.parse_args(argv)
    folders = args.gold or [Path("../shared/benchmark/real"), Path("evals/data")]
    cases = load_cases(*folders, suffixes=(".txt", ".md", ".html"))
    with httpx.Client(base_url=args.server, timeout=30) as control:
        control.post("/_config", json={"failures": {"failure_rate": 0.0}, "seed": 1})
        control.post("/_reset")
    settings = LLMSettings(base_url=f"{args.server}/v1", model="scripted", cache_dir=None)
    ours = naive = ours_real = naive_real = 0
    real = real_tokenizer(args.tokenizer) if args.tokenizer else None
    for case in cases:
        doc = load_path(case.document)
        client = RecountingClient(settings, real) if real is not None else None
        result = extract(doc, reader="llm", llm=settings, client=client)
        ours += int(result.usage.get("tokens_in", 0)) + int(result.usage.get("tokens_out", 0))
        template = result.template or str(case.gold["template"])
        naive += naive_tokens(doc.text, template, case.gold["fields"])
        if real is not None and client is not None:
            naive_real += naive_tokens(doc.text, template, case.gold["fields"], real)
            ours_real += client.tokens
    report = {
        "documents": len(cases),
        "llm_reader_tokens_per_report": round(ours / len(cases), 1),
        "whole_report_one_schema_tokens_per_report": round(naive / len(cases), 1),
        "ratio": round(ours / naive, 3),
        "note": "tokens counted by the scripted server's rule; the whole-report figure is computed, not sent",
    }
    if real is not None:
        report["real_tokenizer"] = {
            "llm_reader_tokens_per_report": round(ours_real / len(cases), 1),
            "whole_report_one_schema_tokens_per_report": round(naive_real / len(cases), 1),
            "ratio": round(ours_real / naive_real, 3),
            "rule": "system + user + tool schema + answer JSON per call, both sides; no chat-template overhead",
        }
        report["tokenizer"] = args.tokenizer
    print(json.dumps(report, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
