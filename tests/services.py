"""One rule for tests that need a service (PostgreSQL, Redis, the local model): skip here, fail in CI.

Why: on a developer's machine a missing PostgreSQL or an uninstalled local model is normal, and a
skip that names what is missing is the friendly answer. In CI the same skip would turn a broken
service into a green run in which the storage, worker or model tests never ran. So under `CI=true`
(what CI systems and `.ci/run` set) every such test fails instead, with the same reason.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

CI_ENV = "CI"


def in_ci() -> bool:
    """Whether this is a CI run (`CI` set to true/1/yes, as GitHub Actions, GitLab and `.ci/run` do)."""
    return os.environ.get(CI_ENV, "").strip().lower() in {"true", "1", "yes"}


def require_service(reason: str) -> NoReturn:
    """Stop the current test because a service it needs is missing: a skip outside CI, a failure in CI.

    `reason` says what is missing and how to get it (the same text in both cases).
    """
    if in_ci():
        pytest.fail(f"{reason} [CI=true: a test that needs this service fails instead of skipping]", pytrace=False)
    pytest.skip(reason)
