"""Uploaded bytes → the files to ingest: a plain file as it is, a zip opened with care.

A zip is untrusted: a member named `/etc/passwd` or `../x` is refused (we never write members to
disk, but a name like that means the archive was made to attack something, so the whole archive
is refused rather than silently cleaned), and so is a zip bomb: members are counted, declared
sizes are checked before anything is inflated, and each member is inflated at most one byte past
the size limit, so a member that lies about its size is caught without filling memory.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import PurePosixPath

MAX_ZIP_MEMBERS = 1000
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a local file header, or an empty archive's end record
_DRIVE = re.compile(r"^[A-Za-z]:")


class UploadRefused(ValueError):
    """An upload refused as a whole; `code` is `too_large`, `unsafe_zip`, `bad_zip` or `unsupported`."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


@dataclass(frozen=True)
class UploadedFile:
    name: str
    data: bytes


def clean_name(filename: str | None) -> str:
    """A file name fit to store and show: no control characters (NUL breaks PostgreSQL text), bounded."""
    name = "".join(ch for ch in (filename or "") if ch.isprintable()).strip()
    return name[-255:] or "upload"


def is_zip(data: bytes) -> bool:
    return data[:4] in ZIP_MAGIC


def _unsafe(name: str) -> bool:
    """An absolute path, a drive letter or a `..` anywhere: a name made to escape a directory."""
    normal = name.replace("\\", "/")
    return normal.startswith("/") or bool(_DRIVE.match(normal)) or ".." in PurePosixPath(normal).parts


def expand(name: str, data: bytes, max_bytes: int, max_total: int) -> list[UploadedFile]:
    """The files in one upload: itself, or a zip's members (directories skipped).

    Raises `UploadRefused` for an unsafe or oversized zip. `max_bytes` bounds each file,
    `max_total` the sum of a zip's inflated members.
    """
    if not is_zip(data):
        return [UploadedFile(name, data)]
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [info for info in archive.infolist() if not info.is_dir()]
    except (zipfile.BadZipFile, zlib.error, ValueError, EOFError) as exc:
        raise UploadRefused("bad_zip", f"{name}: not a readable zip archive ({exc})") from None
    names = {info.filename for info in members}
    if "[Content_Types].xml" in names or "mimetype" in names:  # DOCX/XLSX/ODT are zips too: one file,
        return [UploadedFile(name, data)]  # and ingest says whether it can read it (a Word file) or not
    if len(members) > MAX_ZIP_MEMBERS:
        raise UploadRefused("too_large", f"{name}: {len(members)} files in the zip; at most {MAX_ZIP_MEMBERS}")
    for info in archive.infolist():
        if _unsafe(info.filename):
            raise UploadRefused("unsafe_zip", f"{name}: member {info.filename!r} has an absolute path or '..'")
    declared = 0
    for info in members:
        if info.file_size > max_bytes:
            raise UploadRefused("too_large", f"{name}: member {info.filename!r} is {_mb(info.file_size)} "
                                f"inflated; the limit is {_mb(max_bytes)}")  # fmt: skip
        declared += info.file_size
    if declared > max_total:
        raise UploadRefused("too_large", f"{name}: {_mb(declared)} inflated in all; the limit is {_mb(max_total)}")
    files: list[UploadedFile] = []
    total = 0
    for info in members:
        try:
            with archive.open(info) as member:
                content = member.read(max_bytes + 1)
        except (zipfile.BadZipFile, zlib.error, RuntimeError, NotImplementedError, EOFError, ValueError) as exc:
            raise UploadRefused("bad_zip", f"{name}: member {info.filename!r} cannot be read ({exc})") from None
        total += len(content)
        if len(content) > max_bytes or total > max_total:  # the header lied about the size
            raise UploadRefused("too_large", f"{name}: member {info.filename!r} inflates past the size limit")
        files.append(UploadedFile(clean_name(f"{name}/{info.filename}"), content))
    return files


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB"
