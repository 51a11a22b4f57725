"""The real reports of shared/benchmark/real read exactly (the dev-set anchor of issue 2)."""

from __future__ import annotations

import json

import pytest

from extractor.ingest import load_path
from extractor.pipeline import extract
from tests.helpers import SHARED_REAL

pytestmark = pytest.mark.skipif(not SHARED_REAL.exists(), reason="shared benchmark not beside the checkout")


def test_seed_report_matches_gold_exactly_without_flags() -> None:
    gold = json.loads((SHARED_REAL / "seed-dongtonghua-2020.gold.json").read_text(encoding="utf-8"))
    flat = extract(load_path(SHARED_REAL / "seed-dongtonghua-2020.txt")).flat()
    assert flat["template"] == "2019"
    assert flat["year"] == 2020
    assert flat["fields"] == gold["fields"]
    assert flat["flags"] == {}


@pytest.mark.parametrize(
    "name",
    [
        "real-shuyang-county-2025.txt",
        "real-shuyang-fgj-2023.html",
        "real-pingtan-2024.txt",
        "real-shanghai-kewei-2024.md",
        "real-shanghai-office-2025.md",
        "real-huaian-2024-excerpt.txt",
        "real-shanghai-office-2019.html",
        "real-huaian-city-2024.pdf",
    ],
)
def test_real_reports_have_no_silent_errors(name: str) -> None:
    """Every gold cell is either read right or flagged; nothing is invented."""
    gold = json.loads((SHARED_REAL / name.rsplit(".", 1)[0]).with_suffix(".gold.json").read_text(encoding="utf-8"))
    flat = extract(load_path(SHARED_REAL / name)).flat()
    assert flat["template"] == gold["template"]
    silent = [k for k, v in gold["fields"].items() if flat["fields"].get(k) != v and k not in flat["flags"]]
    invented = [k for k in flat["fields"] if k not in gold["fields"] and k not in flat["flags"]]
    assert silent == []
    assert invented == []


def test_publisher_mistake_is_flagged_not_fixed() -> None:
    """Shanghai 2019 left the 总计 column empty for the result rows: keep 0, flag each once with the
    value its row gives, under one note for the table."""
    result = extract(load_path(SHARED_REAL / "real-shanghai-office-2019.html"))
    flat = result.flat()
    assert flat["fields"]["t3.granted.total"] == 0
    assert flat["fields"]["t3.granted.natural"] > 0
    natural = flat["fields"]["t3.granted.natural"]
    (reason,) = flat["flags"]["t3.granted.total"]
    assert "shown blank, likely left so by the publisher" in reason and f"{natural}+" in reason
    assert any("cells shown blank" in note and "values inferred" in note for note in result.notes)


def test_cut_off_excerpt_invents_nothing() -> None:
    flat = extract(load_path(SHARED_REAL / "real-huaian-2024-excerpt.txt")).flat()
    assert "t4.review.total" not in flat["fields"]
    assert "t3.total.total" not in flat["fields"]
    assert flat["fields"]["t3.new_received.total"] == 3119
