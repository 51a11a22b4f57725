"""Tokens per report, like for like: what the LLM reader sends against one whole-report call.

Four sides, each over the same dev-set reports:

- **block reader**: the requests `--reader llm` actually sends (one per block of rows, each with
  its own slice of the text and a compact row-list schema), captured as they leave the openai
  client, answered from gold;
- **whole report, compact**: one call with the whole report text and the same compact row-list
  schema for every table (each row a list of its cells in column order, the same instructions);
- **whole report, verbose**: one call with the whole report text and the keyed per-section models
  (`schemas.section_model`: an object per row, a described property per cell);
- **auto**: the requests `--reader auto` sends (only the sections where a second reading can
  settle something, `combine.sections_to_check`); most reports send nothing.

Every call of every side is counted the same way: system prompt + user message (+4 each, as the
scripted server meters) + the tool schema as sent + the answer's JSON. Answers are exact gold, so
no side pays for retries. Counts use the scripted server's rule (`evals.llm_server.count_tokens`:
a CJK character 1/1.5 token, anything else 1/4) and, with `--tokenizer URL`, also a real model's
tokenizer (llama-cpp-python's `/extras/tokenize/count`; no chat-template overhead on any side).

No server is needed: the requests go through the real openai + instructor client to an
in-process transport that answers them from gold, so what is counted is what would be sent.

    python -m evals.token_compare
    python -m evals.token_compare --tokenizer http://127.0.0.1:8090
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import httpx
import httpx2
from pydantic import BaseModel, create_model

from evals.gold import load_cases
from evals.llm_server.app import BlockRequest, _completion, count_tokens, parse_block_request
from extractor.ingest import load_path
from extractor.pipeline import extract
from extractor.readers.llm import LLMSettings
from extractor.readers.llm.client import BlockClient
from extractor.readers.llm.prompts import _distinct_column_sets, system_prompt
from schemas import DISCLOSURE_REPORT, SectionSpec, TemplateSpec, block_model, section_model

Counter = Callable[[str], int]
PROMPT_VERSION = "v1"
SIDES = {
    "block reader": "one call per block of rows: that block's text slice, its rows, a row-list schema",
    "whole report, compact": "one call: the whole text, every table's rows, the same row-list schema",
    "whole report, verbose": "one call: the whole text, keyed per-section models (object per row)",
    "auto": "the block reader's calls, only for the sections auto mode sends",
}


def real_tokenizer(url: str) -> Counter:
    """Token counts from a llama.cpp server's tokenizer (no inference, no chat-template overhead)."""
    client = httpx.Client(base_url=url, timeout=60)

    @lru_cache(maxsize=4096)
    def count(text: str) -> int:
        response = client.post("/extras/tokenize/count", json={"input": text})
        response.raise_for_status()
        return int(response.json()["count"])

    return count


@dataclass
class Call:
    """One request as sent and the answer's JSON text."""

    body: dict[str, Any]
    answer: str

    def tokens(self, count: Counter) -> tuple[int, int]:
        """(prompt, answer) tokens: messages + 4 each, the tool schema and any response format, as sent."""
        prompt = sum(count(str(m.get("content") or "")) + 4 for m in self.body.get("messages", []))
        for extra in ("tools", "response_format"):
            if self.body.get(extra):
                prompt += count(json.dumps(self.body[extra], ensure_ascii=False))
        return prompt, count(self.answer)


class GoldTransport(httpx2.BaseTransport):
    """Answers requests in process, from one gold document at a time, and keeps every request.

    Block requests are answered the way the scripted server answers them (the same parser and
    answer shape); a whole-report request is answered with `fixed`, the gold answer built for it.
    """

    def __init__(self) -> None:
        self.fields: dict[str, Any] = {}
        self.fixed: str | None = None
        self.calls: list[Call] = []

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        if self.fixed is not None:
            name = str(body["tools"][0]["function"]["name"])
            block = BlockRequest(name, "", {}, "tools", None, forced_tool=True)
            payload = self.fixed
        else:
            block = parse_block_request(body).resolved(self.fields)
            payload = block.payload(block.answer(self.fields))
        self.calls.append(Call(body, payload))
        return httpx2.Response(200, json=_completion(body, block, f"chatcmpl-{len(self.calls)}", payload))


@dataclass
class Side:
    """Totals of one side over the documents."""

    calls: int = 0
    reports_sending: int = 0  # reports with at least one call
    prompt: dict[str, int] = field(default_factory=dict)  # counter name → tokens
    answer: dict[str, int] = field(default_factory=dict)

    def add(self, calls: list[Call], counters: dict[str, Counter]) -> None:
        """One report's calls."""
        self.reports_sending += bool(calls)
        for call in calls:
            self.calls += 1
            for name, count in counters.items():
                prompt, answer = call.tokens(count)
                self.prompt[name] = self.prompt.get(name, 0) + prompt
                self.answer[name] = self.answer.get(name, 0) + answer


def _cell(value: Any) -> Any:
    """A gold number as a model would write it: integral values without a decimal point."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _row_prompt(section: SectionSpec) -> str:
    """The block prompt's instructions for every row of a section (same wording as prompts/v1/user.txt)."""
    columns = "；".join(
        f"{row.key}: " + ", ".join(f"{col.key}={col.label}" for col in row.columns)
        for row in _distinct_column_sets(section.rows)
    )
    listed = "\n".join(f"- {row.key}：{row.label}" for row in section.rows)
    return f"表格：{section.title}\n请抄写下列各行（按表格中的顺序）：\n{listed}\n每行各列的顺序：{columns}"


def whole_compact(template: TemplateSpec, text: str, gold: dict[str, Any]) -> tuple[type[BaseModel], str, str]:
    """(schema, user message, gold answer) of one whole-report call with the row-list schema."""
    fields: dict[str, Any] = {s.key: (block_model(s, s.rows), ...) for s in template.sections}
    model = create_model("Report", **fields)
    instructions = "\n\n".join(_row_prompt(s) for s in template.sections)
    user = f"{instructions}\n原文：\n<text>\n{text.strip()}\n</text>"
    answer = {
        s.key: {r.key: [_cell(gold.get(r.field_key(s.key, c))) for c in r.columns] for r in s.rows}
        for s in template.sections
    }
    return model, user, json.dumps(answer, ensure_ascii=False)


def whole_verbose(template: TemplateSpec, text: str, gold: dict[str, Any]) -> tuple[type[BaseModel], str, str]:
    """(schema, user message, gold answer) of one whole-report call with the keyed section models."""
    fields: dict[str, Any] = {s.key: (section_model(s), ...) for s in template.sections}
    model = create_model("Report", **fields)
    user = f"请抄写全部表格。原文：\n<text>\n{text.strip()}\n</text>"
    answer = {
        s.key: {r.key: {c.key: _cell(gold.get(r.field_key(s.key, c))) for c in r.columns} for r in s.rows}
        for s in template.sections
    }
    return model, user, json.dumps(answer, ensure_ascii=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.token_compare", description=__doc__.split("\n\n")[0])
    parser.add_argument("--gold", action="append", type=Path, help="gold folders (default: shared + evals/data)")
    parser.add_argument("--tokenizer", help="a llama.cpp server: also count every side with its tokenizer")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = parser.parse_args(argv)
    folders = args.gold or [Path("../shared/benchmark/real"), Path("evals/data")]
    cases = load_cases(*folders, suffixes=(".txt", ".md", ".html"))
    counters: dict[str, Counter] = {"scripted rule": count_tokens}
    if args.tokenizer:
        counters[f"tokenizer {args.tokenizer}"] = real_tokenizer(args.tokenizer)
    transport = GoldTransport()
    settings = LLMSettings(
        base_url="http://gold.invalid/v1", model="gold", mode="TOOLS", cache_dir=None, max_retries=0,
        transport_retries=0, concurrency=1, token_budget=10**9, prompt_version=PROMPT_VERSION,
    )  # fmt: skip
    client = BlockClient(settings, http_client=httpx2.Client(transport=transport, trust_env=False))
    sides = {name: Side() for name in SIDES}
    metered = 0
    system = system_prompt(PROMPT_VERSION)
    for case in cases:
        doc = load_path(case.document)
        transport.fields, transport.fixed = case.fields, None
        for reader, side in (("llm", "block reader"), ("auto", "auto")):
            transport.calls = []
            result = extract(doc, reader=reader, llm=settings, client=client)  # type: ignore[arg-type]
            if reader == "llm":
                metered += int(result.usage.get("tokens_in", 0)) + int(result.usage.get("tokens_out", 0))
            sides[side].add(transport.calls, counters)
        template = DISCLOSURE_REPORT.template(result.template or str(case.gold["template"]))
        for build, side in ((whole_compact, "whole report, compact"), (whole_verbose, "whole report, verbose")):
            model, user, transport.fixed = build(template, doc.normalized, case.fields)
            transport.calls = []
            answer = client.ask(system, user, model)
            if answer.error or len(transport.calls) != 1:
                raise SystemExit(f"{case.name}: the gold answer for {side} did not validate: {answer.error}")
            sides[side].add(transport.calls, counters)
    scripted_block = sides["block reader"].prompt["scripted rule"] + sides["block reader"].answer["scripted rule"]
    if scripted_block != metered:
        raise SystemExit(f"the recount ({scripted_block}) differs from the reader's metered usage ({metered})")
    report = _report(sides, counters, len(cases))
    for name in counters:
        _print_table(name, report, len(cases))
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=1))
    return 0


def _report(sides: dict[str, Side], counters: dict[str, Counter], documents: int) -> dict[str, Any]:
    out: dict[str, Any] = {"documents": documents, "sides": {}}
    for side, totals in sides.items():
        entry: dict[str, Any] = {
            "sends": SIDES[side], "calls_per_report": round(totals.calls / documents, 2),
            "reports_sending": totals.reports_sending,
        }  # fmt: skip
        for name in counters:
            prompt, answer = totals.prompt.get(name, 0), totals.answer.get(name, 0)
            entry[name] = {
                "prompt_per_report": round(prompt / documents, 1),
                "answer_per_report": round(answer / documents, 1),
                "total_per_report": round((prompt + answer) / documents, 1),
            }
        out["sides"][side] = entry
    return out


def _print_table(counter: str, report: dict[str, Any], documents: int) -> None:
    block = report["sides"]["block reader"][counter]["total_per_report"]
    print(f"\nTokens per report, {documents} dev-set reports (txt, md, html), counted with the {counter}")
    print("(reports: how many send at least one call; calls, prompt, answer, total: per report over all reports)")
    print(f"{'side':24} {'reports':>7} {'calls':>6} {'prompt':>8} {'answer':>7} {'total':>8} {'vs block':>8}  sends")
    for side, entry in report["sides"].items():
        figures = entry[counter]
        ratio = figures["total_per_report"] / block if block else 0.0
        print(
            f"{side:24} {entry['reports_sending']:>7} {entry['calls_per_report']:>6.2f} "
            f"{figures['prompt_per_report']:>8.0f} {figures['answer_per_report']:>7.0f} "
            f"{figures['total_per_report']:>8.0f} {ratio:>8.2f}  {entry['sends']}"
        )


if __name__ == "__main__":
    raise SystemExit(main())
