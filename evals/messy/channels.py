"""The messy channels as evals.synth layouts: one renderer per file kind.

Each channel is a :class:`evals.synth.layouts.Layout`, so
:func:`evals.synth.generate` draws the values, injects the publisher's
mistakes, fixes the gold and names the files exactly as for the text
layouts; only the rendering differs.  Channels print the complete report
(every table, every cell), so ``shown`` is every key of the template.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from evals.messy.content import BLANKS, Blanks, build_report
from evals.messy.pdf import Printed, Style, print_pdf
from evals.messy.scan import EXTENSIONS, ImageFormat, encode, scan_pages
from evals.messy.word import docx_bytes
from evals.synth.layouts import Layout, Rendered
from evals.synth.values import ReportValues

Renderer = Callable[[ReportValues, random.Random, int], Rendered]
CHANNELS: tuple[str, ...] = ("docx", "pdf", "pdf-kangxi", "pdf-plain", "scan")


def _style(rng: random.Random, *, ruled: bool, kangxi: bool) -> Style:
    return Style(
        ruled=ruled,
        kangxi=kangxi,
        vertical_subgroups=rng.random() < 0.5,
        valign=rng.choice(["top", "middle"]),
        footer=rng.choice(["dash", "of"]),
        body_size=rng.choice([10.5, 12.0, 14.0, 16.0]),
        table_size=rng.choice([7.5, 9.0, 9.0, 10.5, 10.5]),
        min_row=22.7 if rng.random() < 0.6 else 0.0,
    )


def _style_note(style: Style) -> str:
    parts = [
        "ruled grid" if style.ruled else "no ruling lines (aligned columns)",
        "三、本年度办理结果 vertical" + (", (三)…(六) vertical" if style.vertical_subgroups else ""),
        f"cell text {style.valign}",
        "footer '- n -'" if style.footer == "dash" else "footer '第 n 页 共 N 页'",
        f"body text {style.body_size:g} pt, tables {style.table_size:g} pt"
        + (f", rows at least {style.min_row:g} pt" if style.min_row else ""),
    ]
    if style.kangxi:
        parts.append("table labels' text layer in Kangxi radicals (⾏ U+2F8F for 行, ⼀ U+2F00 for 一 …)")
    return "; ".join(parts)


def _printed_note(printed: Printed) -> str:
    """Pages and page breaks, so a reader's failure can be traced to a split table.

    Tables 3 and 4 repeat their header rows on the new page; table 2 has
    none to repeat (its 第二十条 blocks carry their own headers).
    """
    breaks = [
        f"{name} continues on the next page" + (" with its header rows repeated" if name != "t2" else "")
        for name in printed.split_tables
    ]
    return f"{printed.pages} pages; " + ("; ".join(breaks) if breaks else "no table crosses a page")


def _blanks_note(blanks: Blanks) -> str:
    which = {"none": "no zero", "org": "zeros of table 3's legal-person columns", "all": "every zero"}[blanks]
    return f"{which} printed as an empty cell (gold 0)"


def _docx(blanks: Blanks | None) -> Renderer:
    def render(values: ReportValues, rng: random.Random, k: int) -> Rendered:
        chosen = blanks or BLANKS[k % len(BLANKS)]  # by default the three habits take turns
        report = build_report(values, rng, chosen)
        body, note = docx_bytes(report, rng)
        notes = [f"Word tables with merged cells; {_blanks_note(chosen)}; {note}"]
        return Rendered(body, "docx", notes, report.shown)

    render.__doc__ = "Word .docx: headings, narrative paragraphs, real tables with merged cells (mandated spans)."
    return render


def _pdf(ruled: bool, kangxi: bool, blanks: Blanks | None) -> Renderer:
    def render(values: ReportValues, rng: random.Random, k: int) -> Rendered:
        del k
        chosen = blanks or "none"
        report = build_report(values, rng, chosen)
        style = _style(rng, ruled=ruled, kangxi=kangxi)
        printed = print_pdf(report, style)
        notes = [_style_note(style), _printed_note(printed), _blanks_note(chosen)]
        return Rendered(printed.body, "pdf", notes, report.shown)

    if kangxi:
        render.__doc__ = "PDF whose table labels read as Kangxi radicals in the text layer (⾏政, ⼀、…)."
    elif ruled:
        render.__doc__ = "PDF with a text layer: ruled table grids, vertical group labels, page footers, split tables."
    else:
        render.__doc__ = "PDF with tables as aligned columns and no ruling lines."
    return render


def _scan(dpi: int, fmt: ImageFormat, blanks: Blanks | None) -> Renderer:
    def render(values: ReportValues, rng: random.Random, k: int) -> Rendered:
        del k
        chosen = blanks or "none"
        report = build_report(values, rng, chosen)
        style = _style(rng, ruled=rng.random() < 0.8, kangxi=False)
        printed = print_pdf(report, style)
        pages = scan_pages(printed, values.agency.name, rng, dpi)
        notes = [
            f"scan at {dpi} dpi of a printed PDF ({_style_note(style)}; {_blanks_note(chosen)}); {len(pages)} pages; "
            "rotation within ±1.5°, blur, grey speckle, JPEG artefacts, red seal over table 3's corner; no text layer"
        ]
        return Rendered(encode(pages, fmt, dpi), EXTENSIONS[fmt], notes, report.shown)

    render.__doc__ = f"Scanned pages at {dpi} dpi as {fmt}: no text layer, skew, blur, speckle, a red seal."
    return render


def channel_layout(
    channel: str, dpi: int = 200, image_format: ImageFormat = "pdf", blanks: Blanks | None = None
) -> Layout:
    """The synth Layout that renders ``channel`` (one of :data:`CHANNELS`).

    ``blanks`` prints zeros as empty cells (none / table 3's legal-person
    columns / all); ``None`` is the channel's default: Word files take turns
    through the three, PDFs and scans print every zero.
    """
    renderers: dict[str, Callable[[], Renderer]] = {
        "docx": lambda: _docx(blanks),
        "pdf": lambda: _pdf(True, False, blanks),
        "pdf-kangxi": lambda: _pdf(True, True, blanks),
        "pdf-plain": lambda: _pdf(False, False, blanks),
        "scan": lambda: _scan(dpi, image_format, blanks),
    }
    if channel not in renderers:
        raise ValueError(f"unknown channel {channel!r}; one of {', '.join(CHANNELS)}")
    return Layout(channel, renderers[channel]())
