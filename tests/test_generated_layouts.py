"""Every synthetic layout, freshly generated with a seed the dev set does not use: nothing silent.

The dev set (evals/data/synth, seed 7) measures accuracy; this draws new tables and new label
damage so that a reader tuned to the committed files would fail here.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from evals.benchmark import run_benchmark
from evals.gold import load_cases
from evals.synth import generate, write


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("synth")
    write(generate(2026, 38), folder, 2026, 38)
    return folder


def test_every_layout_reads_without_silent_errors(generated: Path) -> None:
    cases = load_cases(generated)
    layouts = Counter(case.gold["notes"].split(":", 1)[0] for case in cases)
    assert len(layouts) >= 19
    result = run_benchmark(cases)
    assert result.summary.templates_wrong == 0
    assert result.summary.failed_documents == 0
    assert result.summary.invented == 0
    silent = {s.doc: s.silent_keys for s in result.scores if s.silent_errors}
    assert silent == {}
    assert result.summary.accuracy > 0.97
