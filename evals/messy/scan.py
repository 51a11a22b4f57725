"""The scan channel: the PDF channel's pages as noisy page images, with no text layer.

Some agencies publish a scan of the signed, stamped paper report.  The
pages are rendered from the PDF channel with pdfium (which draws the
non-embedded STSong-Light glyphs from its own CJK fallback), then damaged
the way a desk scanner and a web upload damage them: a slight rotation, a
grey cast with speckle, blur, a red round seal over a table corner, and
JPEG compression.  The result is saved as an image-only PDF (Pillow writes
each page as one JPEG) or as a TIFF / PNG / JPEG image.

Gold is untouched by any of this: the images show the same cells as the
PDF they come from (the seal is translucent red ink, dark digits stay
legible under it, as on paper).
"""

from __future__ import annotations

import io
import math
import random
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from evals.messy.pdf import PAGE_H, Printed

ImageFormat = Literal["pdf", "tiff", "png", "jpeg"]
IMAGE_FORMATS: tuple[ImageFormat, ...] = ("pdf", "tiff", "png", "jpeg")
EXTENSIONS: dict[ImageFormat, str] = {"pdf": "pdf", "tiff": "tiff", "png": "png", "jpeg": "jpg"}
_SEAL_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
)


def render_pages(pdf: bytes, dpi: int) -> list[Image.Image]:
    """Every page of ``pdf`` as a greyscale-on-white RGB image at ``dpi``."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    try:
        return [doc[i].render(scale=dpi / 72).to_pil().convert("RGB") for i in range(len(doc))]
    finally:
        doc.close()


def _seal_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in _SEAL_FONTS:
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default()


def seal(agency: str, diameter: int, rng: random.Random) -> Image.Image:
    """A red round official seal: double ring, five-pointed star, the agency's name round the top.

    Returned as an RGBA image whose alpha is the ink; :func:`_stamp` lays it
    on a page by multiplying, so what is under it stays visible.
    """
    size = diameter
    ink = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(ink)
    r = size / 2
    width = max(2, size // 28)
    draw.ellipse((width, width, size - width, size - width), outline=255, width=width)
    cx = cy = r
    star_r = r * 0.26
    points = []
    for i in range(10):
        angle = -math.pi / 2 + i * math.pi / 5
        radius = star_r if i % 2 == 0 else star_r * 0.4
        points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    draw.polygon(points, fill=255)
    text = agency[:16]
    font_size = max(8, int(size * 0.12))
    font = _seal_font(font_size)
    arc = math.radians(250)
    for i, ch in enumerate(text):
        angle = -math.pi / 2 - arc / 2 + arc * (i + 0.5) / len(text)
        glyph = Image.new("L", (font_size * 2, font_size * 2), 0)
        ImageDraw.Draw(glyph).text((font_size // 2, font_size // 4), ch, fill=255, font=font)
        glyph = glyph.rotate(-math.degrees(angle) - 90, resample=Image.Resampling.BICUBIC)
        gx = cx + (r - width * 2 - font_size * 0.8) * math.cos(angle) - font_size
        gy = cy + (r - width * 2 - font_size * 0.8) * math.sin(angle) - font_size
        ink.paste(255, (int(gx), int(gy)), glyph)
    # uneven ink: the pad presses harder on one side
    ramp = np.linspace(rng.uniform(0.55, 0.75), rng.uniform(0.85, 1.0), size)[None, :]
    alpha = (np.asarray(ink, dtype=np.float32) * ramp).clip(0, 255).astype(np.uint8)
    out = Image.new("RGBA", (size, size), (205, 30, 35, 0))
    out.putalpha(Image.fromarray(alpha))
    return out.rotate(rng.uniform(-25, 25), resample=Image.Resampling.BICUBIC)


def _stamp(page: Image.Image, mark: Image.Image, centre: tuple[int, int]) -> Image.Image:
    """Multiply the seal's red ink onto the page (ink darkens, never hides, what is beneath)."""
    x, y = centre[0] - mark.width // 2, centre[1] - mark.height // 2
    layer = Image.new("RGB", page.size, (255, 255, 255))
    white = Image.new("RGB", mark.size, (255, 255, 255))
    layer.paste(Image.composite(mark.convert("RGB"), white, mark.getchannel("A")), (x, y))
    arr = np.asarray(page, dtype=np.float32) * np.asarray(layer, dtype=np.float32) / 255.0
    return Image.fromarray(arr.clip(0, 255).astype(np.uint8))


def degrade(page: Image.Image, rng: random.Random, dpi: int) -> Image.Image:
    """Scanner damage: grey paper with speckle, a slight skew, optical blur."""
    np_rng = np.random.default_rng(rng.randrange(2**32))
    arr = np.asarray(page, dtype=np.float32)
    paper = rng.uniform(228, 246)
    arr = arr * (paper / 255.0)  # the white of the page comes out grey
    arr += np_rng.normal(0, rng.uniform(3, 7), arr.shape[:2])[..., None]
    speckle = np_rng.random(arr.shape[:2]) < rng.uniform(0.0004, 0.0015)
    arr[speckle] = rng.uniform(60, 140)
    img = Image.fromarray(arr.clip(0, 255).astype(np.uint8))
    fill = (int(paper),) * 3
    img = img.rotate(rng.uniform(-1.5, 1.5), resample=Image.Resampling.BICUBIC, fillcolor=fill)
    return img.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 0.8) * dpi / 200))


def _jpeg(img: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    img.save(buffer, "JPEG", quality=quality)
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")


def scan_pages(printed: Printed, agency: str, rng: random.Random, dpi: int) -> list[Image.Image]:
    """The printed report's pages, stamped and damaged.

    The seal goes on the top-right corner of table 3 (or the last table if
    the layout recorded fewer), where a real seal over the signature block
    tends to land on the preceding table.
    """
    pages = render_pages(printed.body, dpi)
    corners = printed.table_corners
    if corners:
        page_index, x_pt, y_pt = corners[min(1, len(corners) - 1)]
        scale = dpi / 72
        diameter = int(rng.uniform(3.8, 4.2) / 2.54 * dpi)  # a 4 cm seal
        centre = (int(x_pt * scale - diameter * 0.25), int((PAGE_H - y_pt) * scale + diameter * 0.2))
        pages[page_index] = _stamp(pages[page_index], seal(agency, diameter, rng), centre)
    return [_jpeg(degrade(page, rng, dpi), rng.randint(35, 70)) for page in pages]


def encode(pages: list[Image.Image], fmt: ImageFormat, dpi: int) -> bytes:
    """Image-only PDF (one JPEG per page), multi-page TIFF, or one tall PNG/JPEG of all pages."""
    out = io.BytesIO()
    if fmt == "pdf":
        pages[0].save(out, "PDF", resolution=float(dpi), save_all=True, append_images=pages[1:], quality=60)
    elif fmt == "tiff":
        pages[0].save(out, "TIFF", dpi=(dpi, dpi), save_all=True, append_images=pages[1:], compression="tiff_lzw")
    else:
        width = max(p.width for p in pages)
        tall = Image.new("RGB", (width, sum(p.height for p in pages)), (255, 255, 255))
        y = 0
        for page in pages:
            tall.paste(page, (0, y))
            y += page.height
        if fmt == "png":
            tall.save(out, "PNG", dpi=(dpi, dpi), optimize=False)
        else:
            tall.save(out, "JPEG", dpi=(dpi, dpi), quality=75)
    return out.getvalue()
