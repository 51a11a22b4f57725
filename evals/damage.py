"""Randomly damaged copies of the dev reports: read, never crash or hang, never silently wrong.

`python -m evals.damage --copies 300 --seed 1`

Each copy is one dev report (text, markdown or HTML beside its gold) with one kind of damage a
download or a copy-paste does: flipped bytes, a cut (often mid-character), NUL bytes, dropped
table pipes, a repeated chunk. It is ingested and read by the real pipeline (rules reader),
under a time bound, and scored against gold.

Which cells does the damage excuse? A token diff between the clean copy's text and the damaged
copy's text (pipes, numbers and other runs: `ChangedText`) marks the changed tokens on both
sides. A gold cell's source is *damaged* when its span in the clean reading touches a changed
clean token, or its span in the damaged reading touches a changed damaged token or a replaced
character. Every other cell's source text is *intact*: a wrong value there without a flag is a
silent error the damage does not excuse, the figure that must stay 0 (a cell pushed out of place
by damage elsewhere in its row or table counts here). Also counted: silent errors on damaged
cells (a flipped ASCII digit is a valid different digit, a cut after a digit leaves a shorter
number: no decoder can see either), cells already silent in the clean copy (the reader's, not
the damage's), and false flags beside those of the clean copy (the price of the damage flags).

Exit status 1 when any copy crashed, hung or had a silent error on an intact cell.
"""

from __future__ import annotations

import argparse
import bisect
import difflib
import random
import re
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from evals.gold import GoldCase, load_cases
from evals.score import _equal
from evals.shared import shared_real
from extractor.damage import damage_spans, touches
from extractor.ingest import IngestError, SourceDocument, load_bytes
from extractor.model import Extraction
from extractor.pipeline import extract

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DIRS = (shared_real(), ROOT / "evals" / "data" / "real")
SUFFIXES = (".txt", ".md", ".html")
KINDS = ("flip", "truncate", "nul", "pipes", "repeat")
SECONDS_PER_DOC = 20


class Hang(Exception):
    """A document took longer than the bound."""


@contextmanager
def time_bound(seconds: int) -> Iterator[None]:
    """SIGALRM: the pipeline is pure Python, so a runaway loop is interrupted, not waited for."""

    def expire(signum: int, frame: FrameType | None) -> None:
        raise Hang(f"over {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


# --- damage ---------------------------------------------------------------------------------


def _flip(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        out[rng.randrange(len(out))] ^= rng.randint(1, 255)
    return bytes(out)


def _truncate(data: bytes, rng: random.Random) -> bytes:
    if rng.random() < 0.5:
        return data[: -rng.randint(1, 3)]
    return data[: rng.randint(len(data) // 3, len(data) - 1)]


def _nul(data: bytes, rng: random.Random) -> bytes:
    at, run = rng.randrange(len(data)), b"\x00" * rng.randint(1, 32)
    if rng.random() < 0.5:
        return data[:at] + run + data[at:]
    return data[:at] + run + data[at + len(run) :]


def _pipes(data: bytes, rng: random.Random) -> bytes:
    where = [i for i, byte in enumerate(data) if byte == ord("|")]
    if not where:
        return _flip(data, rng)
    dropped = set(rng.sample(where, min(len(where), rng.randint(1, 3))))
    return bytes(byte for i, byte in enumerate(data) if i not in dropped)


def _repeat(data: bytes, rng: random.Random) -> bytes:
    size = rng.randint(20, min(2000, max(21, len(data) // 4)))
    start = rng.randrange(max(1, len(data) - size))
    chunk = data[start : start + size]
    return data[: start + size] + chunk + data[start + size :]


DAMAGE: dict[str, Callable[[bytes, random.Random], bytes]] = {
    "flip": _flip, "truncate": _truncate, "nul": _nul, "pipes": _pipes, "repeat": _repeat,
}  # fmt: skip


# --- which cells the damage excuses ---------------------------------------------------------


_TOKEN = re.compile(r"\||\d[\d.,%]*|[^\s|\d]+")


@dataclass
class ChangedText:
    """Where the damaged text differs from the clean text, token by token on both sides.

    Tokens are pipes, numbers and runs of other non-space characters, so a changed digit, a lost
    pipe or a repeated chunk marks only the cells it changed or stands beside, even in reports
    printed on a single line without spaces. A token beside a pure insertion or deletion counts as changed.
    """

    clean: list[tuple[int, int]]
    damaged: list[tuple[int, int]]

    @classmethod
    def between(cls, clean: str, damaged: str) -> ChangedText:
        a = [(m.start(), m.end(), m.group(0)) for m in _TOKEN.finditer(clean)]
        b = [(m.start(), m.end(), m.group(0)) for m in _TOKEN.finditer(damaged)]
        head = 0
        while head < min(len(a), len(b)) and a[head][2] == b[head][2]:
            head += 1
        tail = 0
        while tail < min(len(a), len(b)) - head and a[-1 - tail][2] == b[-1 - tail][2]:
            tail += 1
        middle_a, middle_b = a[head : len(a) - tail], b[head : len(b) - tail]
        changed_a: set[int] = set()
        changed_b: set[int] = set()
        matcher = difflib.SequenceMatcher(None, [t[2] for t in middle_a], [t[2] for t in middle_b], autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                continue
            # the tokens changed, or (for a pure insertion/deletion) the tokens on either side of it
            changed_a.update(range(head + i1 - (i1 == i2), head + i2 + (i1 == i2)))
            changed_b.update(range(head + j1 - (j1 == j2), head + j2 + (j1 == j2)))
        return cls(
            [a[i][:2] for i in sorted(changed_a) if 0 <= i < len(a)],
            [b[i][:2] for i in sorted(changed_b) if 0 <= i < len(b)],
        )

    def clean_span(self, span: tuple[int, int] | None) -> bool:
        return span is not None and _touches_any(span, self.clean)

    def damaged_span(self, span: tuple[int, int] | None) -> bool:
        return span is not None and _touches_any(span, self.damaged)


def _touches(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def _touches_any(span: tuple[int, int], tokens: list[tuple[int, int]]) -> bool:
    """`tokens` sorted and disjoint: walk back from the last one starting at or before the span's end."""
    index = bisect.bisect_right(tokens, (span[1], sys.maxsize))
    while index > 0 and tokens[index - 1][1] >= span[0]:
        if _touches(span, tokens[index - 1]):
            return True
        index -= 1
    return False


# --- one copy -------------------------------------------------------------------------------


@dataclass
class Tally:
    copies: int = 0
    refused: int = 0
    tracebacks: int = 0
    hangs: int = 0
    cells: int = 0
    correct: int = 0
    flagged_errors: int = 0
    damaged_cells: int = 0
    silent_damaged: int = 0
    silent_intact: int = 0
    false_flags: int = 0  # right but flagged: the price of the damage flags
    clean_false_flags: int = 0  # of which the clean copy flags too
    silent_before: int = 0  # wrong and unflagged in the clean copy too: not the damage's doing
    touching: int = 0  # cells whose span touches a replaced character
    touching_flagged: int = 0
    seconds: float = 0.0
    slowest: float = 0.0

    def add(self, other: Tally) -> None:
        for name in self.__dataclass_fields__:
            if name == "slowest":
                self.slowest = max(self.slowest, other.slowest)
            else:
                setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class Clean:
    doc: SourceDocument
    extraction: Extraction

    @property
    def flagged(self) -> set[str]:
        return {key for key, cell in self.extraction.fields.items() if cell.flagged}

    def silent(self, key: str, expected: object) -> bool:
        """Already a silent error in the clean copy: the reader's, not the damage's."""
        cell = self.extraction.fields.get(key)
        return not (cell is not None and _equal(cell.value, expected)) and not (cell is not None and cell.flagged)


@dataclass
class Finding:
    copy: int
    case: str
    kind: str
    what: str


@dataclass
class Run:
    by_kind: dict[str, Tally] = field(default_factory=lambda: {kind: Tally() for kind in KINDS})
    findings: list[Finding] = field(default_factory=list)


def read_copy(
    index: int, case: GoldCase, clean: Clean, kind: str, data: bytes, run: Run, bound: int = SECONDS_PER_DOC
) -> Tally:
    """Ingest and read one damaged copy and score it; every failure mode is counted, none raised."""
    tally = Tally(copies=1)
    started = time.perf_counter()
    try:
        with time_bound(bound):
            doc = load_bytes(data, case.document.name)
            extraction = extract(doc, reader="rules")
    except IngestError as exc:
        tally.refused = 1
        run.findings.append(Finding(index, case.name, kind, f"refused: {exc}"))
        return tally
    except Hang as exc:
        tally.hangs = 1
        run.findings.append(Finding(index, case.name, kind, f"hang: {exc}"))
        return tally
    except Exception:  # the benchmark counts crashes, it must not be one
        tally.tracebacks = 1
        run.findings.append(Finding(index, case.name, kind, "traceback: " + traceback.format_exc(limit=4)))
        return tally
    finally:
        tally.seconds = tally.slowest = time.perf_counter() - started
    _score_copy(index, case, clean, kind, doc, extraction, tally, run)
    return tally


def _score_copy(
    index: int, case: GoldCase, clean: Clean, kind: str, doc: SourceDocument, extraction: Extraction,
    tally: Tally, run: Run,
) -> None:  # fmt: skip
    changed = ChangedText.between(clean.doc.text, doc.text)
    replaced = damage_spans(doc)
    flat = extraction.flat()
    values, flags = flat["fields"], flat["flags"]
    for key, expected in case.fields.items():
        tally.cells += 1
        cell = extraction.fields.get(key)
        before = clean.extraction.fields.get(key)
        span = cell.span if cell is not None else None
        touching = span is not None and any(touches(doc.text, span, s) for s in replaced)
        if touching:
            tally.touching += 1
            tally.touching_flagged += key in flags
        damaged = touching or changed.damaged_span(span) or changed.clean_span(before.span if before else None)
        tally.damaged_cells += damaged
        if _equal(values.get(key), expected):
            tally.correct += 1
            tally.false_flags += key in flags
            tally.clean_false_flags += key in flags and key in clean.flagged
        elif key in flags:
            tally.flagged_errors += 1
        elif clean.silent(key, expected):
            tally.silent_before += 1
        elif damaged:
            tally.silent_damaged += 1
            got = values.get(key)
            run.findings.append(Finding(index, case.name, kind, f"silent on damaged {key}: {got} (gold {expected})"))
        else:
            tally.silent_intact += 1
            got = values.get(key)
            run.findings.append(Finding(index, case.name, kind, f"silent on intact {key}: {got} (gold {expected})"))


# --- the benchmark --------------------------------------------------------------------------


def damage_benchmark(cases: list[GoldCase], copies: int, seed: int, progress: bool = False) -> Run:
    rng = random.Random(seed)
    run = Run()
    cleans: dict[str, Clean] = {}
    for index in range(copies):
        case = rng.choice(cases)
        kind = rng.choice(KINDS)
        original = case.document.read_bytes()
        data = DAMAGE[kind](original, rng)
        if case.name not in cleans:
            doc = load_bytes(original, case.document.name)
            cleans[case.name] = Clean(doc, extract(doc, reader="rules"))
        run.by_kind[kind].add(read_copy(index, case, cleans[case.name], kind, data, run))
        if progress:
            print(f"\r{index + 1}/{copies}", end="", file=sys.stderr, flush=True)
    if progress:
        print(file=sys.stderr)
    return run


# (title, width, value): one row of the summary table per kind of damage
_COLUMNS: tuple[tuple[str, int, Callable[[Tally], object]], ...] = (
    ("copies", 6, lambda t: t.copies),
    ("refused", 7, lambda t: t.refused),
    ("crash", 5, lambda t: t.tracebacks),
    ("hang", 4, lambda t: t.hangs),
    ("cells", 6, lambda t: t.cells),
    ("correct", 7, lambda t: t.correct),
    ("false flags", 11, lambda t: t.false_flags),
    ("of them clean", 13, lambda t: t.clean_false_flags),
    ("flagged err", 11, lambda t: t.flagged_errors),
    ("damaged cells", 13, lambda t: t.damaged_cells),
    ("silent before", 13, lambda t: t.silent_before),
    ("silent dmg", 10, lambda t: t.silent_damaged),
    ("SILENT INTACT", 13, lambda t: t.silent_intact),
    ("touch flagged", 13, lambda t: f"{t.touching_flagged}/{t.touching}"),
    ("max s", 5, lambda t: f"{t.slowest:.2f}"),
)


def _row(name: str, t: Tally) -> str:
    return " | ".join([name.rjust(9)] + [str(value(t)).rjust(width) for _, width, value in _COLUMNS])


def render(run: Run, examples: int = 20) -> str:
    total = Tally()
    lines = [" | ".join(["kind".rjust(9)] + [title.rjust(width) for title, width, _ in _COLUMNS])]
    lines.append("-" * len(lines[0]))
    for kind, tally in run.by_kind.items():
        total.add(tally)
        lines.append(_row(kind, tally))
    lines.append("-" * len(lines[0]))
    lines.append(_row("all", total))
    accuracy = total.correct / total.cells if total.cells else 0.0
    lines.append(
        f"\naccuracy {accuracy:.2%} over {total.cells} gold cells; {total.seconds:.1f} s in all, "
        f"slowest copy {total.slowest:.2f} s (bound {SECONDS_PER_DOC} s)"
    )
    order = ("traceback", "hang", "silent on intact", "silent on damaged")
    shown = sorted(
        (f for f in run.findings if not f.what.startswith("refused")),
        key=lambda f: next(i for i, prefix in enumerate(order) if f.what.startswith(prefix)),
    )[:examples]
    refused = [f for f in run.findings if f.what.startswith("refused")][:5]
    for finding in shown + refused:
        lines.append(f"  copy {finding.copy} {finding.case} [{finding.kind}]: {finding.what.strip()}")
    return "\n".join(lines)


def failed(run: Run) -> bool:
    """What must never happen: a crash, a hang, or a silent error on intact text."""
    return any(t.tracebacks or t.hangs or t.silent_intact for t in run.by_kind.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--copies", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--examples", type=int, default=20, help="findings listed under the table")
    parser.add_argument("dirs", nargs="*", type=Path, default=list(DEFAULT_DIRS))
    args = parser.parse_args(argv)
    cases = load_cases(*args.dirs, suffixes=SUFFIXES)
    if not cases:
        print("no gold pairs found in " + ", ".join(map(str, args.dirs)), file=sys.stderr)
        return 2
    run = damage_benchmark(cases, args.copies, args.seed, progress=sys.stderr.isatty())
    print(f"{args.copies} damaged copies of {len(cases)} dev reports (seed {args.seed}), rules reader")
    print(render(run, args.examples))
    return 1 if failed(run) else 0


if __name__ == "__main__":
    sys.exit(main())
