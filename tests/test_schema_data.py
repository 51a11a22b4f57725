"""The template is the one definition: the synthetic generator's keys and the table locator both
follow it, and every table can be found from its data alone."""

from __future__ import annotations

import pytest

from evals.synth.values import TEMPLATES, field_keys
from extractor.ingest import load_path
from extractor.readers.layout.locate import locate
from schemas import DISCLOSURE_REPORT
from tests.helpers import SHARED_REAL


@pytest.mark.parametrize("version", TEMPLATES)
def test_the_generator_prints_exactly_the_schema_keys_in_order(version: str) -> None:
    assert list(field_keys(version)) == DISCLOSURE_REPORT.template(version).used_keys()  # type: ignore[arg-type]


@pytest.mark.parametrize("template", DISCLOSURE_REPORT.templates, ids=lambda t: t.version)
def test_every_table_is_located_from_its_own_data(template: object) -> None:
    from schemas import TemplateSpec

    assert isinstance(template, TemplateSpec)
    keys = [section.key for section in template.sections]
    assert sorted(template.locate_order) == sorted(keys)
    for section in template.sections:
        where = section.location
        assert where.anchors or where.headings, f"{section.key} has nothing to be found by"
    assert locate(template, "这份文件没有任何表格。") == {key: None for key in keys}


@pytest.mark.skipif(not (SHARED_REAL / "seed-dongtonghua-2020.txt").exists(), reason="shared benchmark absent")
def test_a_report_gives_one_ordered_span_per_section() -> None:
    doc = load_path(SHARED_REAL / "seed-dongtonghua-2020.txt")
    template = DISCLOSURE_REPORT.template("2019")
    regions = locate(template, doc.normalized)
    assert list(regions) == ["t2", "t3", "t4"]
    spans = [regions[key] for key in ("t2", "t3", "t4")]
    assert all(span is not None for span in spans)
    starts = [span[0] for span in spans if span is not None]
    assert starts == sorted(starts)
    t3 = regions["t3"]
    assert t3 is not None and "本年新收" in doc.normalized[t3[0] : t3[1]]


def test_a_table_ends_where_the_next_one_begins_even_without_a_heading() -> None:
    """Table 2 used to run on into table 3 when table 3 printed no heading of its own."""
    template = DISCLOSURE_REPORT.template("2021")
    text = "\n".join([
        "二、主动公开政府信息情况",
        "第二十条第（一）项",
        "信息内容 | 本年制发件数 | 本年废止件数 | 现行有效件数",
        "规章 | 0 | 0 | 0",
        "一、本年新收政府信息公开申请数量 | 5 | 0 | 0 | 0 | 0 | 0 | 5",
        "二、上年结转政府信息公开申请数量 | 0 | 0 | 0 | 0 | 0 | 0 | 0",
    ])  # fmt: skip
    regions = locate(template, text)
    t2, t3 = regions["t2"], regions["t3"]
    assert t2 is not None and t3 is not None
    assert t2[1] == t3[0] == text.index("一、本年新收") + 2
