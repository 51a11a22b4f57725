"""An HTML report of a benchmark run: errors by section (flagged vs silent) and flag calibration."""

from __future__ import annotations

import html
from collections import Counter
from pathlib import Path

from evals.score import CalibrationBin, DocScore, Summary, calibration


def _plot(scores: list[DocScore], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sections = ["t2", "t3", "t4"]
    errors: Counter[str] = Counter()
    silent: Counter[str] = Counter()
    for s in scores:
        errors.update(s.errors_by_section)
        silent.update(s.silent_by_section)
    flagged = [errors[k] - silent[k] for k in sections]
    quiet = [silent[k] for k in sections]
    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.bar(sections, flagged, label="wrong, flagged", color="#f0ad4e")
    ax.bar(sections, quiet, bottom=flagged, label="silent (wrong, not flagged)", color="#d9534f")
    ax.set_ylabel("fields")
    ax.set_title("Errors by section")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _plot_calibration(bins: list[CalibrationBin], path: Path) -> None:
    """Bars: flagged cells per confidence bin; line: the share of them that were wrong."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [b.label for b in bins]
    fig, ax = plt.subplots(figsize=(7, 3.4))
    ax.bar(labels, [b.flagged for b in bins], color="#9ecae1", label="flagged cells")
    ax.set_xlabel("reader's confidence")
    ax.set_ylabel("flagged cells")
    ax.tick_params(axis="x", labelsize=8)
    rate = ax.twinx()
    points = [(b.label, b.wrong_rate) for b in bins if b.wrong_rate is not None]
    rate.plot([p[0] for p in points], [p[1] for p in points], "o-", color="#d9534f", label="wrong rate")
    rate.set_ylim(0, 1.05)
    rate.set_ylabel("share wrong")
    fig.suptitle("Flagged cells: how often wrong, by confidence")
    handles = ax.get_legend_handles_labels()[0] + rate.get_legend_handles_labels()[0]
    ax.legend(
        handles,
        ["flagged cells", "wrong rate"],
        loc="lower left",
        bbox_to_anchor=(0, 1),
        ncol=2,
        fontsize=8,
        frameon=False,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def calibration_html(bins: list[CalibrationBin]) -> str:
    """The calibration table as HTML rows (empty bins shown, with no rate)."""
    rows = "".join(
        f"<tr><td>{b.label}</td><td>{b.flagged}</td><td>{b.wrong}</td>"
        f"<td>{'' if b.wrong_rate is None else f'{b.wrong_rate:.0%}'}</td></tr>"
        for b in bins
    )
    return (
        "<table><tr><th>confidence</th><th>flagged cells</th><th>wrong</th><th>wrong rate</th></tr>" + rows + "</table>"
    )


def write_report(scores: list[DocScore], summary: Summary, folder: Path, title: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    _plot(scores, folder / "errors_by_section.png")
    bins = calibration(scores)
    _plot_calibration(bins, folder / "calibration.png")
    rows = "\n".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(str(v))}</td>"
            for v in (
                s.doc,
                s.gold_fields,
                s.correct,
                s.flagged_errors,
                s.silent_errors,
                s.invented,
                s.false_flags,
                "yes" if s.template_ok else "NO",
                s.error,
                f"{s.seconds * 1000:.1f}",
                ", ".join(s.silent_keys[:6]),
            )
        )
        + "</tr>"
        for s in scores
    )
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;margin:2em}}td,th{{border:1px solid #ccc;padding:2px 6px;font-size:13px}}
table{{border-collapse:collapse}}</style></head><body>
<h1>{html.escape(title)}</h1>
<p>documents {summary.documents} · fields {summary.fields} · accuracy {summary.accuracy:.2%} ·
silent errors {summary.silent_errors} ({summary.silent_rate:.3%}) · flagged errors {summary.flagged_errors} ·
false flags {summary.false_flags} · invented {summary.invented} · templates wrong {summary.templates_wrong} ·
unreadable {summary.failed_documents} · {summary.docs_per_second:.1f} documents/s</p>
<img src="errors_by_section.png" alt="errors by section">
<h2>Calibration of flags</h2>
<p>Gold cells the reader flagged, by the reader's confidence: how many, and how many were wrong
(the rest are false flags).</p>
<img src="calibration.png" alt="flagged cells wrong by confidence">
{calibration_html(bins)}
<h2>Documents</h2>
<table><tr><th>doc</th><th>gold fields</th><th>correct</th><th>wrong, flagged</th><th>silent</th>
<th>invented</th><th>false flags</th><th>template</th><th>error</th><th>ms</th><th>silent keys</th></tr>
{rows}</table></body></html>"""
    out = folder / "report.html"
    out.write_text(page, encoding="utf-8")
    return out
