"""Draw a report's mandated tables as page images, the way a printed and scanned report shows them.

OCR is measured on pages whose true values are known: the tables come from the synthetic table
model (`evals.synth.layouts.build_tables`: the same labels, header rows and merged cells as the
real form) filled with a gold file's values, drawn with ruling lines in Noto Sans CJK. A gold file
of a real report therefore gives a page whose every number is checked by that report's gold.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from evals.synth.layouts import HEADINGS, Options, Table, build_tables, plain
from evals.synth.values import Agency, ReportValues

FONT_PATH = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
_A4_POINTS = (595.0, 842.0)
_MARGIN = 50.0
_CELL_PT = 9.0  # table text: 小五 … 五号 in real reports
_TEXT_PT = 10.5
_TITLE_PT = 15.0
_PAD_PT = 2.5
# Relative column widths per table (the label columns wider than the number columns).
_WIDTHS: dict[str, list[float]] = {
    "t2": [0.34, 0.22, 0.22, 0.22],
    "t3": [0.07, 0.09, 0.30] + [0.54 / 7] * 7,
    "t4": [1.0 / 15] * 15,
}


def font_available() -> bool:
    return FONT_PATH.exists()


def values_from_gold(gold: dict[str, Any]) -> ReportValues:
    """A gold file of a complete report as the table model's values."""
    fields = gold["fields"]
    merged = gold["template"] == "2021" and "t3.other.total" in fields
    return ReportValues(
        template=gold["template"],
        year=int(gold.get("year") or 2020),
        agency=Agency(str(gold.get("agency") or "某某区人民政府办公室"), "district"),
        fields=dict(fields),
        merged_other=merged,
    )


@dataclass
class _Pen:
    """Drawing at a resolution: points → pixels."""

    dpi: int

    def px(self, points: float) -> int:
        return round(points * self.dpi / 72.0)

    def font(self, points: float) -> ImageFont.FreeTypeFont:
        return ImageFont.truetype(str(FONT_PATH), self.px(points))


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    lines: list[str] = []
    current = ""
    for char in text:
        if current and font.getlength(current + char) > width:
            lines.append(current)
            current = char
        else:
            current += char
    return [*lines, current] if current else lines or [""]


def _draw_table(
    draw: ImageDraw.ImageDraw, table: Table, pen: _Pen, top: int, left: int, width: int, rules: str = "grid"
) -> int:
    """Lay the table out as a browser lays out an HTML grid (rowspan/colspan), draw it; return its bottom."""
    weights = _WIDTHS[table.name]
    edges = [left]
    for w in weights:
        edges.append(edges[-1] + round(w * width))
    edges[-1] = left + width
    font = pen.font(_CELL_PT)
    line_height = pen.px(_CELL_PT * 1.45)
    pad = pen.px(_PAD_PT)
    placed: list[tuple[int, int, int, int, list[str]]] = []  # row, col, rowspan, colspan, lines
    taken: set[tuple[int, int]] = set()
    for r, line in enumerate(table.lines):
        c = 0
        for cell in line.cells:
            while (r, c) in taken:
                c += 1
            span_w = edges[min(c + cell.colspan, len(weights))] - edges[c] - 2 * pad
            placed.append((r, c, cell.rowspan, cell.colspan, _wrap(cell.text, font, span_w)))
            for dr in range(cell.rowspan):
                for dc in range(cell.colspan):
                    taken.add((r + dr, c + dc))
            c += cell.colspan
    rows = len(table.lines)
    heights = [line_height + 2 * pad] * rows
    for r, _c, rs, _cs, lines in sorted(placed, key=lambda p: p[2]):
        need = len(lines) * line_height + 2 * pad
        have = sum(heights[r : r + rs])
        if need > have:
            for k in range(r, r + rs):
                heights[k] += (need - have + rs - 1) // rs
    ys = [top]
    for h in heights:
        ys.append(ys[-1] + h)
    stroke = max(1, pen.px(0.75))
    for r, c, rs, cs, lines in placed:
        x0, x1 = edges[c], edges[min(c + cs, len(weights))]
        y0, y1 = ys[r], ys[min(r + rs, rows)]
        if rules == "grid":
            draw.rectangle((x0, y0, x1, y1), outline=0, width=stroke)
        elif rules == "rows":  # rules between rows only, no column rulings and no frame
            draw.line((x0, y0, x1, y0), fill=0, width=stroke)
            draw.line((x0, y1, x1, y1), fill=0, width=stroke)
        text_top = (y0 + y1) // 2 - len(lines) * line_height // 2
        for k, text in enumerate(lines):
            tw = font.getlength(text)
            draw.text(((x0 + x1 - tw) / 2, text_top + k * line_height), text, fill=0, font=font)
    return ys[-1]


def report_pages(gold: dict[str, Any], dpi: int = 200, seed: int = 0, rules: str = "grid") -> list[Image.Image]:
    """Two pages in report order: the title and table 2, then tables 3 and 4 (grey, 8-bit).
    `rules`: "grid" (every cell ruled), "rows" (rules between rows only) or "none", as reports print."""
    values = values_from_gold(gold)
    tables = {t.name: t for t in build_tables(values, plain, Options(), random.Random(seed))}
    pen = _Pen(dpi)
    plan = [["title", "t2"], ["t3", "t4"]]
    pages: list[Image.Image] = []
    for names in plan:
        size = (pen.px(_A4_POINTS[0]), pen.px(_A4_POINTS[1]) * 2)
        image = Image.new("L", size, 255)
        draw = ImageDraw.Draw(image)
        y = pen.px(_MARGIN)
        left, width = pen.px(_MARGIN), size[0] - 2 * pen.px(_MARGIN)
        for name in names:
            if name == "title":
                title = f"{values.agency.name}{values.year}年政府信息公开工作年度报告"
                font = pen.font(_TITLE_PT)
                for text in _wrap(title, font, width):
                    draw.text((left + (width - font.getlength(text)) / 2, y), text, fill=0, font=font)
                    y += pen.px(_TITLE_PT * 1.6)
                y += pen.px(_TEXT_PT)
                continue
            table = tables[name]  # type: ignore[index]
            draw.text((left, y), HEADINGS[table.name], fill=0, font=pen.font(_TEXT_PT))
            y += pen.px(_TEXT_PT * 2)
            y = _draw_table(draw, table, pen, y, left, width, rules) + pen.px(_TEXT_PT * 2)
        height = max(pen.px(_A4_POINTS[1]), y + pen.px(_MARGIN))
        pages.append(image.crop((0, 0, size[0], height)))
    return pages


def degrade(image: Image.Image, angle: float = 0.0, blur: float = 0.0, seed: int = 0, jpeg: int = 0) -> Image.Image:
    """A scanner's faults: the page fed in at a slight angle, soft focus, a little noise, and (`jpeg`
    a quality 1-95) the blocky artefacts of a JPEG saved at that quality."""
    out = image
    if angle:
        out = out.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)
    if blur:
        out = out.filter(ImageFilter.GaussianBlur(blur))
        rng = random.Random(seed)
        noise = Image.effect_noise(out.size, 12.0)
        out = Image.blend(out, noise.point(lambda v: 255 if v > 128 + rng.random() else 235), 0.05)
    if jpeg:
        buffer = io.BytesIO()
        out.save(buffer, format="JPEG", quality=jpeg)
        out = Image.open(io.BytesIO(buffer.getvalue())).convert("L")
    return out


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def scanned_pdf(images: list[Image.Image], dpi: int = 200) -> bytes:
    """A PDF whose pages are only these images (no text layer), as a scanner writes one."""
    buffer = io.BytesIO()
    rgb = [im.convert("RGB") for im in images]
    rgb[0].save(buffer, format="PDF", save_all=True, append_images=rgb[1:], resolution=float(dpi))
    return buffer.getvalue()
