"""Check that every number an LLM returns is printed in the text, where its row puts it.

This is how invented numbers are caught: a value that cannot be found in its row's stretch of
the source is flagged, whatever the model's confidence. A found value gets the span it came from.
"""

from __future__ import annotations

from dataclasses import dataclass

from extractor.model import Number
from extractor.readers.layout.tokens import Token, tokenize


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
        elif token.glued:
            position = token.text.find(wanted)
            while position >= 0:
                spans.append((token.start + position, token.start + position + len(wanted)))
                position = token.text.find(wanted, position + 1)
    return spans


def ground_row(
    normalized: str, window: tuple[int, int] | None, values: list[Number | None], width: int
) -> list[Grounding | None]:
    """Ground one row's values in its window; None where the model said null (not shown).

    A row whose label is nowhere in the text has no window: none of its values is grounded,
    zeros included (a model that fills a missing row with 0 is inventing it).
    """
    if window is None:
        return [None if v is None else Grounding(None, "its row is not printed in the source text") for v in values]
    tokens = tokenize(normalized, *window)
    own = _own_tokens(tokens, width)
    if own < len(tokens):
        window, tokens = (window[0], tokens[own].start), tokens[:own]
    shown = [t for t in tokens if t.kind in ("num", "blank")]
    cells = [t for t in tokens if t.kind in ("num", "blank", "empty")]
    if len(cells) == width and not any(t.glued for t in cells):
        return _by_position(values, cells)
    if len(shown) == width and not any(t.glued for t in shown):
        return _by_position(values, shown)
    if any(t.glued for t in shown):
        return _by_digits(values, shown)
    zeros = [(t.start, t.end) for t in shown if t.kind == "blank" or t.value == 0]
    zeros += [(t.start, t.end) for t in shown if t.glued and "0" in t.text]
    zeros.sort()
    # fewer values than columns means empty cells were dropped: a 0 need not be printed — unless
    # the text simply stops here (a cut-off document), where unprinted cells are unknown, not 0
    dropped = len(shown) < width and normalized[window[1] :].strip() != ""
    placement = f"only {len(shown)} of {width} cells printed in this row: which column each belongs to is uncertain"
    out: list[Grounding | None] = []
    cursor = window[0]
    for value in values:
        if value is None:
            out.append(None)
            continue
        if value == 0:
            later = [z for z in zeros if z[0] >= cursor]
            if later:
                out.append(Grounding(later[0]))
                cursor = later[0][1] if later[0] not in _glued_spans(shown) else cursor
            elif dropped:
                out.append(Grounding(None, placement))
            else:
                out.append(Grounding(None, "0 is not printed here in the source text"))
            continue
        spans = _occurrences(tokens, value)
        if not spans:
            out.append(Grounding(None, f"{value} is not in the source text of this row (not grounded)"))
            continue
        after = [s for s in spans if s[0] >= cursor]
        if after:
            out.append(Grounding(after[0], placement if len(shown) < width else ""))
            cursor = after[0][1]
        else:
            out.append(Grounding(spans[0], f"{value} is in the text, but not where its column puts it"))
    return out


def _own_tokens(tokens: list[Token], width: int) -> int:
    """How many of the window's tokens are the row's own: all, unless an unlisted row follows it.

    A row printed whole (exactly `width` cells) and then a text label with more numbers after it
    ('其他主动公开文件 16 0 644' under 行政规范性文件): those numbers belong to that other line,
    and a model that copies them has read the wrong row.
    """
    cells = 0
    for index, token in enumerate(tokens):
        if token.kind in ("num", "blank"):
            cells += 1
        elif token.kind == "text" and cells == width:
            more = any(t.kind in ("num", "blank") for t in tokens[index + 1 :])
            return index if more else len(tokens)
    return len(tokens)


def _by_position(values: list[Number | None], shown: list[Token]) -> list[Grounding | None]:
    """The row prints exactly one cell per column: the i-th value must be the i-th printed cell."""
    out: list[Grounding | None] = []
    for value, token in zip(values, shown, strict=True):
        if value is None:
            out.append(None)
            continue
        printed = token.value if token.kind == "num" and token.value is not None else 0
        if float(printed) == float(value):
            out.append(Grounding((token.start, token.end)))
        else:
            out.append(
                Grounding((token.start, token.end), f"the text prints '{token.text or '(blank)'}' here, not {value}")
            )
    return out


def _by_digits(values: list[Number | None], shown: list[Token]) -> list[Grounding | None]:
    """Cells run together: the row's values, written one after another, must spell the printed digits."""
    printed = "".join(t.text.lstrip("+") for t in shown if t.kind == "num")
    if any(v is None for v in values):
        reason = "cells run together and the LLM left some empty: its split cannot be checked"
        return [None if v is None else Grounding((shown[0].start, shown[-1].end), reason) for v in values]
    spelled = "".join(_digits(v) if v is not None and v >= 0 else f"-{_digits(v)}" for v in values if v is not None)
    span = (shown[0].start, shown[-1].end)
    if printed == spelled:
        return [Grounding(span) for _ in values]
    reason = f"the values spell '{spelled}', the text prints '{printed}'"
    return [Grounding(span, reason) for _ in values]


def _glued_spans(shown: list[Token]) -> set[tuple[int, int]]:
    return {(t.start, t.end) for t in shown if t.glued}
