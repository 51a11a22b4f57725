"""Old Word files (.doc, and WPS Office's .wps) → DOCX, by LibreOffice when it is installed.

The binary .doc format is not worth a reader of our own: LibreOffice converts it faithfully,
merged table cells included, and the DOCX reader does the rest. It runs headless in a temporary
folder with its own throw-away profile (so it never meets a user's running LibreOffice), in its
own process group, killed whole when it overruns the time limit.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from extractor.ingest.errors import IngestError

CONVERT_SECONDS = 120.0  # a report converts in a few seconds; a stuck converter is killed
MAX_CONVERTED_BYTES = 100 * 1024 * 1024
NO_LIBREOFFICE = "old Word (.doc/.wps) files need LibreOffice to be converted; install it or save the file as .docx"


def libreoffice() -> str | None:
    """The LibreOffice program on PATH, if any (`soffice` on most systems, `libreoffice` on some)."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert_to_docx(data: bytes) -> bytes:
    """The DOCX LibreOffice makes of `data`; IngestError when it is missing, fails or overruns."""
    program = libreoffice()
    if program is None:
        raise IngestError("unsupported", NO_LIBREOFFICE)
    with tempfile.TemporaryDirectory(prefix="gongkai-word-") as folder:
        work = Path(folder)
        source = work / "report.doc"  # LibreOffice reads the content, not the name: .wps converts too
        source.write_bytes(data)
        out = work / "out"
        command = [
            program,
            f"-env:UserInstallation={(work / 'profile').as_uri()}",
            "--headless",
            "--norestore",
            "--nolockcheck",
            "--convert-to",
            "docx:MS Word 2007 XML",
            "--outdir",
            str(out),
            str(source),
        ]
        _run(command)
        converted = out / "report.docx"
        if not converted.is_file() or converted.stat().st_size == 0:
            raise IngestError(
                "corrupt", "LibreOffice could not convert the old Word file (damaged or password-protected?)"
            )
        if converted.stat().st_size > MAX_CONVERTED_BYTES:
            raise IngestError("too_large", "the old Word file converts to an oversized DOCX")
        return converted.read_bytes()


def _run(command: list[str]) -> None:
    try:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: a timeout kills soffice.bin too
        )
    except OSError as exc:
        raise IngestError("unsupported", f"LibreOffice could not be started ({exc.strerror or exc})") from exc
    try:
        process.wait(timeout=CONVERT_SECONDS)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        raise IngestError(
            "timeout", f"LibreOffice took over {CONVERT_SECONDS:g} s to convert the old Word file"
        ) from None


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):  # it may have ended on its own meanwhile
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
