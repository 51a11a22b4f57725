"""The scripted OpenAI-compatible server: real uvicorn, the real openai client and instructor.

The server stands in for an LLM in the reader's tests and benchmarks, so what matters is that the
real clients accept its answers in every instructor mode, that a clean answer is exactly gold, and
that every injected failure does what its name says and is logged with the values it changed.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import instructor
import openai
import pytest
import uvicorn
from instructor.core.exceptions import InstructorRetryException
from pydantic import BaseModel

from evals.llm_server import MODES, REFUSAL_TEXT, FailureConfig, count_tokens, create_app
from evals.llm_server.app import parse_block_request, prompt_tokens
from evals.llm_server.failures import (
    VALUE_MODES,
    Block,
    break_json,
    choose_mode,
    corrupt_block,
    diff_blocks,
    drop_row,
    duplicate_row,
    merge_cells,
    plausible_value,
    shift_cells,
    split_cell,
    truncate_json,
)
from extractor.ingest import load_path
from extractor.pipeline import extract
from schemas import TEMPLATE_2019, TEMPLATE_2021, block_model, block_name
from tests.helpers import DEV_DATA, ROOT, SHARED_REAL

PROMPTS = ROOT / "extractor" / "readers" / "llm" / "prompts" / "v1"
PINGTAN = DEV_DATA / "real" / "real-pingtan-2021.txt"
T3 = TEMPLATE_2021.section("t3")
ROWS = T3.rows[2:9]  # granted … denied_internal
MODEL = block_model(T3, ROWS)
NAME = block_name(T3, ROWS)


# ---- fixtures ------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RunningServer:
    """uvicorn serving the app in a thread, stopped at the end of the module."""

    def __init__(self, gold_dirs: list[Path], api_key: str | None = None, models: list[str] | None = None) -> None:
        self.app = create_app(gold_dirs, None, seed=7, api_key=api_key, models=models)
        self.port = _free_port()
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, log_level="warning", timeout_graceful_shutdown=1
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the scripted server did not start")
            time.sleep(0.02)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(self.url + path, timeout=10) as response:
            return json.loads(response.read())

    def post(self, path: str, data: dict[str, Any] | None = None) -> Any:
        request = urllib.request.Request(
            self.url + path, json.dumps(data or {}).encode(), {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def configure(self, failures: FailureConfig | None = None, seed: int = 7, force_status: int | None = None) -> None:
        """Set the failures, seed and forced status, clear the focus, the log and the attempt counters."""
        config = (failures or FailureConfig()).model_dump()
        self.post("/_config", {"failures": config, "seed": seed, "force_status": force_status})
        self.post("/_focus", {"doc": None})
        self.post("/_reset")

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    gold_dirs = [DEV_DATA / "real"] + ([SHARED_REAL] if SHARED_REAL.exists() else [])
    running = RunningServer(gold_dirs)
    yield running
    running.stop()


@pytest.fixture
def clean(server: RunningServer) -> RunningServer:
    server.configure()
    return server


def _client(server: RunningServer, timeout: float = 10.0, retries: int = 0) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key="test", timeout=timeout, max_retries=retries)


def _t3_slice(path: Path = PINGTAN) -> str:
    """The table-3 region of the raw document, as the reader would send it (before normalisation)."""
    text = load_path(path).text
    start = text.index("三、收到和处理政府信息公开申请情况")
    end = text.index("四、", start + 10)
    return text[start:end]


def _messages(text: str, rows: tuple[Any, ...] = ROWS, section: Any = T3) -> list[Any]:
    """The reader's system and user messages, filled from the v1 prompt files."""
    system = (PROMPTS / "system.txt").read_text(encoding="utf-8").strip()
    user = (PROMPTS / "user.txt").read_text(encoding="utf-8")
    columns = ", ".join(f"{c.key}={c.label}" for c in rows[0].columns)
    listed = "\n".join(f"- {r.key}：{r.label}" for r in rows)
    filled = user.format(section_title=section.title, rows=listed, columns=columns, text=text.strip())
    return [{"role": "system", "content": system}, {"role": "user", "content": filled}]


def _as_dicts(data: Any, section: Any = T3) -> Block:
    """The reader asks for rows as lists in column order; compare them as cell dicts."""
    return {
        row: dict(zip([c.key for c in section.row(row).columns], cells, strict=True))
        if isinstance(cells, list)
        else cells
        for row, cells in data.items()
    }


def _expected(gold_path: Path = PINGTAN, rows: tuple[Any, ...] = ROWS, section: str = "t3") -> Block:
    gold = json.loads(gold_path.with_name(gold_path.stem + ".gold.json").read_text(encoding="utf-8"))["fields"]
    return {row.key: {col.key: gold.get(f"{section}.{row.key}.{col.key}") for col in row.columns} for row in rows}


def _tools_request(client: Any, text: str | None = None) -> Any:
    return client.chat.completions.create(
        model="scripted",
        messages=_messages(text or _t3_slice()),
        tools=[{"type": "function", "function": {"name": NAME, "parameters": MODEL.model_json_schema()}}],
        tool_choice={"type": "function", "function": {"name": NAME}},
    )


def _md_request(client: Any, text: str | None = None) -> Any:
    messages = _messages(text or _t3_slice())
    schema = json.dumps(MODEL.model_json_schema(), ensure_ascii=False, indent=2)
    messages[0]["content"] += f"\n\nAnswer as JSON matching this schema:\n{schema}"
    return client.chat.completions.create(model="scripted", messages=messages)


def _arguments(completion: Any) -> str:
    return str(completion.choices[0].message.tool_calls[0].function.arguments)


# ---- clean answers through the real clients ------------------------------------------------------


def test_tools_answer_is_gold_with_the_openai_client(clean: RunningServer) -> None:
    completion = _tools_request(_client(clean))
    call = completion.choices[0].message.tool_calls[0]
    assert call.function.name == NAME
    assert _as_dicts(json.loads(call.function.arguments)) == _expected()
    assert completion.object == "chat.completion"
    assert completion.id.startswith("chatcmpl-")
    assert completion.model == "scripted"
    assert completion.created > 0
    assert completion.choices[0].finish_reason == "stop"
    assert clean.get("/_injected")["count"] == 0


@pytest.mark.parametrize("mode", [instructor.Mode.TOOLS, instructor.Mode.JSON, instructor.Mode.MD_JSON])
def test_instructor_modes_get_gold(clean: RunningServer, mode: instructor.Mode) -> None:
    client = instructor.from_openai(_client(clean), mode=mode)
    answer = client.chat.completions.create(
        model="scripted", messages=_messages(_t3_slice()), response_model=MODEL, max_retries=0
    )
    assert isinstance(answer, BaseModel)
    assert _as_dicts(answer.model_dump()) == _expected()
    assert clean.get("/_stats")["unmatched"] == []


@pytest.mark.skipif(not SHARED_REAL.exists(), reason="shared benchmark not present")
def test_a_2019_document_from_the_shared_benchmark(clean: RunningServer) -> None:
    doc = SHARED_REAL / "seed-dongtonghua-2020.txt"
    section = TEMPLATE_2019.section("t3")
    rows = section.rows[:4]
    model = block_model(section, rows)
    client = instructor.from_openai(_client(clean), mode=instructor.Mode.JSON)
    answer = client.chat.completions.create(
        model="scripted", messages=_messages(_t3_slice(doc), rows, section), response_model=model, max_retries=0
    )
    assert _as_dicts(answer.model_dump()) == _expected(doc, rows)


def test_usage_follows_the_documented_rule(clean: RunningServer) -> None:
    assert count_tokens("一二三") == 2  # CJK: 1.5 characters a token
    assert count_tokens("abcdefgh") == 2  # anything else: 4 characters a token
    assert count_tokens("一二三abcd") == 3
    assert count_tokens("") == 0
    tools = [{"type": "function", "function": {"name": NAME, "parameters": MODEL.model_json_schema()}}]
    messages = _messages(_t3_slice())
    completion = _tools_request(_client(clean))
    usage = completion.usage
    body = {"messages": messages, "tools": tools}
    assert usage.prompt_tokens == prompt_tokens(body)
    assert usage.completion_tokens == count_tokens(_arguments(completion))
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert 500 < usage.prompt_tokens < 5000


def test_text_found_in_no_document_gets_nulls(clean: RunningServer) -> None:
    completion = _tools_request(_client(clean), text="这段文字不在任何文件里 1 2 3")
    answer = _as_dicts(json.loads(_arguments(completion)))
    assert all(v is None for cells in answer.values() for v in cells.values())
    assert clean.get("/_stats")["unmatched"] == [NAME]


def test_whitespace_differences_still_find_the_document(clean: RunningServer) -> None:
    reflowed = "\n".join(_t3_slice()[i : i + 40] for i in range(0, len(_t3_slice()), 40))
    completion = _tools_request(_client(clean), text=reflowed)
    assert _as_dicts(json.loads(_arguments(completion))) == _expected()


def test_request_without_a_schema_is_a_400(clean: RunningServer) -> None:
    with pytest.raises(openai.BadRequestError):
        _client(clean).chat.completions.create(model="x", messages=[{"role": "user", "content": "hi"}])


def test_parse_block_request_reads_tools_and_embedded_schemas() -> None:
    schema = MODEL.model_json_schema()
    tools_body = {"messages": _messages("<x>"), "tools": [{"function": {"name": NAME, "parameters": schema}}]}
    parsed = parse_block_request(tools_body)
    assert (parsed.name, parsed.section, parsed.api_mode) == (NAME, "t3", "tools")
    assert list(parsed.columns) == [r.key for r in ROWS]
    assert parsed.columns["granted"] == [c.key for c in T3.row("granted").columns]
    assert parsed.keys[0] == "t3.granted.natural"
    assert parsed.text == "<x>"
    messages = _messages("slice")
    messages[0]["content"] += "\n\nschema: " + json.dumps(schema)
    embedded = parse_block_request({"messages": messages, "response_format": {"type": "json_object"}})
    assert (embedded.name, embedded.api_mode, embedded.keys) == (NAME, "json", parsed.keys)
    t2 = TEMPLATE_2021.section("t2")
    fees = parse_block_request({"messages": messages[1:], "tools": [{"function": {
        "name": block_name(t2, t2.rows), "parameters": block_model(t2, t2.rows).model_json_schema()}}]})  # fmt: skip
    # list rows name no columns: table 2 rows of either template fit, and gold decides later
    assert "t2.fees.amount" in fees.keys and dict(fees.choices)["rules"][1] == ("issued", "repealed", "in_force")


# ---- each failure mode at rate 1.0 ---------------------------------------------------------------


def _sent_block(completion: Any) -> Block:
    return _as_dicts(json.loads(_arguments(completion)))


@pytest.mark.parametrize("mode", sorted(VALUE_MODES - {"invent_row"}))  # no row of this block is unprinted
def test_value_failures_change_values_and_log_them(server: RunningServer, mode: str) -> None:
    server.configure(FailureConfig.only(mode))  # type: ignore[arg-type]
    raw = json.loads(_arguments(_tools_request(_client(server))))
    sent = _as_dicts(raw)
    gold = _expected()
    MODEL.model_validate(raw)  # still a valid answer: the error is silent unless the arithmetic catches it
    report = server.get("/_injected")
    assert report["count"] == 1 and report["by_mode"] == {mode: 1}
    entry = report["injections"][0]
    assert entry["doc"] == "real-pingtan-2021" and entry["block"] == NAME and entry["mode"] == mode
    diffs = {f"t3.{r}.{c}": (gold[r][c], sent[r][c]) for r in gold for c in gold[r] if gold[r][c] != sent[r][c]}
    assert diffs, "a value failure must change at least one value"
    assert {c["key"]: (c["gold"], c["sent"]) for c in entry["changes"]} == diffs
    assert entry["keys"] == list(diffs)
    assert report["wrong_values"] == len(diffs)
    changed_rows = {key.split(".")[1] for key in diffs}
    if mode == "drop_row":
        (row,) = changed_rows
        assert all(v is None for v in sent[row].values())
    elif mode == "duplicate_row":
        (row,) = changed_rows
        order = list(gold)
        neighbours = [order[i] for i in (order.index(row) - 1, order.index(row) + 1) if 0 <= i < len(order)]
        assert any(list(sent[row].values()) == list(gold[n].values()) for n in neighbours)
    elif mode == "plausible_number":
        ((_, (true, fake)),) = diffs.items()
        assert isinstance(true, int) and isinstance(fake, int)
        assert fake != true and abs(fake - true) <= max(3, abs(true) * 0.2)
    elif mode == "shift_column":
        (row,) = changed_rows
        before, after = list(gold[row].values()), list(sent[row].values())
        assert any(after == shift_cells(before, s, d) for s in range(len(before)) for d in (1, -1))
    elif mode == "merge_numbers":
        (row,) = changed_rows
        before, after = list(gold[row].values()), list(sent[row].values())
        assert any(after == merge_cells(before, i) for i in range(len(before) - 1) if before[i] is not None)
    elif mode == "split_number":
        (row,) = changed_rows
        before, after = list(gold[row].values()), list(sent[row].values())
        splits = [(i, at) for i, v in enumerate(before) if v and v >= 10 for at in range(1, len(str(v)))]
        assert after in [split_cell(before, i, at) for i, at in splits]


@pytest.mark.parametrize("api", ["tools", "md_json"])
def test_broken_json_does_not_parse(server: RunningServer, api: str) -> None:
    server.configure(FailureConfig.only("broken_json"))
    if api == "tools":
        completion = _tools_request(_client(server))
        text = _arguments(completion)
    else:
        completion = _md_request(_client(server))
        content = completion.choices[0].message.content
        assert content.startswith("```json\n") and content.endswith("\n```")
        text = content[len("```json\n") : -len("\n```")]
    with pytest.raises(ValueError):
        json.loads(text)
    entry = server.get("/_injected")["injections"][0]
    assert entry["mode"] == "broken_json" and entry["changes"] == [] and len(entry["keys"]) == 7 * 7


@pytest.mark.parametrize("api", ["tools", "md_json"])
def test_truncated_json_is_cut_with_finish_reason_length(server: RunningServer, api: str) -> None:
    server.configure(FailureConfig.only("truncated_json"))
    full = json.dumps({row: list(cells.values()) for row, cells in _expected().items()}, ensure_ascii=False)
    if api == "tools":
        completion = _tools_request(_client(server))
        text = _arguments(completion)
    else:
        completion = _md_request(_client(server))
        content = completion.choices[0].message.content
        assert content.startswith("```json\n") and not content.endswith("```")
        text = content[len("```json\n") :]
    assert completion.choices[0].finish_reason == "length"
    assert full.startswith(text) and len(text) < len(full)
    with pytest.raises(ValueError):
        json.loads(text)
    assert server.get("/_injected")["by_mode"] == {"truncated_json": 1}


def test_refusal_has_no_tool_call(server: RunningServer) -> None:
    server.configure(FailureConfig.only("refusal"))
    completion = _tools_request(_client(server))
    message = completion.choices[0].message
    assert message.content == REFUSAL_TEXT and not message.tool_calls
    assert completion.usage.completion_tokens == count_tokens(REFUSAL_TEXT)
    assert server.get("/_injected")["by_mode"] == {"refusal": 1}


def test_timeout_sleeps_past_the_client_timeout_then_answers(server: RunningServer) -> None:
    server.configure(FailureConfig.only("timeout", timeout_seconds=1.0))
    with pytest.raises(openai.APITimeoutError):
        _tools_request(_client(server, timeout=0.3))
    started = time.monotonic()
    completion = _tools_request(_client(server, timeout=5.0))
    assert time.monotonic() - started >= 1.0
    assert _sent_block(completion) == _expected()
    assert server.get("/_injected")["by_mode"] == {"timeout": 2}


def test_http_429_carries_retry_after(server: RunningServer) -> None:
    server.configure(FailureConfig.only("http_429", retry_after=2))
    with pytest.raises(openai.RateLimitError) as caught:
        _tools_request(_client(server))
    assert caught.value.status_code == 429
    assert caught.value.response.headers["retry-after"] == "2"
    assert server.get("/_injected")["by_mode"] == {"http_429": 1}


def test_http_500(server: RunningServer) -> None:
    server.configure(FailureConfig.only("http_500"))
    with pytest.raises(openai.InternalServerError):
        _tools_request(_client(server))
    assert server.get("/_injected")["by_mode"] == {"http_500": 1}


def _shared_table4(first: Path, second: Path) -> str:
    """Table 4 as both documents print it (all zeros): a slice that alone cannot say which."""
    text = load_path(first).normalized
    start = text.index("行政复议行政诉讼")
    shared = text[start : text.index("五,", start)].strip()  # normalised: full-width 、 → ,
    assert shared in load_path(second).normalized
    return shared


def test_focus_attributes_a_shared_slice_to_the_document_being_read(server: RunningServer) -> None:
    """pingtan 2019 and 2020 print the same table 4: the focus, not the slice, says which is meant."""
    first, second = DEV_DATA / "real" / "real-pingtan-2019.txt", DEV_DATA / "real" / "real-pingtan-2020.txt"
    shared = _shared_table4(first, second)
    server.configure(FailureConfig.only("http_500"))
    for focus in (first.stem, second.stem, first.stem):
        server.post("/_focus", {"doc": focus})
        with pytest.raises(openai.InternalServerError):
            _tools_request(_client(server), shared)
        assert server.get("/_injected")["injections"][-1]["doc"] == focus
    stats = server.get("/_stats")
    assert stats["ambiguous"] == 3 and stats["unmatched"] == [] and stats["focus"] == first.stem
    with pytest.raises(urllib.error.HTTPError, match="404"):
        server.post("/_focus", {"doc": DEV_DATA.name})  # not a document: refused, focus unchanged
    assert server.get("/_stats")["focus"] == first.stem


def test_a_slice_the_focused_document_does_not_print_is_unmatched(server: RunningServer) -> None:
    server.configure()
    server.post("/_focus", {"doc": "real-pingtan-2019"})
    _tools_request(_client(server), _t3_slice(PINGTAN))  # pingtan 2021's own table 3
    assert server.get("/_stats")["unmatched"] == [NAME]


@pytest.mark.parametrize(("status", "error"), [(400, openai.BadRequestError), (401, openai.AuthenticationError),
                                               (403, openai.PermissionDeniedError), (404, openai.NotFoundError),
                                               (503, openai.InternalServerError)])  # fmt: skip
def test_force_status_answers_every_request_with_it(server: RunningServer, status: int, error: type) -> None:
    server.configure(force_status=status)
    with pytest.raises(error):
        _tools_request(_client(server))
    assert server.get("/_config")["force_status"] == status
    server.configure()
    _tools_request(_client(server))


def test_a_server_with_a_key_and_a_model_list_refuses_others() -> None:
    running = RunningServer([DEV_DATA / "real"], api_key="sesame", models=["scripted"])
    try:
        with pytest.raises(openai.AuthenticationError):
            _tools_request(_client(running))  # api_key="test"
        good = openai.OpenAI(base_url=running.url + "/v1", api_key="sesame", max_retries=0)
        assert _arguments(_tools_request(good))
        with pytest.raises(openai.NotFoundError, match="model `gpt-x` does not exist"):
            good.chat.completions.create(model="gpt-x", messages=_messages(_t3_slice()))
        assert [m["id"] for m in running.get("/v1/models")["data"]] == ["scripted"]
    finally:
        running.stop()


def test_retries_draw_again_and_reset_replays_the_same_failures(server: RunningServer) -> None:
    """A retried identical request gets a fresh draw; after /_reset the same run is the same again."""
    server.configure(FailureConfig(rates={"http_500": 0.5, "shift_column": 0.25, "plausible_number": 0.25}), seed=3)

    def run() -> list[tuple[str, str]]:
        client = _client(server)
        for _ in range(12):
            with contextlib.suppress(openai.InternalServerError):
                _tools_request(client)
        return [(i["mode"], i["detail"]) for i in server.get("/_injected")["injections"]]

    first = run()
    assert len({mode for mode, _ in first}) >= 2  # the same body drew different failures
    server.post("/_reset")
    assert server.get("/_injected")["count"] == 0
    assert run() == first
    server.configure(FailureConfig(rates={"http_500": 0.5, "shift_column": 0.25, "plausible_number": 0.25}), seed=4)
    assert run() != first


def test_instructor_passes_a_dropped_row_on_silently(server: RunningServer) -> None:
    """The value failures validate: instructor hands them to the reader as if they were right."""
    server.configure(FailureConfig.only("drop_row"))
    client = instructor.from_openai(_client(server), mode=instructor.Mode.TOOLS)
    answer = client.chat.completions.create(
        model="scripted", messages=_messages(_t3_slice()), response_model=MODEL, max_retries=0
    )
    (entry,) = server.get("/_injected")["injections"]
    row = entry["changes"][0]["key"].split(".")[1]
    assert all(v is None for v in _as_dicts(answer.model_dump())[row].values())


def test_instructor_retries_broken_json_until_it_gives_up(server: RunningServer) -> None:
    server.configure(FailureConfig.only("broken_json"))
    client = instructor.from_openai(_client(server), mode=instructor.Mode.JSON)
    with pytest.raises(InstructorRetryException):
        client.chat.completions.create(
            model="scripted", messages=_messages(_t3_slice()), response_model=MODEL, max_retries=2
        )
    assert server.get("/_injected")["by_mode"] == {"broken_json": 3}


def test_openai_client_retries_a_429_and_gets_the_answer(server: RunningServer) -> None:
    """At a rate below 1 the client's own retries (honouring Retry-After) get through."""
    server.configure(FailureConfig(rates={"http_429": 0.5}, retry_after=0.05), seed=1)
    answers = [_sent_block(_tools_request(_client(server, retries=8))) for _ in range(4)]
    assert all(a == _expected() for a in answers)
    assert server.get("/_injected")["by_mode"].get("http_429", 0) >= 1


def test_config_endpoint_rejects_rates_over_one(server: RunningServer) -> None:
    with pytest.raises(urllib.error.HTTPError):
        server.post("/_config", {"failures": {"rates": {"http_500": 0.8, "refusal": 0.8}}})
    with pytest.raises(urllib.error.HTTPError):
        server.post("/_config", {"failures": {"rates": {"no_such_mode": 0.1}}})


@pytest.mark.parametrize("mode", ["TOOLS", "JSON", "MD_JSON"])
def test_the_llm_reader_reads_gold_through_the_server(clean: RunningServer, mode: str) -> None:
    """End to end: the project's LLM reader, over the scripted server, reproduces gold."""
    llm = pytest.importorskip("extractor.readers.llm")
    settings = llm.LLMSettings(base_url=clean.url + "/v1", model="scripted", mode=mode, cache_dir=None)
    result = extract(load_path(PINGTAN), reader="llm", llm=settings)
    fields = {k: v.value for k, v in result.fields.items() if v.value is not None and v.source == "llm"}
    gold = json.loads(PINGTAN.with_name("real-pingtan-2021.gold.json").read_text(encoding="utf-8"))["fields"]
    assert {k: fields.get(k) for k in gold} == gold
    assert result.usage["failures"] == [] and clean.get("/_stats")["unmatched"] == []


# ---- the pure failure functions ------------------------------------------------------------------


def test_failure_config_spreads_the_total_rate() -> None:
    rates = FailureConfig(failure_rate=0.12).effective_rates()
    assert set(rates) == set(MODES) and sum(rates.values()) == pytest.approx(0.12)
    named = FailureConfig(failure_rate=0.1, rates={"timeout": 0.0}).effective_rates()
    assert named["timeout"] == 0 and sum(named.values()) == pytest.approx(0.1)
    with pytest.raises(ValueError):
        FailureConfig(rates={"http_500": 0.7, "refusal": 0.7})
    assert choose_mode(FailureConfig.only("refusal").effective_rates(), 0.999) == "refusal"
    assert choose_mode(FailureConfig().effective_rates(), 0.0) is None


def test_row_functions() -> None:
    assert shift_cells([1, 2, 3, 4], 0, 1) == [None, 1, 2, 3]
    assert shift_cells([1, 2, 3, 4], 1, -1) == [1, 3, 4, None]
    assert merge_cells([1, 2, 3], 0) == [12, 0, 3]
    assert merge_cells([1, 2, 3], 1, None) == [1, 23, None]
    with pytest.raises(ValueError):
        merge_cells([None, 2], 0)
    assert split_cell([12, 5, 7], 0, 1) == [1, 2, 5]
    assert split_cell([5, 7, 130], 2, 2) == [5, 7, 13]
    assert split_cell([270, 0, 1], 0, 2) == [27, 0, 0]
    block: Block = {"a": {"x": 1, "y": 2}, "b": {"x": 3, "y": 4}}
    assert drop_row(block, "a") == {"a": {"x": None, "y": None}, "b": {"x": 3, "y": 4}}
    assert duplicate_row(block, "b", "a")["b"] == {"x": 1, "y": 2}
    assert block["b"] == {"x": 3, "y": 4}  # pure: the input is untouched
    assert [c.key for c in diff_blocks("t9", block, drop_row(block, "b"))] == ["t9.b.x", "t9.b.y"]


def test_plausible_value_avoids_the_numbers_in_the_text() -> None:
    rng = random.Random(0)
    text = "予以公开 27 0 0 2 0 1 30 部分公开 5 0 0 0 0 0 5"
    for _ in range(50):
        fake = plausible_value(27, rng, text)
        assert fake != 27 and 22 <= fake <= 32 and str(fake) not in text
    amount = plausible_value(24252.311082, rng)
    assert isinstance(amount, float) and amount != 24252.311082 and abs(amount / 24252.311082 - 1) <= 0.11


def test_corrupt_block_always_changes_something_or_declines() -> None:
    rng = random.Random(5)
    gold = _expected()
    for mode in VALUE_MODES - {"invent_row"}:
        corruption = corrupt_block(mode, "t3", gold, rng)
        assert corruption is not None and corruption.changes
        assert corruption.changes == diff_blocks("t3", gold, corruption.block)
    # invent_row answers a row the text does not print (all null in gold), with numbers the text prints
    assert corrupt_block("invent_row", "t3", gold, rng) is None
    unprinted: Block = {"granted": {"natural": 4, "total": 4}, "partial": {"natural": None, "total": None}}
    invented = corrupt_block("invent_row", "t3", unprinted, rng, text="予以公开 4 4 全年办理申请36件")
    assert invented is not None and invented.block["granted"] == unprinted["granted"]
    assert {c.key for c in invented.changes} == {"t3.partial.natural", "t3.partial.total"}
    assert set(invented.block["partial"].values()) <= {4, 36}
    nothing: Block = {"only": {"x": None, "y": None}}
    assert corrupt_block("drop_row", "t3", nothing, rng) is None
    assert corrupt_block("duplicate_row", "t3", {"only": {"x": 1}}, rng) is None
    assert corrupt_block("split_number", "t3", {"r": {"x": 1, "y": 2}}, rng) is None
    procurement: Block = {"procurement": {"items": 3, "amount": 12.5}}
    shifted = corrupt_block("shift_column", "t2", procurement, rng)
    assert shifted is not None and shifted.block["procurement"] == {"items": None, "amount": 3}
    signed = corrupt_block("shift_column", "t2", {"fees": {"prev_items": 2, "change": -1}}, rng)
    assert signed is not None and signed.block["fees"] == {"prev_items": None, "change": 2}  # -1 never moves
    different_columns: Block = {"coercion": {"decisions": 4}, "fees": {"amount": 2.5}}
    assert corrupt_block("duplicate_row", "t2", different_columns, rng) is None


def test_break_and_truncate_never_parse() -> None:
    text = json.dumps(_expected(), ensure_ascii=False)
    for seed in range(40):
        broken, _ = break_json(text, random.Random(seed))
        cut, _ = truncate_json(text, random.Random(seed))
        for bad in (broken, cut):
            with pytest.raises(ValueError):
                json.loads(bad)
        assert text.startswith(cut)


# ---- the command line ----------------------------------------------------------------------------


def test_command_line_serves_with_per_mode_rates(tmp_path: Path) -> None:
    port = _free_port()
    config = tmp_path / "failures.json"
    config.write_text(json.dumps({"rates": {"http_500": 0.5}, "timeout_seconds": 9}))
    process = subprocess.Popen(
        [sys.executable, "-m", "evals.llm_server", "--gold", str(DEV_DATA / "real"), "--port", str(port),
         "--seed", "1", "--config", str(config), "--rate-http-500", "0", "--rate-refusal", "1",
         "--log-level", "warning"],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(url + "/_config", timeout=2) as response:
                    shown = json.loads(response.read())
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(process.stderr.read().decode() if process.stderr else "no output") from None
                time.sleep(0.1)
        assert shown["seed"] == 1
        assert shown["effective_rates"]["refusal"] == 1 and shown["effective_rates"]["http_500"] == 0
        assert shown["failures"]["timeout_seconds"] == 9
        client = openai.OpenAI(base_url=url + "/v1", api_key="x", max_retries=0, timeout=10)
        message = _tools_request(client).choices[0].message
        assert message.content == REFUSAL_TEXT
    finally:
        process.terminate()
        process.wait(timeout=10)
