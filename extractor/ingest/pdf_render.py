"""PDF pages as small PNGs, for the reviewer's crop beside a value (not for reading: text comes from the layer)."""

from __future__ import annotations

import io

# ~100 dpi in 16 greys: a cell's digits stay legible in a crop, an A4 page weighs 25-75 KB.
RENDER_DPI = 100
_GREYS = 16
_LEVELS = [(value * _GREYS // 256) * 255 // (_GREYS - 1) for value in range(256)]


def render_pages(data: bytes, count: int, dpi: int = RENDER_DPI) -> list[bytes | None]:
    """The first `count` pages as PNG bytes (None for a page pdfium cannot draw)."""
    import pypdfium2 as pdfium

    images: list[bytes | None] = []
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError:
        return [None] * count
    try:
        for index in range(min(count, len(document))):
            try:
                page = document[index]
                bitmap = page.render(scale=dpi / 72, grayscale=True)
                out = io.BytesIO()
                grey = bitmap.to_pil().convert("L").point(_LEVELS)  # fewer greys compress better
                grey.save(out, format="PNG", compress_level=6)
                images.append(out.getvalue())
            except pdfium.PdfiumError:
                images.append(None)
    finally:
        document.close()
    images.extend([None] * (count - len(images)))
    return images
