"""Group a section's tokens into rows and decide which template row each one is.

Labels come first; where a page lost or displaced them, the order of the mandated rows
decides, and a row placed by order alone is marked so that a reviewer can see why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from extractor.confidence import DOUBTFUL, EVEN, PROBABLE
from extractor.readers.layout.labels import compact, exact_label, find_labels, residue
from extractor.readers.layout.tokens import Token
from schemas import RowSpec, SectionSpec

_NOISE_CHARS = 3
_DIGIT = re.compile(r"\d")
# text inside a row that may hide a value: digits we could not read as one, or bytes lost to damage (U+FFFD)
_UNREADABLE = re.compile("[\\d\ufffd]")
# a bracketed instruction after a label ('其他对外管理服务事项(指…行政处罚、行政强制…)'): it may name
# other rows, but it labels nothing; row numbers like (一) are too short to match
_INSTRUCTION = re.compile(r"[(（][^()（）]{6,}[)）]")
_COLUMN_NUMBER = re.compile(r"([^\d]+?)(\d+)")
# '8.属于行…' (a label cut short): a list number before a word hides no value
_LIST_NUMBER = re.compile(r"(?<!\d)\d{1,2}[.,](?=[\u4e00-\u9fff])")


@dataclass
class RawRow:
    """A run of values and the label in front of it, if any (`unknown` = a label that is no field)."""

    row: RowSpec | None
    label: str = ""
    label_span: tuple[int, int] | None = None
    unknown: bool = False
    tokens: list[Token] = field(default_factory=list)
    closed: bool = False
    weak: bool = False  # a label printed before another one with no values between: an empty row, or displaced
    garbled: list[str] = field(default_factory=list)  # text with digits inside the row: a value we could not read

    values: int = 0

    def add(self, token: Token) -> None:
        self.tokens.append(token)
        if token.kind in ("num", "blank"):
            self.values += 1

    def value_count(self) -> int:
        return self.values

    def cell_count(self) -> int:
        """Values plus explicit empty cells (an HTML grid keeps them)."""
        return sum(1 for t in self.tokens if t.kind in ("num", "blank", "empty"))


def _pieces(tokens: list[Token]) -> list[Token | list[Token]]:
    """Merge consecutive text tokens into one piece: labels wrap over lines and cells."""
    out: list[Token | list[Token]] = []
    for token in tokens:
        if token.kind == "text":
            if out and isinstance(out[-1], list):
                out[-1].append(token)
            else:
                out.append([token])
        else:
            out.append(token)
    return out


def assemble_rows(section: SectionSpec, tokens: list[Token], width: int | None) -> list[RawRow]:
    """Rows in document order; `width` (when all rows share it) starts a new row once one is full."""
    rows: list[RawRow] = []
    current: RawRow | None = None
    order = list(section.rows)
    for piece in _pieces(tokens):
        if isinstance(piece, list):
            joined = "".join(t.text for t in piece)
            text = _label_text(section, joined)
            span = (piece[0].start, piece[-1].end)
            expected = _expected(order, rows)
            row = _label_of(section, text, expected)
            if row is not None:
                if width is not None:
                    rows.extend(_earlier_labels(section, text, row, span))
                current = RawRow(row, label=text, label_span=span)
                if "\ufffd" in joined:  # damaged bytes beside the label: the row's first cell may be lost
                    current.garbled.append(joined)
                rows.append(current)
            elif _is_other_row(section, text, width) and (current is None or current.tokens):
                current = RawRow(None, label=text, label_span=span, unknown=True)
                rows.append(current)
            elif (
                current is not None
                and current.row is not None
                and _UNREADABLE.search(_LIST_NUMBER.sub("", joined))
                and not _numbers_columns(joined)
            ):
                current.garbled.append("".join(t.text for t in piece))
            continue
        if piece.kind == "break":
            if current is not None and current.tokens:
                current.closed = True
            continue
        if piece.kind == "empty" and (current is None or current.closed):
            continue
        # a full row takes no more values, unless they stand on the same printed line
        # (an extra subtotal column, decided later by the row's identity)
        full = (
            current is not None
            and width is not None
            and current.value_count() >= width
            and (not current.tokens or current.tokens[-1].line != piece.line)
        )
        if current is None or current.closed or (full and piece.kind != "empty"):
            current = RawRow(None)
            rows.append(current)
        current.add(piece)
    return [r for r in rows if r.tokens or r.row is not None]


def _numbers_columns(text: str) -> bool:
    """A header repeated inside the table that numbers its columns ('数据1 | 数据2 | … | 数据6'): its digits
    are 1, 2, 3 … each after the same word, and hide no value."""
    numbered = [(word.replace("|", "").strip(), int(n)) for word, n in _COLUMN_NUMBER.findall(text)]
    if len(numbered) < 3 or [n for _, n in numbered] != list(range(1, len(numbered) + 1)):
        return False
    words = {word for word, _ in numbered[1:]}
    word = words.pop() if len(words) == 1 else ""
    return bool(word) and numbered[0][0].endswith(word)


def _label_text(section: SectionSpec, raw: str) -> str:
    """The compact label of a text piece, without the instructions some forms print in brackets
    (unless only the brackets hold a row's words)."""
    bare = _INSTRUCTION.sub("", raw)
    if bare != raw and find_labels(section, compact(bare)):
        return compact(bare)
    return compact(raw)


def _earlier_labels(section: SectionSpec, text: str, last: RowSpec, span: tuple[int, int]) -> list[RawRow]:
    """Labels in one text piece before the one that takes the values: rows printed empty
    (cells dropped) — or labels a converter displaced. The alignment decides which."""
    hits = {id(hit.row): (hit.end, hit.row) for hit in find_labels(section, text)}
    if id(last) in hits:
        hits.update(_bare_labels_between(section, text, hits, last))
    earlier = sorted((hit for key, hit in hits.items() if key != id(last)), key=lambda hit: hit[0])
    return [RawRow(row, label=row.label, label_span=span, weak=True) for _, row in earlier]


def _bare_labels_between(
    section: SectionSpec, text: str, hits: dict[int, tuple[int, RowSpec]], last: RowSpec
) -> dict[int, tuple[int, RowSpec]]:
    """Bare labels ('3.其他' → '其他') inside a piece of joined label lines: a row printed with no values,
    due right after a row found in the piece and before the one that takes the values. Elsewhere a
    bare '其他' is a column header, so it counts only in that gap."""
    order = list(section.rows)
    found: dict[int, tuple[int, RowSpec]] = {}
    for index, row in enumerate(order[1:], start=1):
        before = hits.get(id(order[index - 1])) or found.get(id(order[index - 1]))
        if row is last or id(row) in hits or before is None or not row.exact:
            continue
        for alias in row.exact:
            pos = text.find(alias, before[0])
            if pos >= 0 and pos + len(alias) < hits[id(last)][0]:
                found[id(row)] = (pos + len(alias), row)
                break
    return found


def _is_other_row(section: SectionSpec, text: str, width: int | None) -> bool:
    """A label that is no field (其他主动公开文件, 小计): its values must not join a real row.

    In tables whose rows all share one width (table 3) only the section's declared extra rows
    count, since a stray fragment of a wrapped label is far more common there than a new row.
    """
    if any(word in text for word in section.extra_rows):
        return True
    return width is None and len(residue(section, text)) > _NOISE_CHARS


def _expected(order: list[RowSpec], rows: list[RawRow]) -> RowSpec | None:
    for raw in reversed(rows):
        if raw.row is not None:
            index = next(i for i, row in enumerate(order) if row is raw.row)
            return order[index + 1] if index + 1 < len(order) else None
    return order[0] if order else None


def _label_of(section: SectionSpec, text: str, expected: RowSpec | None) -> RowSpec | None:
    hits = find_labels(section, text)
    exact = exact_label(section, text, expected)
    if exact is not None and (not hits or hits[-1].end < len(text)):
        return exact
    if not hits:
        return None
    # '…缴纳费用…申请' then '3.其他' joined into one piece: the bare label after the last row found, where
    # that row's successor is due, names the row the values belong to (the row found was printed empty)
    rows = section.rows
    index = next(i for i, row in enumerate(rows) if row is hits[-1].row)
    after = rows[index + 1] if index + 1 < len(rows) else None
    if after is not None and any(text.endswith(a) and len(text) - len(a) >= hits[-1].end for a in after.exact):
        return after
    return hits[-1].row


@dataclass
class Assigned:
    raw: RawRow
    row: RowSpec
    doubt: str = ""
    level: float = 1.0
    sums_settle: bool = False  # placed by position between labelled rows: the sums check the place


# Dropping a row of values is rarely right (stray numbers are few), so it costs more than a
# wrong label: a page that scrambled its labels still has its rows in the mandated order.
_MATCH, _MISMATCH, _DROP, _SKIP, _WEAK = 3.0, -2.0, -4.0, -0.5, 1.0


def align_rows(section: SectionSpec, rows: list[RawRow]) -> tuple[list[Assigned], list[RawRow]]:
    """Monotone alignment of document rows to template rows; returns (assigned, left over)."""
    data = [r for r in rows if not r.unknown]
    template = list(section.rows)
    in_order = _in_template_order(template, data)
    if in_order is not None:
        return [Assigned(raw, raw.row) for raw in in_order if raw.row is not None], []
    best: tuple[float, list[tuple[int, int]], list[RawRow], list[RowSpec]] | None = None
    for form in _forms(template):  # the first form wins a tie: the usual one
        score, pairs, dropped = _align(data, form)
        if best is None or score > best[0]:
            best = (score, pairs, dropped, form)
    assert best is not None
    _score, pairs, dropped, form = best
    return [_judge(section, data, form, pairs, k) for k in range(len(pairs))], dropped


def _forms(template: list[RowSpec]) -> list[list[RowSpec]]:
    """The row lists a report may print: a row standing for others ((六)其他处理 as one row) is printed
    instead of them, never beside them, so unlabelled rows are counted against one form at a time."""
    merged = [row for row in template if row.replaces]
    if not merged:
        return [template]
    replaced = {key for row in merged for key in row.replaces}
    usual = [row for row in template if not row.replaces]
    single = [row for row in template if row.key not in replaced]
    return [usual, single]


def _align(data: list[RawRow], template: list[RowSpec]) -> tuple[float, list[tuple[int, int]], list[RawRow]]:
    """The best-scoring monotone alignment (score, (data, template) index pairs, rows left over)."""
    n, m = len(data), len(template)
    neg = float("-inf")
    best = [[neg] * (m + 1) for _ in range(n + 1)]
    move: list[list[str]] = [[""] * (m + 1) for _ in range(n + 1)]
    best[0][0] = 0.0
    drop_cost = [0.0 if raw.weak else _DROP - raw.value_count() for raw in data]
    for i in range(n + 1):
        for j in range(m + 1):
            here = best[i][j]
            if here == neg:
                continue
            if i < n and j < m:
                row = data[i].row
                gain = 0.0 if row is None else (_MATCH if row is template[j] else _MISMATCH)
                if data[i].weak:
                    gain = _WEAK if row is template[j] else float("-inf")
                if here + gain > best[i + 1][j + 1]:
                    best[i + 1][j + 1], move[i + 1][j + 1] = here + gain, "take"
            if i < n:
                cost = drop_cost[i]
                if here + cost > best[i + 1][j]:
                    best[i + 1][j], move[i + 1][j] = here + cost, "drop"
            if j < m and here + _SKIP > best[i][j + 1]:
                best[i][j + 1], move[i][j + 1] = here + _SKIP, "skip"
    pairs: list[tuple[int, int]] = []
    dropped: list[RawRow] = []
    i, j = n, m
    while i > 0 or j > 0:
        step = move[i][j]
        if step == "take":
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif step == "drop":
            dropped.append(data[i - 1])
            i -= 1
        else:
            j -= 1
    pairs.reverse()
    return best[n][m], pairs, dropped


def _in_template_order(template: list[RowSpec], data: list[RawRow]) -> list[RawRow] | None:
    """The common case needs no alignment: every row labelled, labels in the mandated order."""
    position = {id(row): index for index, row in enumerate(template)}
    last = -1
    for raw in data:
        if raw.row is None:
            return None
        index = position[id(raw.row)]
        if index <= last:
            return None
        last = index
    return data


def _judge(
    section: SectionSpec, data: list[RawRow], template: list[RowSpec], pairs: list[tuple[int, int]], k: int
) -> Assigned:
    i, j = pairs[k]
    raw, row = data[i], template[j]
    if raw.row is row:
        return Assigned(raw, row)
    if raw.row is not None:
        reason = f"row label reads '{raw.row.label}' but its place in the table is '{row.label}'"
        return Assigned(raw, row, reason, EVEN)
    prev_anchor = next(((pi, pj) for pi, pj in reversed(pairs[:k]) if data[pi].row is template[pj]), (-1, -1))
    next_anchor = next(
        ((pi, pj) for pi, pj in pairs[k + 1 :] if data[pi].row is template[pj]), (len(data), len(template))
    )
    # rows between the anchors that hold a row's place: a label printed without values and left out of
    # the alignment ('其他处理' heading its group) takes none
    taken = {pi for pi, _ in pairs}
    rows_between = sum(1 for i in range(prev_anchor[0] + 1, next_anchor[0]) if i in taken or data[i].value_count())
    slots_between = next_anchor[1] - prev_anchor[1] - 1
    if rows_between == slots_between:
        reason = f"row label not found; placed as '{row.label}' by its position in the table"
        return Assigned(raw, row, reason, PROBABLE, sums_settle=True)
    return Assigned(raw, row, f"row label not found; '{row.label}' is a guess from its position", DOUBTFUL)
