"""The ways an LLM gets a table wrong, as small pure functions the fake server can inject.

Each value failure mirrors a mistake real models make when they transcribe the mandated tables:
a blank cell skipped so the rest of the row slides one column, two run-together numbers read as
one (`1 2` → `12`) or one number read as two, a row left out or copied from its neighbour, and a
believable number that the text does not contain. The answer still validates against the block
model, so such a mistake is *silent* unless the reconciler's arithmetic catches it; that is what
the benchmark measures, and why every change is recorded as (key, gold, sent).

The other failures break the exchange itself: JSON that does not parse, JSON cut off at the token
limit, a refusal, a slow answer, HTTP 429 and HTTP 500. They test the reader's retries and error
handling rather than the reconciler.

Everything here is deterministic given a `random.Random`, so a run is reproduced by its seed.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Cell = int | float | None
Block = dict[str, dict[str, Cell]]
"""A block answer: row key → column key → value, in the order of the JSON schema."""

Mode = Literal[
    "broken_json",
    "truncated_json",
    "shift_column",
    "merge_numbers",
    "split_number",
    "drop_row",
    "duplicate_row",
    "plausible_number",
    "refusal",
    "timeout",
    "http_429",
    "http_500",
    "swap_columns",
    "invent_row",
]

MODES: tuple[Mode, ...] = (
    "broken_json",
    "truncated_json",
    "shift_column",
    "merge_numbers",
    "split_number",
    "drop_row",
    "duplicate_row",
    "plausible_number",
    "refusal",
    "timeout",
    "http_429",
    "http_500",
    "swap_columns",
    "invent_row",
)
#: The modes `failure_rate` is spread over. The later ones (two columns swapped, a row the text does not
#: print answered with numbers from elsewhere in the text, prose included) are injected only when named
#: in `rates`, so that the failure mix of a given `failure_rate`, and the figures measured with it, stay.
SPREAD_MODES: tuple[Mode, ...] = MODES[:12]
VALUE_MODES: frozenset[Mode] = frozenset(
    {
        "shift_column", "merge_numbers", "split_number", "drop_row", "duplicate_row", "plausible_number",
        "swap_columns", "invent_row",
    }
)  # fmt: skip
"""Failures that send well-formed JSON with wrong values: the ones the reconciler should catch."""

REFUSAL_TEXT = "I'm sorry, I can't help with that."


class FailureConfig(BaseModel):
    """How often each failure is injected, and the knobs of the slow and rate-limited answers.

    `failure_rate` is the share of requests that fail in some way, spread evenly over the modes
    that `rates` does not name; a mode named in `rates` gets exactly that rate. At most one
    failure is injected per request, so the effective rates must add up to at most 1.
    """

    model_config = ConfigDict(extra="forbid")

    failure_rate: float = Field(0.0, ge=0.0, le=1.0)
    rates: dict[str, float] = Field(default_factory=dict)
    timeout_seconds: float = Field(5.0, ge=0.0, description="how long a 'timeout' answer sleeps before answering")
    retry_after: float = Field(1.0, ge=0.0, description="seconds sent in Retry-After with an HTTP 429")
    merge_fill: int | None = Field(0, description="what the cell after two merged numbers becomes (0 or null)")

    @field_validator("rates")
    @classmethod
    def _known_modes(cls, rates: dict[str, float]) -> dict[str, float]:
        for mode, rate in rates.items():
            if mode not in MODES:
                raise ValueError(f"unknown failure mode {mode!r}; known: {', '.join(MODES)}")
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"rate of {mode} must be between 0 and 1, not {rate}")
        return rates

    @model_validator(mode="after")
    def _at_most_one(self) -> FailureConfig:
        total = sum(self.effective_rates().values())
        if total > 1.0 + 1e-9:
            raise ValueError(f"failure rates add up to {total:.3f} > 1 (at most one failure per request)")
        return self

    def effective_rates(self) -> dict[Mode, float]:
        """The rate of every mode after spreading `failure_rate` over the modes not named."""
        unnamed = [m for m in SPREAD_MODES if m not in self.rates]
        share = self.failure_rate / len(unnamed) if unnamed else 0.0
        return {m: self.rates.get(m, share if m in SPREAD_MODES else 0.0) for m in MODES}

    @classmethod
    def only(cls, mode: Mode, rate: float = 1.0, **knobs: Any) -> FailureConfig:
        """One mode at `rate` and every other off: what a test of that mode wants."""
        return cls(rates={m: (rate if m == mode else 0.0) for m in MODES}, **knobs)


def choose_mode(rates: Mapping[Mode, float], draw: float) -> Mode | None:
    """Map one uniform draw in [0, 1) to at most one failure, walking the modes in a fixed order."""
    edge = 0.0
    for mode in MODES:
        edge += rates.get(mode, 0.0)
        if draw < edge:
            return mode
    return None


# ---- value failures: pure functions on one row or one block --------------------------------------


def shift_cells(values: Sequence[Cell], start: int, direction: int) -> list[Cell]:
    """Slide the cells from `start` on one column right (+1, a phantom cell) or left (-1, a skipped one).

    The cell that slides off the end is lost and the freed cell becomes null, as when a model
    skips an empty cell and every later number lands one column early.
    """
    out = list(values)
    if direction > 0:
        out[start:] = [None, *values[start:-1]]
    else:
        out[start:] = [*values[start + 1 :], None]
    return out


def merge_cells(values: Sequence[Cell], index: int, fill: Cell = 0) -> list[Cell]:
    """Read two adjacent numbers as one (`1`, `2` → `12`); the second cell becomes `fill`."""
    first, second = values[index], values[index + 1]
    if not _digits(first) or not _digits(second):
        raise ValueError(f"cells {index} and {index + 1} are not both non-negative integers")
    out = list(values)
    out[index] = int(f"{first}{second}")
    out[index + 1] = fill
    return out


def split_cell(values: Sequence[Cell], index: int, at: int) -> list[Cell]:
    """Read one number as two (`12` → `1`, `2`) at digit `at`; later cells slide right, the last is lost."""
    value = values[index]
    if not _digits(value) or not 0 < at < len(str(value)):
        raise ValueError(f"cell {index} ({value!r}) cannot be split at digit {at}")
    text = str(value)
    return [*values[:index], int(text[:at]), int(text[at:]), *values[index + 1 :]][: len(values)]


def drop_row(block: Block, row: str) -> Block:
    """Answer a row as if the text did not show it: null in every cell."""
    out = _copy(block)
    out[row] = dict.fromkeys(out[row], None)
    return out


def duplicate_row(block: Block, row: str, source: str) -> Block:
    """Fill `row` with the values of its neighbour `source`, column by column in order."""
    out = _copy(block)
    source_values = list(block[source].values())
    columns = list(out[row])
    out[row] = {col: source_values[i] if i < len(source_values) else None for i, col in enumerate(columns)}
    return out


def plausible_value(true: int | float, rng: random.Random, text: str = "") -> int | float:
    """A number near `true` that the source text does not contain, so no reader can have seen it.

    Preference order: not a substring of the text's digit runs (so also not part of a run-together
    row like `640020470`), then at least not one of its numbers, then any nearby value.
    """
    if isinstance(true, int):
        spread = max(3, round(abs(true) * 0.2))
        candidates: list[int | float] = [true + d for d in range(-spread, spread + 1) if d and true + d >= 0]
    else:
        shown = repr(true)
        decimals = max(1, len(shown.split(".")[1])) if "." in shown else 1
        base = true or 1.0
        candidates = [round(base * (1 + sign * pct / 100), decimals) for pct in range(2, 11) for sign in (1, -1)]
        candidates = [c for c in candidates if c != true]
    runs = re.findall(r"\d+(?:\.\d+)?", text)
    unseen = [c for c in candidates if not any(_number_text(c) in run for run in runs)]
    not_listed = [c for c in candidates if _number_text(c) not in runs]
    pool = unseen or not_listed or candidates
    return rng.choice(pool)


def invent_cells(width: int, text: str, rng: random.Random) -> list[Cell]:
    """Values for a row the text does not print, taken from the numbers the text does print (its
    prose included: '全年处理申请数量423件'), as a model that fills every row it is asked for does."""
    printed = [int(n) for n in re.findall(r"(?<![\d.])\d{1,6}(?![\d.])", text)]
    pool = printed or list(range(1, 10))
    start = rng.randrange(len(pool))
    return [pool[(start + i) % len(pool)] for i in range(width)]


def diff_blocks(section: str, before: Block, after: Block) -> list[Change]:
    """Every cell whose value differs, as field keys with the gold and the sent value."""
    changes = []
    for row, cells in before.items():
        for col, gold in cells.items():
            sent = after.get(row, {}).get(col)
            if sent != gold:
                changes.append(Change(key=f"{section}.{row}.{col}", gold=gold, sent=sent))
    return changes


@dataclass(frozen=True)
class Change:
    """One wrong value sent: what gold says and what the fake model answered instead."""

    key: str
    gold: Cell
    sent: Cell


@dataclass(frozen=True)
class Corruption:
    """A value failure as applied: the new block, the changed cells and a one-line account."""

    block: Block
    changes: list[Change]
    detail: str


def corrupt_block(
    mode: Mode, section: str, block: Block, rng: random.Random, text: str = "", merge_fill: Cell = 0
) -> Corruption | None:
    """Apply one value failure at a random place where it changes something; None if there is none.

    Every possible place is tried first and only the ones that change a value are kept, so an
    injected failure always leaves at least one wrong value to be caught (a shift of an all-null
    row would not count).
    """
    options: list[tuple[Block, str]] = []
    cells: list[tuple[str, str]] = []
    rows = list(block)
    for row_index, row in enumerate(rows):
        cols = list(block[row])
        values = list(block[row].values())

        def with_row(new_values: list[Cell], row: str = row, cols: list[str] = cols) -> Block:
            out = _copy(block)
            out[row] = dict(zip(cols, new_values, strict=True))
            return out

        if mode == "shift_column":
            for start in range(len(values) - 1):
                for direction, word in ((1, "right"), (-1, "left")):
                    moved = values[start:-1] if direction > 0 else values[start + 1 :]
                    if not all(_movable(v) for v in moved):
                        continue  # a negative change or a 万元 amount in a count column would fail validation
                    options.append(
                        (with_row(shift_cells(values, start, direction)), f"{row}: shifted {word} from {cols[start]}")
                    )
        elif mode == "merge_numbers":
            for i in range(len(values) - 1):
                if _digits(values[i]) and _digits(values[i + 1]):
                    merged = merge_cells(values, i, merge_fill)
                    options.append((with_row(merged), f"{row}: merged {cols[i]} and {cols[i + 1]} into {merged[i]}"))
        elif mode == "split_number":
            for i, value in enumerate(values):
                if _digits(value) and len(str(value)) > 1:
                    for at in range(1, len(str(value))):
                        split = split_cell(values, i, at)
                        detail = f"{row}: split {cols[i]} {value} at digit {at}"
                        options.append((with_row(split), detail))
        elif mode == "drop_row":
            options.append((drop_row(block, row), f"{row}: dropped"))
        elif mode == "duplicate_row":
            for neighbour in (row_index - 1, row_index + 1):
                # only a neighbour with the same columns: copying a 万元 amount into a count column
                # would fail validation, and this failure is meant to be a silent one
                if 0 <= neighbour < len(rows) and list(block[rows[neighbour]]) == cols:
                    source = rows[neighbour]
                    options.append((duplicate_row(block, row, source), f"{row}: copied from {source}"))
        elif mode == "plausible_number":
            cells.extend((row, col) for col, value in block[row].items() if value is not None)
        elif mode == "swap_columns":
            for i in range(len(values)):
                for j in range(i + 1, len(values)):
                    if values[i] != values[j] and _movable(values[i]) and _movable(values[j]):
                        swapped = list(values)
                        swapped[i], swapped[j] = values[j], values[i]
                        options.append((with_row(swapped), f"{row}: {cols[i]} and {cols[j]} swapped"))
        elif mode == "invent_row":
            if all(v is None for v in values):
                invented = invent_cells(len(values), text, rng)
                options.append((with_row(invented), f"{row}: not in the text, answered {invented}"))
        else:
            raise ValueError(f"{mode} is not a value failure")
    if mode == "plausible_number":
        if not cells:
            return None
        row, col = rng.choice(cells)
        true = block[row][col]
        assert true is not None
        fake = plausible_value(true, rng, text)
        out = _copy(block)
        out[row][col] = fake
        return Corruption(out, diff_blocks(section, block, out), f"{row}.{col}: {true} → {fake} (not in the text)")
    useful = [(new, detail) for new, detail in options if diff_blocks(section, block, new)]
    if not useful:
        return None
    new, detail = rng.choice(useful)
    return Corruption(new, diff_blocks(section, block, new), detail)


# ---- answer-text failures ---------------------------------------------------------------------


def break_json(text: str, rng: random.Random) -> tuple[str, str]:
    """Damage the syntax of a JSON text in one of the ways models do; returns (text, what was done).

    Every option is checked to fail `json.loads`, so the caller can rely on a syntax error.
    """
    options: list[tuple[str, str]] = []
    commas = [m.start() for m in re.finditer(r",", text)]
    if commas:
        at = rng.choice(commas)
        options.append((text[:at] + text[at + 1 :], "a comma removed"))
    closers = [m.start() for m in re.finditer(r"\}", text)]
    if closers:
        at = rng.choice(closers)
        options.append((text[:at] + ",\n" + text[at:], "a trailing comma before }"))
        options.append((text[: closers[-1]] + text[closers[-1] + 1 :], "the last } left out"))
    keys = [m for m in re.finditer(r'"(\w+)":', text)]
    if keys:
        key = rng.choice(keys)
        options.append((text[: key.start()] + f"'{key.group(1)}':" + text[key.end() :], "a key in single quotes"))
    if "null" in text:
        options.append((text.replace("null", "None", 1), "null written as None"))
    options.append((text + "\n}", "an extra } at the end"))
    rng.shuffle(options)
    for broken, detail in options:
        if not _parses(broken):
            return broken, detail
    return text[:-1], "the last character left out"


def truncate_json(text: str, rng: random.Random) -> tuple[str, str]:
    """Cut the text part-way, as a model stopped by its token limit (finish_reason 'length')."""
    cut = rng.randint(max(1, len(text) // 4), max(1, len(text) - 2))
    return text[:cut], f"cut after {cut} of {len(text)} characters"


def fence(text: str) -> str:
    """Wrap a JSON text in a ```json block, as instructor's MD_JSON mode asks for."""
    return f"```json\n{text}\n```"


# ---- helpers -------------------------------------------------------------------------------------


def _digits(value: Cell) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _movable(value: Cell) -> bool:
    """Whether a value may land in any other column and still validate (a count: ≥ 0, whole)."""
    return value is None or (value >= 0 and float(value).is_integer())


def _copy(block: Block) -> Block:
    return {row: dict(cells) for row, cells in block.items()}


def _number_text(value: int | float) -> str:
    return str(value)


def _parses(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True
