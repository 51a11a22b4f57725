"""Where the shared benchmark (`shared/benchmark/real`, gold reports of real agencies) lives.

It sits beside the checkout (`../shared/benchmark/real`), outside the repository: it grows between
sessions and is not ours to commit. A clone made elsewhere (a temporary folder, to check that a
fresh clone works) finds it beside the repository it was cloned from, and any checkout can name
it with `GONGKAI_SHARED_BENCHMARK`. One answer for the tests, the benchmarks and the Makefile.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED_ENV = "GONGKAI_SHARED_BENCHMARK"
_BESIDE = Path("shared") / "benchmark" / "real"


def shared_real(checkout: Path = ROOT) -> Path:
    """The folder of real gold reports: the environment's, else beside the checkout, else beside the
    local repository it was cloned from; the path beside the checkout when none exists (callers
    test `.exists()` and say what is missing)."""
    named = os.environ.get(SHARED_ENV, "").strip()
    if named:
        return Path(named).expanduser()
    beside = checkout.parent / _BESIDE
    if beside.exists():
        return beside
    origin = _local_origin(checkout)
    if origin is not None and (origin.parent / _BESIDE).exists():
        return origin.parent / _BESIDE
    return beside


def _local_origin(checkout: Path) -> Path | None:
    """The folder `origin` points at, if it is a repository on this machine."""
    try:
        url = subprocess.run(
            ["git", "-C", str(checkout), "config", "--get", "remote.origin.url"],
            capture_output=True, text=True, timeout=10, check=False,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return None
    if not url:
        return None
    path = Path(url.removeprefix("file://")).expanduser()
    path = (path if path.is_absolute() else checkout / path).resolve()
    if not path.is_dir():  # a remote (https://…, git@…:…) is not a folder here
        return None
    return path.parent if path.name == ".git" else path


if __name__ == "__main__":  # `python -m evals.shared`: the path, for the Makefile
    sys.stdout.write(f"{shared_real()}\n")
