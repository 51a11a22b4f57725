"""Page images for OCR: decoded from image files or rendered from PDF pages, bounded in size, deskewed.

Every page becomes an 8-bit grey array. Size is bounded twice: PIL refuses a decompression bomb
(an image whose pixel count is far beyond any page) with one line, and a large but honest page is
scaled down to about 300 dpi of A4 before OCR, so no page costs more than a scanned sheet.
"""

from __future__ import annotations

import io
import math
import warnings
from collections.abc import Iterator
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageSequence, UnidentifiedImageError

from extractor.ingest.errors import IngestError
from extractor.ingest.ocr_engine import GrayImage

MAX_SIDE = 3600  # pixels on a page's long side given to OCR (A4 at ~300 dpi)
RENDER_DPI = 200
_MAX_SKEW = 8.0  # degrees; a page fed in further off than this is not a slight skew
_MIN_SKEW = 0.2  # below this a page is left as it is: 0.2° drifts 6 pixels across a 200 dpi page


def _open(data: bytes) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            image.size  # noqa: B018 - the header is read here; a bomb is refused before decoding
            return image
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_many_pixels(exc) from exc
    except UnidentifiedImageError as exc:  # its message names a Python object, no use to a reader
        raise IngestError("corrupt", "cannot read the image: not a PNG, JPEG or TIFF its header says it is") from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise IngestError("corrupt", f"cannot read the image: {exc}") from exc


def _too_many_pixels(exc: Exception) -> IngestError:
    del exc
    limit = Image.MAX_IMAGE_PIXELS or 0
    return IngestError(
        "too_large", f"image is too large in pixels (over {limit / 1e6:.0f} megapixels): not a page scan"
    )


def frame_count(data: bytes) -> int:
    """Pages in an image file: a TIFF may hold many, PNG and JPEG one."""
    return int(getattr(_open(data), "n_frames", 1))


def image_pages(data: bytes, limit: int) -> Iterator[GrayImage]:
    """The first `limit` pages of a PNG, JPEG or (multi-page) TIFF as grey arrays."""
    image = _open(data)
    try:
        for index, frame in enumerate(ImageSequence.Iterator(image)):
            if index >= limit:
                return
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                frame.draft("L", (MAX_SIDE, MAX_SIDE))  # JPEG: decode at a reduced scale when huge
                gray = _gray(frame)
            yield bounded(gray)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_many_pixels(exc) from exc
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise IngestError("corrupt", f"cannot read the image: {exc}") from exc


def _gray(frame: Image.Image) -> GrayImage:
    """8-bit grey of any frame: 16-bit scans scaled (not clipped), transparency laid on white paper."""
    if frame.mode in ("I;16", "I;16B", "I;16L", "I"):
        wide = np.asarray(frame, dtype=np.float64)
        top = max(float(wide.max()), 1.0)
        return np.asarray(np.clip(wide * (255.0 / (65535.0 if top > 255 else 255.0)), 0, 255), dtype=np.uint8)
    if frame.mode in ("RGBA", "LA", "PA") or (frame.mode == "P" and "transparency" in frame.info):
        paper = Image.new("RGBA", frame.size, (255, 255, 255, 255))
        frame = Image.alpha_composite(paper, frame.convert("RGBA"))
    return np.asarray(frame.convert("L"), dtype=np.uint8)


def bounded(gray: GrayImage) -> GrayImage:
    """The page scaled down so its long side is at most MAX_SIDE pixels."""
    height, width = gray.shape[:2]
    scale = MAX_SIDE / max(height, width)
    if scale >= 1.0:
        return gray
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(cv2.resize(gray, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)


def whitened(gray: GrayImage) -> GrayImage:
    """The page with its paper white and its ink black: a grey cast or a faded copy stretched so
    that the detector sees lone thin digits it misses on grey paper (9 of 22 table-2 digits found
    on a grey speckled scan before, 21 after)."""
    sample = gray[:: max(1, gray.shape[0] // 400), :: max(1, gray.shape[1] // 400)]
    paper, ink = float(np.percentile(sample, 60)), float(np.percentile(sample, 0.5))
    if paper - ink < 40 or (paper > 245 and ink < 10):
        return gray
    lut = np.clip((np.arange(256, dtype=np.float32) - ink) * 255.0 / (paper - ink), 0, 255).astype(np.uint8)
    return np.asarray(lut[gray], dtype=np.uint8)


def skew_angle(gray: GrayImage) -> float:
    """The page's tilt in degrees (positive: counter-clockwise), from its long straight lines.

    Table rulings are the surest horizon on a report page; where there are none, the baselines of
    text lines are found the same way once the text is smeared into bars along its lines.
    """
    height, width = gray.shape[:2]
    scale = min(1.0, 1000 / max(height, width))
    small = cv2.resize(
        gray, (max(1, round(width * scale)), max(1, round(height * scale))), interpolation=cv2.INTER_AREA
    )
    binary: GrayImage = np.asarray(cv2.threshold(small, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)[1], np.uint8)
    angle = _line_angle(binary, min_length=small.shape[1] // 4)
    if angle is None:  # no rulings: smear characters into text-line bars and measure those
        bars = cv2.morphologyEx(binary, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (25, 1)))
        edges: GrayImage = np.asarray(cv2.Canny(bars, 50, 150), np.uint8)
        angle = _line_angle(edges, min_length=small.shape[1] // 6)
    return _refined(binary, angle or 0.0)


def _refined(binary: GrayImage, coarse: float) -> float:
    """The angle near `coarse` (±0.6°, 0.05° steps) at which the ink's rows are sharpest: Hough
    angles come in 0.5° steps, and a 0.3° error drifts 9 pixels across a 200 dpi page."""
    height, width = binary.shape[:2]
    best, best_score = coarse, -1.0
    for step in range(-12, 13):
        angle = coarse + step * 0.05
        matrix = cv2.getRotationMatrix2D((width / 2, height / 2), -angle, 1.0)
        turned = cv2.warpAffine(binary, matrix, (width, height), flags=cv2.INTER_NEAREST, borderValue=0)
        rows = turned.sum(axis=1, dtype=np.float64)
        score = float(np.square(rows).sum())
        if score > best_score:
            best, best_score = angle, score
    return best


def _line_angle(binary: GrayImage, min_length: int) -> float | None:
    lines = cv2.HoughLinesP(
        binary, 1, math.pi / 360, threshold=max(20, min_length // 2), minLineLength=min_length, maxLineGap=4
    )
    if lines is None:
        return None
    angles: list[float] = []
    weights: list[float] = []
    for x0, y0, x1, y1 in np.asarray(lines).reshape(-1, 4):
        dx, dy = float(x1 - x0), float(y1 - y0)
        if dx == 0:
            continue
        angle = -math.degrees(math.atan2(dy, dx))
        if abs(angle) <= _MAX_SKEW:
            angles.append(angle)
            weights.append(math.hypot(dx, dy))
    if len(angles) < 2:
        return None
    order = np.argsort(angles)
    cumulative = np.cumsum(np.asarray(weights)[order])
    return float(np.asarray(angles)[order][np.searchsorted(cumulative, cumulative[-1] / 2)])


def deskew(gray: GrayImage) -> tuple[GrayImage, float]:
    """The page turned upright (same size, white corners) and the angle it was turned by."""
    angle = skew_angle(gray)
    if abs(angle) < _MIN_SKEW:
        return gray, 0.0
    height, width = gray.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), -angle, 1.0)
    turned = cv2.warpAffine(gray, matrix, (width, height), flags=cv2.INTER_LINEAR, borderValue=255)
    return np.asarray(turned, dtype=np.uint8), angle


def _pdf(data: bytes) -> object:
    import pypdfium2 as pdfium

    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise IngestError("corrupt", f"cannot read the PDF: {exc}") from exc


def _scan_dpi(page: Any, width: float) -> float:
    """The resolution to render a page at: the scan's own where the page is one large image (a 150 dpi
    scan rendered at 200 dpi is only blurred, not sharpened), else RENDER_DPI; 100 to 300 dpi."""
    import pypdfium2.raw as pdfium_c

    widest = 0
    for image in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,), max_depth=2):
        left, _bottom, right, _top = image.get_bounds()
        if right - left >= width * 0.8:
            widest = max(widest, int(image.get_px_size()[0] * width / max(right - left, 1.0)))
    if not widest:
        return float(RENDER_DPI)
    return float(min(300.0, max(100.0, widest * 72.0 / max(width, 1.0))))


def pdf_page_count(data: bytes) -> int:
    return len(_pdf(data))  # type: ignore[arg-type]


def pdf_pages(data: bytes, limit: int) -> Iterator[GrayImage]:
    """The first `limit` pages rendered at RENDER_DPI (less for an oversized page), grey.

    A PDF whose pages hold no image and no drawing has nothing OCR could read: refused in one line.
    """
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    document = _pdf(data)
    count = min(limit, len(document))  # type: ignore[arg-type]
    pages = [document[i] for i in range(count)]  # type: ignore[index]
    drawn = (pdfium_c.FPDF_PAGEOBJ_IMAGE, pdfium_c.FPDF_PAGEOBJ_PATH, pdfium_c.FPDF_PAGEOBJ_SHADING)
    if not any(any(True for _ in page.get_objects(filter=drawn, max_depth=2)) for page in pages):
        raise IngestError("empty", "PDF has no text and no images: nothing to read")
    for page in pages:
        width, height = page.get_size()
        scale = min(_scan_dpi(page, width) / 72.0, MAX_SIDE / max(width, height, 1.0))
        try:
            bitmap = page.render(scale=scale, grayscale=True)
        except pdfium.PdfiumError as exc:
            raise IngestError("corrupt", f"cannot render a PDF page: {exc}") from exc
        yield np.asarray(bitmap.to_pil().convert("L"), dtype=np.uint8)
