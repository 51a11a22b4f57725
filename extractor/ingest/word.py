"""Word files: DOCX read as its paragraphs and table grids; .doc/.wps converted to DOCX first.

A DOCX has no pages to show a reviewer (Word lays them out when it opens the file), so its
text comes without pages or boxes; tables are written as the same ` | ` rows as HTML tables,
which is what the table readers know. The package is checked (zip bomb, damage, not Word at
all) before python-docx opens it: `word_package`. The body walk is `word_body`.
"""

from __future__ import annotations

import io
from typing import Any

from lxml import etree

from extractor.ingest.errors import IngestError
from extractor.ingest.pages import Flattened, TextBuilder
from extractor.ingest.word_body import BodyWriter
from extractor.ingest.word_convert import convert_to_docx
from extractor.ingest.word_numbering import Numbering
from extractor.ingest.word_package import checked_docx, checked_ole, is_strict_ooxml

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
# Main-part content types of Word: document, template, macro-enabled document and template.
_WORD_CONTENT = ("wordprocessingml.document", "wordprocessingml.template", "ms-word.document", "ms-word.template")


def word_document(data: bytes) -> Flattened:
    """The text of a DOCX in reading order; IngestError (one line) for anything else."""
    checked_docx(data)
    body, numbering = _open(data)
    out = TextBuilder()
    BodyWriter(out, numbering).blocks(body)
    return out.build()


def legacy_word_document(data: bytes) -> Flattened:
    """An OLE file: an old Word (.doc, WPS .wps) file is converted by LibreOffice and read as DOCX.

    A password-protected DOCX is an OLE file too (its package is encrypted inside), as are old
    Excel and PowerPoint files: those are named in the refusal rather than sent to LibreOffice.
    """
    checked_ole(data)
    return word_document(convert_to_docx(data))


def _open(data: bytes) -> tuple[etree._Element, Numbering]:
    """The body of the package's main part, and its list numbering.

    Opened through python-docx's package layer rather than `docx.Document`, which refuses any
    main part but a plain document's: a template (.dotx) or a macro document (.docm) holds the
    same body and reads the same.
    """
    from docx.opc.constants import RELATIONSHIP_TYPE
    from docx.package import Package

    try:
        main = Package.open(io.BytesIO(data)).main_document_part
    except Exception as exc:  # python-docx and lxml raise many kinds on a damaged package
        raise _unopened(data, exc) from None
    if not any(word in main.content_type for word in _WORD_CONTENT):
        raise IngestError("unsupported", f"not a Word document (its main part is {main.content_type[:80]})")
    try:
        root = _element(main)
    except Exception as exc:
        raise _unopened(data, exc) from None
    body = root.find(f"{_W}body") if root is not None else None
    if body is None:  # a main part without w:body: Strict Open XML, or a stub
        raise _unopened(data, ValueError("no body"))
    numbering = _related(main, RELATIONSHIP_TYPE.NUMBERING)
    styles = _related(main, RELATIONSHIP_TYPE.STYLES)
    return body, Numbering(numbering, styles)


def _unopened(data: bytes, exc: Exception) -> IngestError:
    if is_strict_ooxml(data):
        return IngestError("unsupported", "a Word file saved as Strict Open XML: save it as a standard .docx")
    return IngestError("corrupt", f"the Word file is damaged ({exc.__class__.__name__})")


def _element(part: Any) -> etree._Element | None:
    """A part's XML: python-docx parsed it when it knows the content type, else its bytes are parsed."""
    from docx.oxml.parser import parse_xml

    element = getattr(part, "element", None)
    if element is None:
        element = parse_xml(part.blob)
    return element if isinstance(element, etree._Element) else None


def _related(part: Any, relationship: str) -> etree._Element | None:
    """numbering.xml or styles.xml of the main part; None when it has none or it cannot be read."""
    try:
        return _element(part.part_related_by(relationship))
    except Exception:  # an optional part: the text reads without its labels
        return None
