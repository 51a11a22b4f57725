"""Check that every number an LLM returns is printed in the text, where its row puts it.

This is how invented numbers are caught: a value that cannot be found in its row's stretch of
the source is flagged, whatever the model's confidence. A found value gets the span it came from.
"""

from __future__ import annotations

from dataclasses import dataclass

from extractor.model import Number
from extractor.readers.rules.tokens import Token, tokenize


@dataclass(frozen=True)
class Grounding:
    span: tuple[int, int] | None
    reason: str = ""

    @property
    def grounded(self) -> bool:
        return not self.reason


def _digits(value: Number) -> str:
    if isinstance(value, float) and not value.is_integer():
        return f"{value:f}".rstrip("0").rstrip(".")
    return str(abs(int(value)))


def _occurrences(tokens: list[Token], value: Number) -> list[tuple[int, int]]:
    """Spans in the window where the value is printed: a whole cell, or a run of glued digits."""
    spans = []
    wanted = _digits(value)
    for token in tokens:
        if token.kind != "num":
            continue
        if token.value is not None and float(token.value) == float(value):
            spans.append((token.start, token.end))
        elif token.glued or len(token.text) > len(wanted):
            position = token.text.find(wanted)
            while position >= 0:
                spans.append((token.start + position, token.start + position + len(wanted)))
                position = token.text.find(wanted, position + 1)
    return spans


def ground_row(
    normalized: str, window: tuple[int, int], values: list[Number | None], width: int
) -> list[Grounding | None]:
    """Ground one row's values in its window; None where the model said null (not shown)."""
    tokens = tokenize(normalized, *window)
    shown = [t for t in tokens if t.kind in ("num", "blank")]
    has_zero = any(t.kind == "blank" or t.value == 0 for t in shown) or any("0" in t.text for t in shown if t.glued)
    dropped = len(shown) < width
    out: list[Grounding | None] = []
    cursor = window[0]
    for value in values:
        if value is None:
            out.append(None)
            continue
        if value == 0:
            ok = has_zero or dropped
            out.append(Grounding(None) if ok else Grounding(None, "0 is not printed in this row of the text"))
            continue
        spans = _occurrences(tokens, value)
        if not spans:
            out.append(Grounding(None, f"{value} is not in the source text of this row (not grounded)"))
            continue
        after = [s for s in spans if s[0] >= cursor]
        if after:
            out.append(Grounding(after[0]))
            cursor = after[0][1]
        else:
            out.append(Grounding(spans[0], f"{value} is in the text, but not where its column puts it"))
    return out
