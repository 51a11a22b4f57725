"""Where the shared benchmark is found (`evals/shared.py`): beside the checkout, beside the repository
a clone was made from, or where the environment names it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from evals.shared import SHARED_ENV, shared_real


def _repo(folder: Path) -> Path:
    folder.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(folder)], check=True)
    return folder


def test_a_clone_made_elsewhere_finds_the_benchmark_beside_its_origin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SHARED_ENV, raising=False)
    real = tmp_path / "work" / "shared" / "benchmark" / "real"
    real.mkdir(parents=True)
    origin = _repo(tmp_path / "work" / "main")
    clone = tmp_path / "elsewhere" / "fresh"
    subprocess.run(["git", "clone", "-q", str(origin), str(clone)], check=True, capture_output=True)
    assert shared_real(origin) == real  # beside the checkout
    assert shared_real(clone) == real  # beside the repository it was cloned from


def test_the_environment_names_it_and_a_missing_one_is_the_path_beside_the_checkout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checkout = _repo(tmp_path / "lonely")
    monkeypatch.delenv(SHARED_ENV, raising=False)
    assert shared_real(checkout) == tmp_path / "shared" / "benchmark" / "real"
    assert not shared_real(checkout).exists()
    monkeypatch.setenv(SHARED_ENV, str(tmp_path / "gold"))
    assert shared_real(checkout) == tmp_path / "gold"
