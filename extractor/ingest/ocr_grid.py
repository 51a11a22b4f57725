"""Table cells of a page image, from its ruling lines.

Report tables are printed ruled. Opening the page with a long horizontal and a long vertical
stroke keeps the rulings and drops the text; every enclosed white region of what remains is a
cell, so a merged cell (a row-group label spanning rows, a header spanning columns) is one region
of its true size. The cells' edges, clustered, give the table's grid lines and each cell its
first row and column and its spans: the same grid an HTML table describes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from extractor.ingest.ocr_engine import GrayImage


@dataclass(frozen=True)
class GridCell:
    row: int
    col: int
    rows: int
    cols: int
    x0: float
    top: float
    x1: float
    bottom: float

    def contains(self, x: float, y: float) -> bool:
        return self.x0 <= x <= self.x1 and self.top <= y <= self.bottom


@dataclass
class Table:
    """One ruled table: its cells in reading order (row by row, left to right) and its outline."""

    cells: list[GridCell]
    x0: float
    top: float
    x1: float
    bottom: float
    row_count: int = field(default=0)

    def contains(self, x: float, y: float) -> bool:
        return self.x0 <= x <= self.x1 and self.top <= y <= self.bottom


def _line_mask(gray: GrayImage, text_height: float) -> GrayImage:
    """Only the rulings: strokes much longer than any character, horizontal or vertical."""
    binary = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 25, 15)
    width = gray.shape[1]
    across = max(20, int(min(width / 25, text_height * 4)))
    down = max(12, int(text_height * 1.2))
    horizontal = cv2.morphologyEx(binary, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (across, 1)))
    vertical = cv2.morphologyEx(binary, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, down)))
    # bridge small breaks (a faint scan, a blot) so a cell is not opened into its neighbour
    horizontal = cv2.dilate(horizontal, cv2.getStructuringElement(cv2.MORPH_RECT, (9, 3)))
    vertical = cv2.dilate(vertical, cv2.getStructuringElement(cv2.MORPH_RECT, (3, 9)))
    return np.asarray(cv2.bitwise_or(horizontal, vertical), dtype=np.uint8)


def _clusters(values: list[float], tolerance: float) -> list[float]:
    """Sorted cluster centres of values lying within `tolerance` of their neighbours."""
    centres: list[list[float]] = []
    for value in sorted(values):
        if centres and value - centres[-1][-1] <= tolerance:
            centres[-1].append(value)
        else:
            centres.append([value])
    return [sum(group) / len(group) for group in centres]


def _nearest(centres: list[float], value: float) -> int:
    return int(np.argmin([abs(c - value) for c in centres]))


def find_tables(gray: GrayImage, text_height: float) -> list[Table]:
    """Every ruled table on the page with at least two rows or columns of cells."""
    mask = _line_mask(gray, text_height)
    contours, hierarchy = cv2.findContours(mask, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return []
    min_side = max(6.0, text_height * 0.6)
    holes: dict[int, list[tuple[int, int, int, int]]] = {}
    for index, (_next, _prev, _child, parent) in enumerate(hierarchy[0]):
        if parent < 0:
            continue
        x, y, w, h = cv2.boundingRect(contours[index])
        if w >= min_side and h >= min_side:
            holes.setdefault(int(parent), []).append((x, y, x + w, y + h))
    tables: list[Table] = []
    tolerance = max(4.0, text_height * 0.5)
    for parent, rects in holes.items():
        if len(rects) < 2:
            continue
        xs = _clusters([float(v) for r in rects for v in (r[0], r[2])], tolerance)
        ys = _clusters([float(v) for r in rects for v in (r[1], r[3])], tolerance)
        cells: list[GridCell] = []
        for x0, top, x1, bottom in rects:
            col, col_end = _nearest(xs, x0), _nearest(xs, x1)
            row, row_end = _nearest(ys, top), _nearest(ys, bottom)
            if col_end <= col or row_end <= row:
                continue
            cells.append(GridCell(row, col, row_end - row, col_end - col, x0, top, x1, bottom))
        if len(cells) < 2:
            continue
        cells.sort(key=lambda c: (c.row, c.col))
        px, py, pw, ph = cv2.boundingRect(contours[parent])
        tables.append(Table(cells, px, py, px + pw, py + ph, row_count=len(ys) - 1))
    tables.sort(key=lambda t: (t.top, t.x0))
    return tables
