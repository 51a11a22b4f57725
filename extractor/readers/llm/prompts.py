"""Versioned prompt files (prompts/<version>/*.txt), filled per block of rows."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from schemas import RowSpec, SectionSpec

PROMPTS = Path(__file__).parent / "prompts"


@cache
def _load(version: str, name: str) -> str:
    path = PROMPTS / version / f"{name}.txt"
    if not path.exists():
        raise FileNotFoundError(f"no prompt '{name}' in version '{version}' ({path})")
    return path.read_text(encoding="utf-8")


def system_prompt(version: str) -> str:
    return _load(version, "system").strip()


def block_prompt(version: str, section: SectionSpec, rows: tuple[RowSpec, ...], text: str) -> str:
    columns = "；".join(
        f"{row.key}: " + ", ".join(f"{col.key}={col.label}" for col in row.columns)
        for row in _distinct_column_sets(rows)
    )
    listed = "\n".join(f"- {row.key}：{row.label}" for row in rows)
    return _load(version, "user").format(section_title=section.title, rows=listed, columns=columns, text=text.strip())


def _distinct_column_sets(rows: tuple[RowSpec, ...]) -> list[RowSpec]:
    seen: set[tuple[str, ...]] = set()
    out = []
    for row in rows:
        keys = tuple(col.key for col in row.columns)
        if keys not in seen:
            seen.add(keys)
            out.append(row)
    return out
