"""Tests of the real-world pattern layouts of the synthetic generator (evals/synth/patterns.py).

They check the generator, not a reader: each document shows its pattern's
feature, gold still satisfies the identities, prose numbers are not gold,
and a deduplicated text has no repeated line.  Two seeds are used so that a
property does not hold by the luck of one draw.
"""

from __future__ import annotations

import random
import re
from functools import cache

from evals.synth import LAYOUTS, Document, generate
from evals.synth.layouts import T3_LABELS
from evals.synth.patterns import HYBRID_KEYS, dedup_lines
from evals.synth.values import (
    T3_COLS,
    T4_KEYS,
    broken_identities,
    field_keys,
    merge_other_rows,
    random_values,
    t3_rows,
)

SEEDS = (7, 11)


@cache
def docs_of(layout: str) -> tuple[Document, ...]:
    out: list[Document] = []
    for seed in SEEDS:
        out += [d for d in generate(seed, 2 * len(LAYOUTS)) if d.layout == layout]
    assert len(out) == 2 * len(SEEDS)
    return tuple(out)


def text_of(doc: Document) -> str:
    return doc.body.decode(doc.encoding)


def norm(s: str) -> str:
    return s.replace("（", "(").replace("）", ")")


def test_merge_other_rows_keeps_identities() -> None:
    for seed in range(100):
        v = random_values(random.Random(seed), "2021")
        subs = ("other_overdue_correction", "other_overdue_fee", "other_misc")
        expected = {c: sum(v.fields[f"t3.{r}.{c}"] for r in subs) for c in T3_COLS}
        merge_other_rows(v.fields)
        assert list(v.fields) == list(field_keys("2021", merged_other=True))
        assert {c: v.fields[f"t3.other.{c}"] for c in T3_COLS} == expected
        assert broken_identities(v.fields, "2021", merged_other=True) == []


def test_barcells_rows_are_label_then_one_line_per_cell() -> None:
    bare = 0
    for doc in docs_of("barcells"):
        lines = text_of(doc).splitlines()
        bare += lines.count("|")
        for row in t3_rows(doc.template):
            label = norm(T3_LABELS[row])
            i = next(i for i, x in enumerate(lines) if norm(x) == label)
            cells = lines[i + 1 : i + 1 + len(T3_COLS)]
            assert all(re.fullmatch(r"(\d+ )?\|", c) for c in cells), (doc.name, row, cells)
            values = [int(c.split()[0]) if c != "|" else 0 for c in cells]
            assert values == [doc.fields[f"t3.{row}.{c}"] for c in T3_COLS], (doc.name, row)
    assert bare > 0  # empty cells really are printed as lone bars


def test_prose_restates_table_three_with_numbers_that_are_not_gold() -> None:
    for doc in docs_of("prosethree"):
        notes = str(doc.gold["notes"])
        said = {k: int(n) for k, n in re.findall(r"(t3\.[a-z_]+\.[a-z_]+) as (\d+)", notes)}
        differ = re.search(r"differs from the table: ([^(]+)", notes)
        assert said and differ
        differing = [k.strip() for k in differ.group(1).split(",")]
        assert differing, doc.name
        for key in differing:
            assert doc.fields[key] != said[key], (doc.name, key)  # gold is the table, not the prose
        for key, n in said.items():
            if key not in differing:
                assert doc.fields[key] == n
        lines = text_of(doc).splitlines()
        prose = next(i for i, x in enumerate(lines) if "予以公开" in x and "部分公开" in x and "件" in x)
        t3 = lines.index("三、收到和处理政府信息公开申请情况")
        t4 = lines.index("四、政府信息公开行政复议、行政诉讼情况")
        assert t3 < prose < t4, doc.name  # in or just before table 3
        numbers = [int(n) for n in re.findall(r"\d+", lines[prose])]
        for key in differing:
            assert said[key] in numbers


def test_flippage_starts_mid_table_with_vertical_headers() -> None:
    for doc in docs_of("flippage"):
        text = text_of(doc)
        first = text.splitlines()[0]
        assert "年度报告" not in first and not first.startswith(("二、", "三、收到", "第二十条")), doc.name
        assert re.search(r"(?m)(^[\u4e00-\u9fff]\n){4}", text), doc.name  # one character per line
        t4 = " ".join(str(doc.fields[k]) for k in T4_KEYS)
        assert t4 in text.splitlines(), doc.name  # all 15 of table 4 on one line
        keys = field_keys(doc.template)
        assert list(doc.fields) == list(keys[len(keys) - len(doc.fields) :])  # cells before the page are absent
        opened_in_t2 = "opening in table 2" in str(doc.gold["notes"])
        assert any(k.startswith("t2.") for k in doc.fields) == opened_in_t2, doc.name
        first = "t2.rules." if opened_in_t2 else "t3.new_received."
        assert not any(k.startswith(first) for k in doc.fields), doc.name  # the table's first row is off the page


def test_tradpage_opens_on_a_table_in_traditional_characters_with_glosses() -> None:
    for doc in docs_of("tradpage"):
        text = text_of(doc)
        gloss = r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\)"
        head = re.sub(gloss, "", text.strip().split("\n", 1)[0])
        assert "年度報告" not in head and "年度报告" not in head, doc.name
        assert "第二十條" in head, doc.name  # the first line is table 2's first title row
        assert "公開" in text and "公开" not in text
        assert re.search(r"[\u4e00-\u9fff]" + gloss, text), doc.name
        assert broken_identities(doc.fields, doc.template) == [] or doc.mistake


def test_hybrid_table_two_labels_and_keys() -> None:
    templates = set()
    for doc in docs_of("hybridtwo"):
        templates.add(doc.template)
        text = text_of(doc)
        lines = text[text.index("二、主动公开") : text.index("三、收到")].splitlines()  # table 2
        assert any(re.sub(r"[|\s]", "", x) == "第二十条第" for x in lines), doc.name  # numbering stripped
        assert "本年新制作数量" in text_of(doc)  # 2019-style columns, whatever the template
        t2 = sorted(k for k in doc.fields if k.startswith("t2."))
        if doc.template == "2021":
            assert t2 == sorted(HYBRID_KEYS.values())
            assert "t3.other_misc.total" in doc.fields  # table 3 is the 2021 one
        else:
            assert t2 == sorted(k for k in field_keys("2019") if k.startswith("t2."))
        notes = str(doc.gold["notes"])
        unlabelled = notes.split("without a label: ")[1].split(";")[0].split(", ")
        assert unlabelled and all(u in ("normative", "other_services", "coercion") for u in unlabelled)
        label = {"normative": "规范性文件", "other_services": "其他对外管理服务事项", "coercion": "行政强制"}
        for u in unlabelled:
            assert not any(label[u] in x for x in lines), (doc.name, u)
    assert templates == {"2019", "2021"}


def test_dedup_leaves_no_repeated_line() -> None:
    zero_docs = 0
    for doc in docs_of("dedup"):
        lines = text_of(doc).splitlines()
        assert len(lines) == len(set(lines)), doc.name
        if all(v == 0 for k, v in doc.fields.items() if k.startswith(("t3.", "t4."))):
            zero_docs += 1
            assert "tables 3 and 4 are all zero" in str(doc.gold["notes"])
            # every zero cell reads the same, so at most one zero line survives
            assert sum(1 for x in lines if re.sub(r"[|\s]", "", x) == "0") <= 1
        assert len(doc.fields) == len(field_keys(doc.template))  # cells are gold whether or not their line survived
    assert zero_docs >= 1
    assert dedup_lines("a\n0\nb\n0\na\n\n\n") == ("a\n0\nb\n", 4)


def test_otherrow_prints_one_other_row() -> None:
    for doc in docs_of("otherrow"):
        assert doc.template == "2021" and doc.merged_other
        text = text_of(doc)
        assert "其他处理" in norm(text) and "逾期不补正" not in text
        assert all(f"t3.other.{c}" in doc.fields for c in T3_COLS)
        assert not any(k.startswith("t3.other_") for k in doc.fields)
        assert broken_identities(doc.fields, "2021", merged_other=True) == [] or doc.mistake
