"""Tests of the synthetic report generator (evals/synth) itself.

The synthetic dev set is only worth scoring against if its gold is right, so
these tests check the generator, not any reader: gold obeys the FIELDS.md
identities except for the one cell a deliberate publisher's mistake changes,
output is a pure function of the seed, every layout is produced, and the
committed data in evals/data/synth is exactly what the CLI regenerates.
"""

from __future__ import annotations

import json
import random
import re
import sys
from collections import Counter
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # allow `pytest tests/test_synth.py` without installing
    sys.path.insert(0, str(ROOT))

from evals.synth import LAYOUTS, Document, generate, plan, write  # noqa: E402
from evals.synth.layouts import T3_LABELS, count_splits, count_sum_splits  # noqa: E402
from evals.synth.values import (  # noqa: E402
    DECIMAL_KEYS,
    T3_COLS,
    YEARS,
    Template,
    broken_identities,
    field_keys,
    identities,
    random_values,
    t3_rows,
)

SEED = 7
COUNT = 52
DATA = ROOT / "evals" / "data" / "synth"


@cache
def docs() -> tuple[Document, ...]:
    """The committed dev set, generated in memory (cached: generation takes ~1 s)."""
    return tuple(generate(SEED, COUNT))


def test_values_satisfy_identities_for_many_seeds() -> None:
    for seed in range(300):
        rng = random.Random(seed)
        template: Template = rng.choice(["2019", "2021"])
        v = random_values(rng, template)
        assert list(v.fields) == list(field_keys(template))
        assert broken_identities(v.fields, template) == []
        assert all(x >= 0 for k, x in v.fields.items() if not k.endswith(".change"))


def test_gold_identities_hold_except_injected_mistake() -> None:
    for doc in docs():
        broken = broken_identities(doc.fields, doc.template, doc.merged_other)
        if doc.mistake is None:
            assert broken == [], (doc.name, [b.name for b in broken])
        else:
            assert broken, f"{doc.name}: the injected mistake breaks no identity"
            assert all(doc.mistake in b.keys for b in broken), doc.name
            notes = doc.gold["notes"]
            assert isinstance(notes, str) and doc.mistake in notes


def test_mistake_rate_is_about_fifteen_percent() -> None:
    n = sum(1 for d in docs() if d.mistake)
    assert 0.10 * COUNT <= n <= 0.20 * COUNT
    unsafe = {lay.name for lay in LAYOUTS if not lay.mistakes}
    assert not any(d.mistake and d.layout in unsafe for d in docs())


def test_deterministic_for_a_seed() -> None:
    again = generate(SEED, COUNT)
    assert [(d.name, d.body, d.gold) for d in again] == [(d.name, d.body, d.gold) for d in docs()]
    other = generate(SEED + 1, COUNT)
    assert [d.body for d in other] != [d.body for d in docs()]


def test_every_layout_produced_with_both_templates() -> None:
    by_layout: dict[str, set[str]] = {}
    for d in docs():
        by_layout.setdefault(d.layout, set()).add(d.template)
    assert set(by_layout) == {lay.name for lay in LAYOUTS}
    counts = Counter(d.layout for d in docs())
    assert min(counts.values()) >= 2
    for name, templates in by_layout.items():
        layout = next(lay for lay in LAYOUTS if lay.name == name)
        assert templates == set(layout.templates or ("2019", "2021")), name
    assert len(docs()) >= 2 * len(LAYOUTS)


def test_plan_cycles_layouts() -> None:
    layouts = [lay.name for lay, _, _ in plan(len(LAYOUTS) * 2)]
    assert layouts == [lay.name for lay in LAYOUTS] * 2


def test_gold_format() -> None:
    for doc in docs():
        g = doc.gold
        assert list(g) == ["doc", "template", "year", "agency", "source", "notes", "fields"]
        assert g["doc"] == doc.name and re.fullmatch(r"synth-[a-z]+-\d+", doc.name)
        assert g["year"] in YEARS[doc.template]
        assert g["source"] == f"synthetic (evals/synth, seed {SEED})"
        assert isinstance(g["agency"], str) and g["agency"]
        notes = g["notes"]
        assert isinstance(notes, str) and notes.startswith(f"layout {doc.layout}:")
        keys = field_keys(doc.template, doc.merged_other)
        assert set(doc.fields) <= set(keys)
        assert list(doc.fields) == [k for k in keys if k in doc.fields]  # reading order
        for key, value in doc.fields.items():
            assert isinstance(value, int | float) and not isinstance(value, bool)
            if key not in DECIMAL_KEYS:
                assert isinstance(value, int), key


PARTIAL = {"cutoff", "flippage"}  # layouts whose documents do not show every cell


def test_only_cutoff_documents_are_partial() -> None:
    for doc in docs():
        full = len(field_keys(doc.template, doc.merged_other))
        if doc.layout == "hybridtwo" and doc.template == "2021":
            assert len(doc.fields) == full - 10 + 3, doc.name  # only the three 处理决定数量 of table 2
        elif doc.layout in PARTIAL:
            assert 0 < len(doc.fields) < full, doc.name
        elif doc.layout == "cutoff":
            assert 0 < len(doc.fields) < full
            # a prefix of the reading order: nothing after the cut is in gold
            keys = field_keys(doc.template)
            assert list(doc.fields) == list(keys[: len(doc.fields)])
        else:
            assert len(doc.fields) == full, doc.name


def test_templates_have_their_own_keys() -> None:
    assert len(field_keys("2019")) == 22 + 23 * 7 + 15 == 198
    assert len(field_keys("2021")) == 10 + 25 * 7 + 15 == 200
    assert len([k for k in field_keys("2021") if k.startswith("t2.")]) == 10
    assert "t3.other.total" in field_keys("2019")
    assert "t3.other_misc.total" in field_keys("2021")
    assert "t3.other.total" not in field_keys("2021")


def test_documents_small_and_decodable() -> None:
    encodings: Counter[str] = Counter()
    for doc in docs():
        assert len(doc.body) < 15 * 1024, (doc.name, len(doc.body))
        text = doc.body.decode(doc.encoding)
        converted = doc.layout in ("traditional", "tradpage") or doc.encoding == "big5"
        untitled = doc.layout == "flippage"  # one page from the middle: no title
        assert converted or untitled or str(doc.gold["agency"]) in text, doc.name
        encodings[doc.encoding] += 1
    assert encodings["gb18030"] >= 1 and encodings["big5"] >= 1
    gb = next(d for d in docs() if d.encoding == "gb18030")
    with pytest.raises(UnicodeDecodeError):
        gb.body.decode("utf-8")


def test_extra_rows_never_reach_gold() -> None:
    for doc in docs():
        if doc.layout == "extrarows":
            text = doc.body.decode(doc.encoding)
            assert "其他主动公开文件" in text and "小计" in text
            assert len(doc.fields) == len(field_keys(doc.template))


def test_pipes_layout_prints_gold_in_place() -> None:
    """Round-trip check of the plainest layout: each table-3 row shows its gold."""
    for doc in docs():
        if doc.layout != "pipes":
            continue
        lines = doc.body.decode("utf-8").splitlines()
        for row in t3_rows(doc.template):
            label = T3_LABELS[row].replace("（", "(").replace("）", ")")
            line = next(x for x in lines if x.replace("（", "(").replace("）", ")").split(" | ").count(label))
            after = line.replace("（", "(").replace("）", ")").split(label, 1)[1]
            nums = [int(n) for n in re.findall(r"-?\d+", after)]
            assert nums == [doc.fields[f"t3.{row}.{c}"] for c in T3_COLS], (doc.name, row)


def test_run_together_split_counting() -> None:
    assert count_sum_splits("21710000218", 1, 6) == 1  # real-pingtan-2024: 217 1 0 0 0 0 218
    assert count_sum_splits("110000011", 1, 6) == 2  # 11 0 0 0 0 0 11 or 1 10 0 0 0 0 11
    assert count_sum_splits("21317000001324019", 3, 4) >= 1  # pingtan table 4
    assert count_splits("000", 3) == 1
    assert count_splits("6233440", 3) > 1  # pingtan 行政规范性文件, ambiguous
    assert count_splits("518651.06", 2, decimal_last=True) > 1


def test_runtogether_notes_name_ambiguity() -> None:
    for doc in docs():
        if doc.layout == "runtogether":
            notes = doc.gold["notes"]
            assert isinstance(notes, str)
            assert "split uniquely" in notes or "ambiguous" in notes


def test_identities_cover_fields_md() -> None:
    names = [i.name for i in identities("2021")]
    assert len(names) == 25 + 7 * 2 + 3
    assert len(identities("2019")) == 23 + 7 * 2 + 3


def test_committed_data_matches_generator(tmp_path: Path) -> None:
    if not DATA.exists():
        pytest.skip("evals/data/synth not generated")
    write(list(docs()), tmp_path, SEED, COUNT)
    fresh = sorted(p.name for p in tmp_path.iterdir())
    committed = sorted(p.name for p in DATA.iterdir())
    assert fresh == committed
    for name in fresh:
        assert (tmp_path / name).read_bytes() == (DATA / name).read_bytes(), name
    gold = json.loads((DATA / f"{docs()[0].name}.gold.json").read_text(encoding="utf-8"))
    assert gold == docs()[0].gold


def test_nonzero_layouts_have_requests() -> None:
    nonzero = {lay.name for lay in LAYOUTS if lay.nonzero}
    for doc in docs():
        if doc.layout in nonzero:
            assert sum(v for k, v in doc.fields.items() if k.startswith("t3.")) > 0, doc.name
