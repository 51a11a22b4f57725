"""A user's file as one text, with what we know of where it came from.

Every format ends as `text` (what spans point into) and `normalized` (same length, for matching).
Damaged bytes are read as U+FFFD, never refused one by one: `replaced` says where they stand in
`text` and `damage` says what happened, so the cells beside them can be flagged.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from extractor.ingest.decode import control_share, decode, has_text_bom, looks_binary, replacement_spans
from extractor.ingest.errors import IngestError
from extractor.ingest.html import html_to_text, looks_like_html
from extractor.ingest.normalize import normalize
from extractor.ingest.pages import Box, Flattened, Page, PageProgress
from extractor.ingest.pdf import pdf_document, pdf_needs_ocr
from extractor.ingest.scan import image_document
from extractor.ingest.word import legacy_word_document, word_document
from schemas import DISCLOSURE_REPORT

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
# What the text must say to be taken for a report at all: the report type's own words (schemas) …
_REPORT_WORDS = DISCLOSURE_REPORT.identifying_phrases
# … or its tables: a page that starts with a table (no title, no heading) prints their header words
_TABLE_WORDS = tuple(
    sorted(
        {
            word
            for t in DISCLOSURE_REPORT.templates
            for s in t.sections
            for word in (*t.markers, *s.header_words)
            if len(word) >= 4
        }
    )
)
_TABLE_WORDS_NEEDED = 4
_GAPS = re.compile(r"[\s|]+")


def is_report(normalized: str) -> bool:
    """The report type's wording, or at least four of its tables' header words (spaces, line breaks and
    pipes ignored: a page may split '本年新 收'). Any other document is refused with one clear line."""
    flat = _GAPS.sub("", normalized)
    if any(word in flat for word in _REPORT_WORDS):
        return True
    return sum(1 for word in _TABLE_WORDS if word in flat) >= _TABLE_WORDS_NEEDED


@dataclass(frozen=True)
class Origin:
    """Where a part of a compilation (a 汇编 of several reports) comes from: `extractor.split`."""

    parent_name: str
    parent_sha256: str
    index: int  # 1-based: part `index` of `count`
    count: int
    start: int  # character offsets of the part in the parent's text
    end: int


@dataclass(frozen=True)
class SourceDocument:
    name: str
    sha256: str
    kind: str
    encoding: str
    size: int
    text: str
    normalized: str = field(repr=False)
    # Character spans in `text` where source bytes were damaged (each damaged byte is one U+FFFD).
    replaced: tuple[tuple[int, int], ...] = ()
    # What the decoder met, one line for the run's notes ("" when the file was clean).
    damage: str = ""
    # The file was cut off: it ends in the middle of a character, or in a run of zero bytes.
    truncated: bool = False
    # A part cut out of a compilation file (None: the document is the whole file).
    origin: Origin | None = None
    # Paged formats (PDF, scans, images): the pages and where runs of `text` were printed on them
    # (`extractor.ingest.pages.box_for` finds a span's box). Empty for text, HTML and Word files.
    pages: tuple[Page, ...] = field(default=(), repr=False)
    boxes: tuple[Box, ...] = field(default=(), repr=False)
    # What the format's reader met, one line each (pages cut at the page limit, OCR quality, …).
    notes: tuple[str, ...] = ()


def _sniff_binary_kind(data: bytes) -> str | None:
    if data[:1024].lstrip().startswith(b"%PDF"):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        return "docx"
    if data.startswith(b"\xd0\xcf\x11\xe0") or data.startswith(b"{\\rtf"):  # old Word, or RTF saved as .doc
        return "doc"
    if data.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*")):
        return "image"
    return None


def needs_ocr(data: bytes) -> bool:
    """Whether reading the file means OCR: an image (PNG, JPEG, TIFF by magic), or a PDF whose pages carry
    (almost) no text layer. Nothing is OCR'd here and a 500-page PDF costs well under a second, so an upload
    can store such a file raw and leave its reading (seconds a page) to a worker. A PDF with no text and no
    images answers True too: its refusal (`no_text_layer`) is then the worker's to record."""
    kind = _sniff_binary_kind(data)
    if kind == "image":
        return True
    return kind == "pdf" and pdf_needs_ocr(data)


def _paged(data: bytes, binary_kind: str, progress: PageProgress | None) -> tuple[Flattened, str]:
    """A binary format's text (and pages), with how its text was got (stored as `encoding`)."""
    if binary_kind == "pdf":
        return pdf_document(data, progress=progress)  # "pdf-text-layer", or "ocr" for a scan
    if binary_kind == "docx":
        return word_document(data), "docx"
    if binary_kind == "doc":
        return legacy_word_document(data), "doc"
    return image_document(data, progress=progress), "ocr"


def _too_large(size: int, max_bytes: int) -> IngestError:
    mib = 1024 * 1024
    return IngestError("too_large", f"file is {size / mib:.1f} MB, over the {max_bytes / mib:g} MB limit")


def load_bytes(
    data: bytes, name: str, max_bytes: int = DEFAULT_MAX_BYTES, progress: PageProgress | None = None
) -> SourceDocument:
    """Decode and flatten one file; raise IngestError with a one-line reason otherwise."""
    if len(data) > max_bytes:
        raise _too_large(len(data), max_bytes)
    if not data.strip():
        raise IngestError("empty", "file is empty")
    binary_kind = _sniff_binary_kind(data)
    if binary_kind is not None:
        flat, how = _paged(data, binary_kind, progress)
        return _document(data, name, flat.text, binary_kind, how, flat=flat)
    if looks_binary(data) and not has_text_bom(data):
        share = control_share(data)
        raise IngestError(
            "binary", f"file is binary ({share:.0%} control bytes), not a text, markdown or HTML document"
        )
    decoded = decode(data)
    text, encoding = decoded.text, decoded.encoding
    kind = "text"
    if looks_like_html(text):
        text = html_to_text(text)
        kind = "html"
    elif name.lower().endswith((".md", ".markdown")):
        kind = "markdown"
    truncated = decoded.cut_mid_character or decoded.zero_tail > 0
    return _document(data, name, text, kind, encoding, decoded.summary(), truncated)


def _document(
    data: bytes,
    name: str,
    text: str,
    kind: str,
    encoding: str,
    damage: str = "",
    truncated: bool = False,
    flat: Flattened | None = None,
) -> SourceDocument:
    normalized = normalize(text)
    if not is_report(normalized):
        raise IngestError(
            "not_a_report",
            f"not a government information-disclosure report (no {_REPORT_WORDS[0]} wording and none of its tables)",
        )
    return SourceDocument(
        name=name,
        sha256=hashlib.sha256(data).hexdigest(),
        kind=kind,
        encoding=encoding,
        size=len(data),
        text=text,
        normalized=normalized,
        replaced=replacement_spans(text),
        damage=damage,
        truncated=truncated,
        pages=flat.pages if flat else (),
        boxes=flat.boxes if flat else (),
        notes=flat.notes if flat else (),
    )


def load_path(path: Path, max_bytes: int = DEFAULT_MAX_BYTES, progress: PageProgress | None = None) -> SourceDocument:
    """Read a file from disk, refusing oversized ones before reading them whole."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise IngestError("unreadable", f"cannot open: {exc.strerror or exc}") from exc
    if path.is_dir():
        raise IngestError("unreadable", "is a directory")
    if size > max_bytes:
        raise _too_large(size, max_bytes)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise IngestError("unreadable", f"cannot read: {exc.strerror or exc}") from exc
    return load_bytes(data, name=_doc_name(path), max_bytes=max_bytes, progress=progress)


def _doc_name(path: Path) -> str:
    return path.name
