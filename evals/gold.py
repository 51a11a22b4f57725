"""Gold files: `NAME.<ext>` beside `NAME.gold.json` (shared/benchmark/FIELDS.md)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GOLD_SUFFIX = ".gold.json"


@dataclass(frozen=True)
class GoldCase:
    name: str
    document: Path
    gold: dict[str, Any]

    @property
    def fields(self) -> dict[str, float]:
        return dict(self.gold.get("fields", {}))


def _document_for(gold_path: Path) -> Path | None:
    name = gold_path.name[: -len(GOLD_SUFFIX)]
    candidates = sorted(
        p for p in gold_path.parent.glob(f"{name}.*") if not p.name.endswith(GOLD_SUFFIX) and p.stem == name
    )
    return candidates[0] if candidates else None


def load_cases(*folders: Path, suffixes: tuple[str, ...] | None = None) -> list[GoldCase]:
    """Every gold pair under the folders (recursively), sorted by name; unpaired gold is skipped."""
    cases = []
    for folder in folders:
        for gold_path in sorted(folder.rglob(f"*{GOLD_SUFFIX}")):
            document = _document_for(gold_path)
            if document is None or (suffixes and document.suffix.lower() not in suffixes):
                continue
            gold = json.loads(gold_path.read_text(encoding="utf-8"))
            cases.append(GoldCase(gold_path.name[: -len(GOLD_SUFFIX)], document, gold))
    return cases
