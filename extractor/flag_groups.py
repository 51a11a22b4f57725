"""A run's flagged cells grouped by cause, so a reviewer sees "15 cells of t4 not found" once.

Why: a reviewer facing 60 flagged cells needs to know there are three problems, not sixty. The
readers and the reconciler write one reason per cell, and reasons of the same cause differ only
in the row or column they name, the numbers they quote and the text they cite. Those parts are
normalised away (a row label becomes `…`, a number `N`, a quotation `'…'`), and cells whose
reason then reads the same, within one section, form one group. A cell with several reasons
sits in several groups; a flagged cell with no reason at all has its own group.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

NO_REASON = "flagged with no reason recorded (low confidence)"

# Order matters: quotations first (they may hold labels and numbers), then labels, then numbers.
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|‘[^’]*’|“[^”]*”")
# A row or column named by its printed label: a run of non-space text holding at least one non-ASCII
# character ("row 一、本年新收…:", "column 自然人:", "row (三)1.属于国家秘密 is printed …"), or any
# label right before a colon ("row A1: …").
_NAMED = re.compile(r"\b(row|column|label|section|table) (?:(?=\S*[^\x00-\x7f])[^\s:：]+|[^\s:：]+(?=[:：]))")
# A reason that opens on a bare label ("一、本年新收…: only 1 of 7 cells shown").
_LEADING_LABEL = re.compile(r"^(?=[^\s:：]*[^\x00-\x7f])[^\s:：]+(?=[:：])")
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:,\d{3})*(?:\.\d+)?|\d+")
# An arithmetic run of numbers after normalising ("N+N+N+N = N") reads as one sum.
_SUM = re.compile(r"N(?:\s*\+\s*N)+")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class FlagGroup:
    """One cause in one section: the normalised reason, an example as printed, and its cells."""

    section: str
    cause: str
    example: str
    keys: tuple[str, ...]

    @property
    def count(self) -> int:
        return len(self.keys)


@lru_cache(maxsize=4096)
def normalise(reason: str) -> str:
    """The cause of a reason: what stays when the cell-specific labels, numbers and quotes go."""
    text = _QUOTED.sub("'…'", reason.strip())
    text = _NAMED.sub(lambda m: f"{m.group(1)} …", text)
    text = _LEADING_LABEL.sub("…", text)
    text = _NUMBER.sub("N", text)
    text = _SUM.sub("N+…", text)
    return _SPACES.sub(" ", text)


def section_of(key: str) -> str:
    return key.split(".", 1)[0]


def group_flags(reasons: Mapping[str, Sequence[str]], order: Iterable[str] | None = None) -> list[FlagGroup]:
    """Group `reasons` (cell key → its reasons, flagged cells only) by section and cause.

    Groups come in the reading order of their first cell (`order`, else the mapping's order);
    within a group the keys keep that order and each key appears once.
    """
    keys = [k for k in order if k in reasons] if order is not None else list(reasons)
    seen = set(keys)
    keys += [k for k in reasons if k not in seen]
    found: dict[tuple[str, str], tuple[str, list[str]]] = {}
    for key in keys:
        causes = reasons[key] or [NO_REASON]
        for reason in causes:
            group = (section_of(key), normalise(reason))
            members = found.setdefault(group, (reason, []))[1]
            if key not in members:
                members.append(key)
    return [FlagGroup(section, cause, example, tuple(keys)) for (section, cause), (example, keys) in found.items()]
