"""Offline OCR of one page image with RapidOCR's bundled PP-OCR Chinese models: text boxes and scores.

The engine's own `__call__` is not used: it detects and recognises on the same downscaled image
and pads every crop to a 320-pixel-wide strip. Here detection runs on a smaller copy of the page
(detection cost grows with pixels; table text is large enough for it at ~110 dpi), crops are cut
from the full page (recognition needs the detail), and crops are recognised at their own width,
so a one-digit cell costs a fifth of what it costs padded (on a table-3 page, recognition CPU
drops from ~13 s to ~3.5 s with the same readings); a crop read empty or weakly is read again the
engine's way and the surer reading kept. ONNX runs on GONGKAI_OCR_THREADS threads (default 1:
several workers share the cores, and a second thread mostly spins, costing CPU for little time).
The angle classifier is off: report pages are upright, and on table digits it turns `90` into `06`.
"""

from __future__ import annotations

import copy
import functools
import os
import threading
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

GrayImage = npt.NDArray[np.uint8]

_DET_MAX_SIDE = 1280  # detection input, pixels on the long side (A4 at ~110 dpi: table text is still ~14 px high)
_DET_BOX_THRESH = 0.3  # the default 0.5 drops faint digits
_NARROW_REC_WIDTH = 64  # recognition strip width for short crops (the engine pads them to 320)
_FULL_REC_WIDTH = 320
_RETRY_BELOW = 0.5  # a crop read with a lower score is read again at the full strip width
# Lone letters the table layout mends into digits anyway (`ocr_layout.mend_digits`): a narrow strip
# reads most lone zeros as `o`, and reading each again would double the page's recognition time.
_MENDED_AS_DIGITS = frozenset("oO〇○DIl|")


@dataclass(frozen=True)
class TextBox:
    """A run of text the detector found, its reading, the recogniser's score (0–1) and its box in page pixels."""

    text: str
    score: float
    x0: float
    top: float
    x1: float
    bottom: float

    @property
    def height(self) -> float:
        return self.bottom - self.top

    @property
    def center(self) -> tuple[float, float]:
        return (self.x0 + self.x1) / 2, (self.top + self.bottom) / 2


_lock = threading.Lock()


@functools.cache
def _engine() -> Any:
    """One RapidOCR per process (its ONNX sessions load in ~0.2 s but hold ~100 MB): made on first use."""
    from rapidocr_onnxruntime import RapidOCR

    return RapidOCR(
        use_cls=False,
        det_box_thresh=_DET_BOX_THRESH,
        rec_img_shape=[3, 48, _NARROW_REC_WIDTH],
        intra_op_num_threads=_threads(),
        inter_op_num_threads=1,
    )


def _threads() -> int:
    try:
        return max(1, min(int(os.environ.get("GONGKAI_OCR_THREADS", "1")), os.cpu_count() or 1))
    except ValueError:
        return 1


@functools.cache
def _full_width_recognizer() -> Any:
    """The same recognition session, padding crops to the engine's usual 320-pixel strip."""
    recognizer = copy.copy(_engine().text_rec)
    recognizer.rec_image_shape = [3, 48, _FULL_REC_WIDTH]
    return recognizer


def _doubtful(text: str, score: float) -> bool:
    """A reading worth a second look: empty, weak, or one lone non-digit (a serif 1 read as `-`
    on a narrow strip is a blank sign in a table, and would silently become 0)."""
    lone = len(text) == 1 and not text.isdigit() and text not in _MENDED_AS_DIGITS
    return not text or score < _RETRY_BELOW or (lone and score < 0.95)


def engine_ready() -> None:
    """Load the models now (a worker can call it at start so the first page is not slower)."""
    with _lock:
        _engine()
        _full_width_recognizer()


def read_page(gray: GrayImage) -> list[TextBox]:
    """Every text box on the page, in reading order, with its reading and score."""
    engine_ready()
    engine = _engine()
    height, width = gray.shape[:2]
    scale = min(1.0, _DET_MAX_SIDE / max(height, width))
    rgb = cv2.cvtColor(gray, cv2.COLOR_GRAY2RGB)
    small = (
        rgb
        if scale == 1.0
        else cv2.resize(rgb, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
    )
    found, _ = engine.text_det(small)
    if found is None or len(found) == 0:
        return []
    quads = [np.asarray(quad, dtype=np.float32) / scale for quad in engine.sorted_boxes(found)]
    crops = engine.get_crop_img_list(rgb, quads)
    readings: list[tuple[str, float]] = list(engine.text_rec(crops)[0])
    weak = [i for i, (text, score) in enumerate(readings) if _doubtful(text.strip(), score)]
    if weak:
        again = _full_width_recognizer()([crops[i] for i in weak])[0]
        for i, (text, score) in zip(weak, again, strict=True):
            if text.strip() and float(score) > readings[i][1]:
                readings[i] = (text, float(score))
    boxes: list[TextBox] = []
    for quad, (text, score) in zip(quads, readings, strict=True):
        if not text.strip():
            continue
        xs, ys = quad[:, 0], quad[:, 1]
        boxes.append(
            TextBox(text.strip(), float(score), float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max()))
        )
    return boxes


def read_regions(gray: GrayImage, regions: list[tuple[int, int, int, int]]) -> list[TextBox]:
    """Recognition alone on given rectangles (x0, top, x1, bottom) whose ink the detector missed:
    a thin `1` or `0` alone in a table cell of a soft scan. Each region is cut to its ink first."""
    engine_ready()
    crops: list[npt.NDArray[np.uint8]] = []
    frames: list[tuple[int, int, int, int]] = []
    for x0, top, x1, bottom in regions:
        ink = _ink_frame(gray[top:bottom, x0:x1])
        if ink is None:
            continue
        ix0, itop, ix1, ibottom = ink
        pad = max(2, (ibottom - itop) // 4)
        frame = (
            max(x0, x0 + ix0 - pad),
            max(top, top + itop - pad),
            min(x1, x0 + ix1 + pad),
            min(bottom, top + ibottom + pad),
        )
        crops.append(
            np.asarray(cv2.cvtColor(gray[frame[1] : frame[3], frame[0] : frame[2]], cv2.COLOR_GRAY2RGB), np.uint8)
        )
        frames.append(frame)
    if not crops:
        return []
    readings = _full_width_recognizer()(crops)[0]
    return [
        TextBox(str(text).strip(), float(score), *map(float, frame))
        for frame, (text, score) in zip(frames, readings, strict=True)
        if str(text).strip()
    ]


def _ink_frame(patch: GrayImage) -> tuple[int, int, int, int] | None:
    """The bounding box of the dark marks in a patch, or None when it is blank paper (or a speck)."""
    if patch.size == 0:
        return None
    paper, darkest = float(np.median(patch)), float(patch.min())
    if paper - darkest < 60:  # nothing printed, only paper grain or JPEG noise
        return None
    dark = patch < (paper + darkest) / 2  # half-way to the darkest mark: a soft thin stroke keeps its length
    if int(dark.sum()) < 8:
        return None
    rows = np.flatnonzero(dark.any(axis=1))
    cols = np.flatnonzero(dark.any(axis=0))
    if rows[-1] - rows[0] < 5:  # a dash or a smudge, not a character
        return None
    height, width = patch.shape[:2]
    if rows[0] == 0 or cols[0] == 0 or rows[-1] == height - 1 or cols[-1] == width - 1:
        return None  # ink reaching the edge is a ruling of a tilted cell, not a digit printed inside it
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1
