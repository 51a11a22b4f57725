"""Horizontal bar charts as numbers for an inline SVG, drawn by the `dashboard_bars.html` macro.

Why geometry here and markup in a template: the labels are report text (causes quote nothing,
but field keys and statuses still come from the database), and a Jinja2 template escapes every
one of them; building SVG strings in Python would need the same care by hand. No JavaScript
library and no `style=` attribute: the page's CSP allows neither, and presentation attributes
(`width`, `fill`) are all a bar needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

ROW = 22  # px per bar
LABEL = 260  # px for the labels' column
BAR = 320  # px for the longest bar
VALUE = 70  # px for the value after a bar


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str  # the value as printed
    y: int
    width: float


@dataclass(frozen=True)
class BarChart:
    title: str
    bars: tuple[Bar, ...]
    width: int
    height: int
    label_width: int = LABEL
    row: int = ROW
    fill: str = "#4a6fd0"


def bar_chart(
    title: str, items: Sequence[tuple[str, float]], *, limit: int = 30, fill: str = "#4a6fd0", percent: bool = False
) -> BarChart:
    """The first `limit` items as bars scaled to the largest; an empty chart when there is nothing."""
    shown = list(items)[:limit]
    top = max((v for _, v in shown), default=0) or 1
    bars = tuple(
        Bar(label=label, value=value, text=f"{value:.0%}" if percent else f"{value:g}", y=i * ROW,
            width=round(max(value, 0) / top * BAR, 1))
        for i, (label, value) in enumerate(shown)
    )  # fmt: skip
    return BarChart(title=title, bars=bars, width=LABEL + BAR + VALUE, height=max(ROW, len(bars) * ROW), fill=fill)
