"""Refuse to test stale compiled modules: Python loads a mypyc-built .so before its .py."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def pytest_sessionstart(session: pytest.Session) -> None:
    stale = []
    for compiled in (ROOT / "extractor").rglob("*.so"):
        source = compiled.with_name(compiled.name.split(".", 1)[0] + ".py")
        if source.exists() and source.stat().st_mtime > compiled.stat().st_mtime:
            stale.append(str(source.relative_to(ROOT)))
    if stale:
        raise pytest.UsageError(f"compiled modules older than their sources ({', '.join(stale)}): run `make compile`")
