"""Arithmetic identities as data: `sum(left) == sum(right)`.

A row total is `left=(total,)`, `right=parts`; the table-3 note 第一项加第二项之和，等于第三项加
第四项之和 is `left=(new, carried_over)`, `right=(total, carried_forward)`. One definition serves
the reconciler, the LLM prompts, the review UI and the benchmark.
"""

from __future__ import annotations

from functools import cached_property

from pydantic import BaseModel, ConfigDict


class SumRule(BaseModel):
    """`sum(left) == sum(right)`; `name` is stable, `description` is what a reviewer reads."""

    model_config = ConfigDict(frozen=True)

    name: str
    description: str
    left: tuple[str, ...]
    right: tuple[str, ...]

    @cached_property
    def cells(self) -> tuple[str, ...]:
        """Every cell the rule reads (cached: the reconciler asks for it on every document)."""
        return (*self.left, *self.right)
