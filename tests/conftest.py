"""Session-wide test setup.

- Refuse to test stale compiled modules: Python loads a mypyc-built .so before its .py.
- Load tests/llm_local_fixture.py as a plugin: its `local_llm` fixture is found by name in every
  module, and its hook explains a failure when the local model's server died during a test.
- Load tests/api_support.py as a plugin too: the API, UI and browser tests' fixtures (`db_url`,
  `service`, `token`, `client`) are found by name; a module with its own fixture of a name wins.
- Tests that need a service (PostgreSQL, Redis, the local model) go through
  tests/services.require_service: a skip with a reason here, a failure under CI=true. The shared
  benchmark (evals/shared.py) likewise: missing under CI=true, the run stops before any test.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.shared import SHARED_ENV
from tests.helpers import SHARED_REAL
from tests.services import in_ci

ROOT = Path(__file__).resolve().parents[1]

pytest_plugins = ("tests.llm_local_fixture", "tests.api_support")


def pytest_sessionstart(session: pytest.Session) -> None:
    stale = []
    for compiled in (ROOT / "extractor").rglob("*.so"):
        source = compiled.with_name(compiled.name.split(".", 1)[0] + ".py")
        if source.exists() and source.stat().st_mtime > compiled.stat().st_mtime:
            stale.append(str(source.relative_to(ROOT)))
    if stale:
        raise pytest.UsageError(f"compiled modules older than their sources ({', '.join(stale)}): run `make compile`")
    if in_ci() and not SHARED_REAL.exists():  # outside CI the tests that read it skip, saying so
        raise pytest.UsageError(
            f"the shared benchmark is not at {SHARED_REAL}: put it beside the checkout (../shared/benchmark/real) "
            f"or name it with {SHARED_ENV} [CI=true: its tests fail instead of skipping]"
        )
