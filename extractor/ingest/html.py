"""HTML → text in which every table row is one ` | `-separated line.

Tables are read as the grid the browser draws: a cell spanning rows or columns is written
once, where it starts, and an empty <td> stays an empty cell between two pipes, because an
empty cell inside a present table means 0 and its position matters.
"""

from __future__ import annotations

import re

import lxml.html
from lxml import etree

from extractor.ingest.errors import IngestError

_BLOCK_TAGS = {
    "p",
    "div",
    "br",
    "li",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "section",
    "article",
    "header",
    "footer",
    "tr",
    "table",
    "tbody",
    "thead",
    "blockquote",
    "pre",
    "hr",
    "dd",
    "dt",
}
_SKIP_TAGS = {"script", "style", "noscript", "template", "head", "title", "meta", "link"}
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u3000]+")


def looks_like_html(text: str) -> bool:
    head = text[:5000].lower()
    return any(tag in head for tag in ("<html", "<table", "<body", "<p>", "<p ", "<div", "<td", "<!doctype html"))


def _cell_text(cell: etree._Element) -> str:
    parts = [str(piece) for piece in cell.itertext()]
    return _SPACES.sub(" ", "".join(parts)).replace("\n", " ").replace("|", " ").strip()


def _table_lines(table: etree._Element) -> list[str]:
    lines: list[str] = []
    for tr in table.iter("tr"):
        if _enclosing_table(tr) is not table:
            continue
        cells = [c for c in tr if isinstance(c.tag, str) and c.tag in ("td", "th")]
        if not cells:
            continue
        lines.append("| " + " | ".join(_cell_text(c) for c in cells) + " |")
    return lines


def _enclosing_table(element: etree._Element) -> etree._Element | None:
    parent = element.getparent()
    while parent is not None and parent.tag != "table":
        parent = parent.getparent()
    return parent


def _walk(element: etree._Element, out: list[str]) -> None:
    if not isinstance(element.tag, str):  # comments and processing instructions: only their tail shows
        if element.tail:
            out.append(element.tail)
        return
    tag = element.tag
    if tag in _SKIP_TAGS:
        if element.tail:
            out.append(element.tail)
        return
    if tag == "table":
        nested = element.find(".//table")
        if nested is None:
            out.append("\n" + "\n".join(_table_lines(element)) + "\n")
            if element.tail:
                out.append(element.tail)
            return
    if tag in _BLOCK_TAGS:
        out.append("\n")
    if element.text:
        out.append(element.text)
    for child in element:
        _walk(child, out)
    if tag in _BLOCK_TAGS:
        out.append("\n")
    if element.tail:
        out.append(element.tail)


def html_to_text(html: str) -> str:
    """Visible text of the page, tables as pipe rows; raises IngestError on unparsable input."""
    html = _XML_DECLARATION.sub("", html, count=1)  # lxml refuses str input that declares its encoding
    try:
        root = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError) as exc:
        raise IngestError("html", f"cannot parse the HTML: {exc}") from exc
    out: list[str] = []
    _walk(root, out)
    text = "".join(out)
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return "\n".join(line for line in lines if line)
