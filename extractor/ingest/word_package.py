"""Is this zip (or OLE file) a Word document we may open? Answered before any parser sees it.

A DOCX is a zip, and a zip is untrusted: python-docx inflates whatever the archive holds, so a
zip bomb is refused here first. Declared sizes are checked (total and ratio), then every member
is inflated in bounded chunks, counting what really comes out: a member whose header lies about
its size, or whose bytes are damaged (bad CRC), is caught here rather than inside python-docx.

Office files that are not Word (an Excel workbook, a PowerPoint deck, an OpenDocument file, a
plain zip) get a line that says what they are, so the user knows what to do instead.
"""

from __future__ import annotations

import io
import struct
import zipfile

from extractor.ingest.errors import IngestError

MAX_INFLATED_BYTES = 200 * 1024 * 1024  # a real report's DOCX inflates to a few MB
MAX_RATIO = 100  # real DOCX parts compress 5–30×; a bomb's compress thousands ×
RATIO_FLOOR_BYTES = 1024 * 1024  # a small part cannot hurt, whatever its ratio
MAX_MEMBERS = 5000
_CHUNK = 1024 * 1024

# The folder of an Office Open XML package's main part says which application made it.
_PACKAGE_KINDS = (
    ("word/", ""),
    ("xl/", "an Excel workbook, not a Word document"),
    ("ppt/", "a PowerPoint presentation, not a Word document"),
)
# Streams of an OLE (compound) file, as their names are stored in its directory (UTF-16LE).
_OLE_WORD = "WordDocument".encode("utf-16-le")
_OLE_ENCRYPTED = "EncryptedPackage".encode("utf-16-le")
_OLE_OTHER_KINDS = (
    ("Workbook".encode("utf-16-le"), "an old Excel workbook (.xls), not a Word document"),
    ("PowerPoint Document".encode("utf-16-le"), "an old PowerPoint presentation (.ppt), not a Word document"),
)
_STRICT_NAMESPACE = b"purl.oclc.org/ooxml/wordprocessingml"
_OOXML_PART_PREFIXES = (b"[Content_Types].xml", b"_rels/", b"docProps/", b"word/", b"customXml/")


def checked_docx(data: bytes) -> None:
    """Raise IngestError unless `data` is a Word package that is safe to hand to python-docx."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except Exception as exc:  # zipfile raises many kinds on damaged archives (BadZipFile, NotImplementedError…)
        raise _unreadable_zip(data, exc) from None
    names = [info.filename for info in infos]
    _refuse_other_kinds(names)
    if len(infos) > MAX_MEMBERS:
        raise IngestError("unsafe_zip", f"the Word file holds {len(infos)} parts (at most {MAX_MEMBERS}): not a report")
    _check_declared_sizes(infos)
    _inflate_bounded(archive, infos)


def _unreadable_zip(data: bytes, exc: Exception) -> IngestError:
    """A damaged zip: a Word file cut short or corrupted, or some other bytes that start like a zip."""
    name_length = struct.unpack("<H", data[26:28])[0] if len(data) >= 30 else 0
    first_member = data[30 : 30 + name_length]
    if first_member.startswith(_OOXML_PART_PREFIXES):
        return IngestError("corrupt", f"the Word file is damaged (cut short or corrupted: {_reason(exc)})")
    return IngestError("unsupported", f"not a readable zip archive or Word document ({_reason(exc)})")


def _refuse_other_kinds(names: list[str]) -> None:
    if "mimetype" in names and not any(name.startswith("word/") for name in names):
        raise IngestError("unsupported", "an OpenDocument file, not a Word document: save it as .docx")
    for prefix, refusal in _PACKAGE_KINDS:
        if any(name.startswith(prefix) for name in names):
            if refusal:
                raise IngestError("unsupported", refusal)
            return
    raise IngestError("unsupported", "a zip archive, not a Word document")


def _check_declared_sizes(infos: list[zipfile.ZipInfo]) -> None:
    total = sum(info.file_size for info in infos)
    if total > MAX_INFLATED_BYTES:
        raise IngestError(
            "unsafe_zip", f"the Word file would inflate to {_mb(total)} (limit {_mb(MAX_INFLATED_BYTES)})"
        )
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size >= RATIO_FLOOR_BYTES and ratio > MAX_RATIO:
            raise IngestError(
                "unsafe_zip", f"the Word file's part {info.filename!r} inflates {ratio:.0f}× (a zip bomb?)"
            )


def _inflate_bounded(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> None:
    """Inflate every part once, chunk by chunk, stopping at the limit whatever the headers say."""
    total = 0
    for info in infos:
        if info.is_dir():
            continue
        if info.flag_bits & 0x1:  # the zip's own encryption (not Word's: that makes an OLE file)
            raise IngestError("encrypted", f"the Word file's part {info.filename!r} is password-protected")
        try:
            with archive.open(info) as member:
                while chunk := member.read(_CHUNK):
                    total += len(chunk)
                    if total > MAX_INFLATED_BYTES:
                        raise IngestError("unsafe_zip", "the Word file inflates past the size limit (a zip bomb?)")
        except IngestError:
            raise
        except Exception as exc:  # bad CRC, bad deflate data, unknown compression, a header cut short…
            raise IngestError(
                "corrupt", f"the Word file is damaged: part {info.filename!r} cannot be read ({_reason(exc)})"
            ) from None


def is_strict_ooxml(data: bytes) -> bool:
    """A DOCX saved as "Strict Open XML": same package, other namespaces, which python-docx cannot read.

    Called only on a package `checked_docx` passed, so reading its main part's head is safe.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = [name for name in archive.namelist() if name.startswith("word/") and name.endswith(".xml")]
            heads = [archive.open(name).read(4096) for name in names[:4]]
    except Exception:  # only a question: a package that cannot answer is not Strict
        return False
    return any(_STRICT_NAMESPACE in head for head in heads)


def checked_ole(data: bytes) -> None:
    """An OLE file that is not an old Word document: say what it is (a password-protected DOCX is one).

    Stream names sit in the file's directory sectors as UTF-16LE; a plain search finds them. A
    file with a WordDocument stream is Word whatever else it holds, so body text that happens to
    spell a stream name cannot turn a real .doc away.
    """
    if _OLE_WORD in data:
        return
    if _OLE_ENCRYPTED in data:
        raise IngestError(
            "encrypted", "the Word file is password-protected: remove the password (or save a copy without it)"
        )
    for marker, refusal in _OLE_OTHER_KINDS:
        if marker in data:
            raise IngestError("unsupported", refusal)


def _reason(exc: Exception) -> str:
    return " ".join(str(exc).split())[:120] or exc.__class__.__name__


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:.0f} MB"
