"""Messy annual reports as real files — Word, PDF, scans — with gold by construction.

evals.synth prints drawn table values as flattened text and HTML; real
reports mostly arrive as .docx, PDF exports and scans of stamped paper.
This package adds those channels on top of evals.synth: the values, the
injected publisher's mistakes, the narrative and the gold all come from
:func:`evals.synth.generate` (gold fixed before any file exists); only the
renderers (:mod:`evals.messy.channels`) are new.

Generate a scoring set::

    python -m evals.messy --channel pdf --seed 1 --count 10 --out out/messy-pdf
    gongkai eval out/messy-pdf

The same seed gives the same reports (values, agency, prose) in every
channel, so a docx, a pdf and a scan of one report can be compared.
"""

from __future__ import annotations

import json
from pathlib import Path

from evals.messy.channels import CHANNELS, channel_layout
from evals.messy.content import Blanks
from evals.messy.scan import ImageFormat
from evals.synth import Document
from evals.synth import generate as synth_generate

__all__ = ["CHANNELS", "PREFIX", "generate", "write"]

PREFIX = "messy"


def generate(
    channel: str,
    seed: int,
    count: int,
    dpi: int = 200,
    image_format: ImageFormat = "pdf",
    blanks: Blanks | None = None,
) -> list[Document]:
    """``count`` documents of one channel, deterministic in ``seed`` (files ``messy-<channel>-<n>``).

    ``blanks`` overrides the channel's habit of printing zeros as empty cells
    (:func:`evals.messy.channels.channel_layout`).
    """
    layout = channel_layout(channel, dpi, image_format, blanks)
    return synth_generate(seed, count, (layout,), PREFIX)


def write(docs: list[Document], out: Path) -> None:
    """Write ``NAME.<ext>`` and ``NAME.gold.json`` for each document into ``out``.

    Files of earlier runs with the same names are replaced; nothing else in
    ``out`` is touched (several channels can share one folder).
    """
    out.mkdir(parents=True, exist_ok=True)
    for d in docs:
        for old in out.glob(f"{d.name}.*"):
            if old.stem == d.name or old.name == f"{d.name}.gold.json":
                old.unlink()
        (out / f"{d.name}.{d.ext}").write_bytes(d.body)
        (out / f"{d.name}.gold.json").write_text(
            json.dumps(d.gold, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
