"""The LLM path end to end on a real small model (Qwen2.5-Coder-0.5B under llama.cpp).

This checks the path (spans, reconciliation, flags, usage), not the model's accuracy: whatever
the model answers, nothing it says may end up wrong and unflagged, and `both` may never be worse
than `rules` alone.
"""

from __future__ import annotations

import json

import pytest

from extractor.ingest import load_path
from extractor.pipeline import extract
from extractor.readers.llm import LLMSettings
from tests.helpers import SHARED_REAL
from tests.llm_local_fixture import LocalLLM
from tests.services import require_service

DOC = SHARED_REAL / "real-huaian-2024-excerpt.txt"


@pytest.mark.local_llm
def test_llm_and_both_on_a_real_report(local_llm: LocalLLM) -> None:
    if not DOC.exists():  # a local-model test may not skip unseen in CI either
        require_service(f"shared benchmark not beside the checkout ({DOC} is missing)")
    base_url, model = local_llm
    settings = LLMSettings(base_url=base_url, model=model, mode="TOOLS", cache_dir=None, timeout=300, concurrency=1)
    gold = json.loads(DOC.with_suffix(".gold.json").read_text(encoding="utf-8"))["fields"]
    doc = load_path(DOC)
    rules = extract(doc).flat()
    for reader in ("llm", "both"):
        result = extract(doc, reader=reader, llm=settings)
        flat = result.flat()
        assert result.usage["calls"] >= 1 and result.usage["tokens_in"] > 0
        silent = [k for k, v in gold.items() if flat["fields"].get(k) != v and k not in flat["flags"]]
        invented = [k for k in flat["fields"] if k not in gold and k not in flat["flags"]]
        assert silent == [] and invented == []
        for value in result.fields.values():
            if value.source == "llm" and value.value is not None and not value.flagged:
                assert value.span is not None and doc.text[value.span[0] : value.span[1]].strip()
        if reader == "both":
            right = sum(1 for k, v in gold.items() if flat["fields"].get(k) == v)
            assert right >= sum(1 for k, v in gold.items() if rules["fields"].get(k) == v)
