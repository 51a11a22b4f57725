"""Word files: DOCX read as its paragraphs and table grids; .doc/.wps converted to DOCX first.

A DOCX has no pages to show a reviewer (Word lays them out when it opens the file), so its
text comes without pages or boxes; tables are written as the same ` | ` rows as HTML tables,
which is what the table readers know. The package is checked (zip bomb, damage, not Word at
all) before python-docx opens it: `word_package`. The body walk is `word_body`.
"""

from __future__ import annotations

import io

from lxml import etree

from extractor.ingest.errors import IngestError
from extractor.ingest.pages import Flattened, TextBuilder
from extractor.ingest.word_body import BodyWriter
from extractor.ingest.word_convert import convert_to_docx
from extractor.ingest.word_numbering import Numbering
from extractor.ingest.word_package import checked_docx, checked_ole


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
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
        body: etree._Element = document.element.body
    except ValueError as exc:
        if "content type is" not in str(exc):
            raise IngestError("corrupt", f"the Word file is damaged ({exc.__class__.__name__})") from None
        kind = str(exc).rsplit("content type is", 1)[-1].strip(" '")  # a macro document, a template…
        raise IngestError("unsupported", f"not a Word document (its main part is {kind[:80]})") from None
    except (PackageNotFoundError, KeyError, etree.XMLSyntaxError, AttributeError, TypeError) as exc:
        raise IngestError("corrupt", f"the Word file is damaged ({exc.__class__.__name__})") from None
    except Exception as exc:  # python-docx and lxml raise many kinds on a damaged package
        raise IngestError("corrupt", f"the Word file is damaged ({exc.__class__.__name__})") from None
    return body, Numbering(_part_element(document, "numbering"), _part_element(document, "styles"))


def _part_element(document: object, which: str) -> etree._Element | None:
    """numbering.xml or styles.xml of the document, None when it has none (or it cannot be read)."""
    part = getattr(document, "part", None)
    try:
        found = getattr(part, f"{which}_part", None)
        element = getattr(found, "element", None)
    except (KeyError, NotImplementedError, ValueError, etree.XMLSyntaxError):
        return None
    return element if isinstance(element, etree._Element) else None
