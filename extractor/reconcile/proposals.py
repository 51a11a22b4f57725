"""What a lone culprit's value would be if its sums held, and whether that is a likely misreading.

OCR confuses some digits for others (8/3/6/0/9, 1/7), drops one or doubles one. Where the one
value that makes every broken sum hold is such an edit away from what was read, that is worth
saying: the reviewer sees the reading and the proposal side by side. Nothing here changes a value.
"""

from __future__ import annotations

from extractor.model import Number, format_number

# digits OCR takes for one another on printed tables
_CONFUSED = {frozenset(pair) for pair in ("83", "86", "80", "89", "36", "39", "30", "60", "69", "90", "17", "71")}


def misreading(read: str, wanted: str) -> str:
    """How `read` could be a misreading of `wanted` ('' when no single OCR slip explains it)."""
    if len(read) == len(wanted):
        diff = [(a, b) for a, b in zip(read, wanted, strict=True) if a != b]
        if len(diff) == 1 and frozenset(diff[0]) in _CONFUSED:
            return f"'{diff[0][1]}' read as '{diff[0][0]}'"
        return ""
    if len(read) == len(wanted) + 1 and any(read[:i] + read[i + 1 :] == wanted for i in range(len(read))):
        return "a digit doubled"
    if len(read) + 1 == len(wanted) and any(wanted[:i] + wanted[i + 1 :] == read for i in range(len(wanted))):
        return "a digit dropped"
    return ""


def proposal(value: Number | None, raw: str, change: Number) -> str:
    """The reason's clause for a cell that alone breaks its sums by `change`."""
    if value is None:
        return ""
    wanted = value + change
    if wanted < 0 or not float(wanted).is_integer():
        return ""
    shown = format_number(int(wanted))
    slip = misreading("".join(ch for ch in raw if ch.isdigit()) or format_number(value), shown)
    why = f", a likely misreading ({slip})" if slip else ""
    return f"; every broken sum holds with {shown} here{why} — proposed, not applied: the value stays as read"
