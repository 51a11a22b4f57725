"""Layouts for real-world patterns the base layouts miss (issue 9).

Each one reproduces a way a real report reached us that broke the reader or
that no base layout printed: one cell per line with bare ``|`` lines for
empty cells, prose restating table 3 with numbers that disagree with it, a
single flip-book page, a page that opens on a table in traditional
characters, damaged table-2 labels in a 2019/2021 hybrid table 2, a scraper
that dropped every repeated line, and a 2021 report printing (六)其他处理 as
one row.  As in :mod:`evals.synth.layouts`, what a document shows is read
from the table model; gold is never read back from the text, and prose
numbers are never gold.
"""

from __future__ import annotations

import random
from dataclasses import replace

from evals.synth.layouts import (
    BASE_EMITTERS,
    HEADINGS,
    PINYIN,
    T2_BLOCKS,
    Cell,
    Emitter,
    Layout,
    Line,
    Options,
    Rendered,
    Table,
    _ext,
    _std,
    _texts,
    _utf8,
    assemble,
    build_t3,
    build_t4,
    intro,
    outro,
    plain,
    shown_keys,
    title,
    to_traditional,
)
from evals.synth.values import Number, ReportValues, merge_other_rows, random_values, t3_rows

# ---------------------------------------------------------------------------
# 1. One cell per line, empty cells as lone ``|`` lines
# ---------------------------------------------------------------------------


def emit_barcells(t: Table, rng: random.Random) -> str:
    """A row is its label line(s), then one line per cell: ``18 |``, or ``|`` alone if empty."""
    out: list[str] = []
    for line in t.lines:
        if line.kind == "title":
            out.extend(_texts(line))
        elif line.kind == "header":
            out.extend(f"{x} |" for x in _texts(line))
        else:
            out.extend(c.text for c in line.cells if c.role != "value")
            out.extend(f"{c.text} |" if c.text.strip() else "|" for c in line.cells if c.role == "value")
    return "\n".join(out)


def render_barcells(v: ReportValues, rng: random.Random, k: int) -> Rendered:
    """One cell per line: a label line, then ``18 |`` per value and a bare ``|`` per empty cell."""
    share = 1.0 if k % 2 == 0 else 0.7

    def fmt(key: str, value: Number) -> str:
        return "" if value == 0 and rng.random() < share else plain(key, value)

    tables = _std(v, rng, fmt=fmt)
    notes = [f"zero cells printed as a bare '|' line ({int(share * 100)} % of zeros; gold 0)"]
    return _utf8(assemble(v, tables, emit_barcells, rng), notes=notes)


# ---------------------------------------------------------------------------
# 2. Prose restating table 3, numbers sometimes differing
# ---------------------------------------------------------------------------


def _prose_number(rng: random.Random, true: int, differ: bool) -> int:
    if not differ:
        return true
    return rng.choice([x for x in (true - 3, true - 2, true - 1, true + 1, true + 2, true + 4) if x >= 0])


def t3_narrative(v: ReportValues, rng: random.Random) -> tuple[str, dict[str, int], list[str]]:
    """A paragraph retelling table 3 with row words (共收到8份申请…予以公开2件…).

    Returns the text, the prose number given for each key it restates, and
    the keys whose prose number differs from the table (at least one does).
    Group totals (不予公开 …) are sums, not keys, and may differ too.
    """
    f = v.fields
    keyed = [
        "t3.new_received.total",
        "t3.new_received.natural",
        "t3.carried_over.total",
        "t3.granted.total",
        "t3.partial.total",
        "t3.carried_forward.total",
    ]
    differ = {key for key in keyed if rng.random() < 0.4} or {rng.choice(keyed)}
    said = {key: _prose_number(rng, int(f[key]), key in differ) for key in keyed}

    def group(prefix: str) -> int:
        rows = [r for r in t3_rows(v.template, v.merged_other) if r.startswith(prefix)]
        true = sum(int(f[f"t3.{r}.total"]) for r in rows)
        return _prose_number(rng, true, rng.random() < 0.3)

    orgs = int(f["t3.new_received.total"]) - int(f["t3.new_received.natural"])
    opening = rng.choice(
        [
            f"{v.year}年，共收到政府信息公开申请{said['t3.new_received.total']}份",
            f"本年度新收政府信息公开申请{said['t3.new_received.total']}件",
            f"全年共受理依申请公开{said['t3.new_received.total']}件",
        ]
    )
    text = (
        f"{opening}，其中自然人申请{said['t3.new_received.natural']}件、法人或其他组织申请{orgs}件；"
        f"上年结转{said['t3.carried_over.total']}件。办理结果：予以公开{said['t3.granted.total']}件，"
        f"部分公开{said['t3.partial.total']}件，不予公开{group('denied')}件，无法提供{group('unable')}件，"
        f"不予处理{group('rejected')}件，其他处理{group('other')}件；"
        f"结转下年度继续办理{said['t3.carried_forward.total']}件。"
    )
    return text, said, sorted(differ)


def render_prose3(v: ReportValues, rng: random.Random, k: int) -> Rendered:
    """Prose restating table 3 by row words (共收到8份申请…予以公开2件…), numbers sometimes differing."""
    base = rng.choice(["pipes", "cellpipe", "barline", "markdown", "flipbook"])
    emit = BASE_EMITTERS[base]
    tables = _std(v, rng)
    prose, said, differ = t3_narrative(v, rng)
    inside = k % 2 == 1
    parts = [title(v), *intro(v, rng)]
    for t in tables:
        parts.append(t.heading)
        if t.name != "t3":
            parts.append(emit(t, rng))
        elif inside:  # the paragraph interrupts the table after 二、上年结转
            cut = next(i for i, line in enumerate(t.lines) if line.row == "carried_over") + 1
            parts.extend(
                [emit(replace(t, lines=t.lines[:cut]), rng), prose, emit(replace(t, lines=t.lines[cut:]), rng)]
            )
        else:
            parts.extend([prose, emit(t, rng)])
    parts.extend(outro(v, rng))
    where = "inside table 3, after 二、上年结转" if inside else "between heading 三、 and table 3"
    notes = [
        f"base style {base}; a paragraph {where} restates table 3: "
        + ", ".join(f"{key} as {n}" for key, n in said.items())
        + "; differs from the table: "
        + ", ".join(differ)
        + " (gold is the table; prose numbers are never gold)"
    ]
    return _utf8("\n".join(parts) + "\n", _ext(base), notes=notes)


# ---------------------------------------------------------------------------
# 3. One flip-book page
# ---------------------------------------------------------------------------

_LONG_HEADER = 12  # the table-3 note stays on one line; real headers go vertical


def emit_flippage(t: Table, rng: random.Random, label_apart: bool) -> str:
    """Headers one character per line; each row's values space-separated on one line."""
    out: list[str] = []
    for line in t.lines:
        if line.kind == "title":
            out.extend(_texts(line))
        elif line.kind == "header":
            for text in _texts(line):
                text = text.replace(" ", "")
                out.extend([text] if len(text) > _LONG_HEADER else list(text))
        else:
            label = " ".join(c.text for c in line.cells if c.role != "value")
            nums = " ".join(c.text for c in line.cells if c.role == "value")
            out.extend([label, nums] if label and label_apart else [f"{label} {nums}".strip()])
    return "\n".join(out)


def render_flippage(v: ReportValues, rng: random.Random, k: int) -> Rendered:
    """One flip-book page: starts mid-table with no 二、/三、 heading, vertical column headers."""
    tables = _std(v, rng)
    if k % 2 == 0:  # the page opens inside table 3, early enough to show the (六) rows
        t3 = tables[1]
        row = rng.choice(list(t3_rows(v.template))[2:10])
        cut = next(i for i, line in enumerate(t3.lines) if line.row == row)
        page = [replace(t3, lines=t3.lines[cut:]), tables[2]]
        where = f"table 3 at row {row}"
    else:  # the page opens inside table 2, after its first row
        t2 = tables[0]
        data = [i for i, line in enumerate(t2.lines) if line.kind == "data"]
        cut = rng.choice(data[1:])
        page = [replace(t2, lines=t2.lines[cut:]), tables[1], tables[2]]
        where = f"table 2 at row {t2.lines[cut].row}"
    label_apart = rng.random() < 0.5
    parts = [emit_flippage(page[0], rng, label_apart)]
    for t in page[1:]:
        parts.extend([t.heading, emit_flippage(t, rng, label_apart)])
    if rng.random() < 0.5:
        parts.extend(outro(v, rng)[:2])
    parts.append(f"- {page[-1].page} -")
    notes = [
        f"one flip-book page opening in {where} with no heading; column headers printed one "
        "character per line; "
        + ("labels on their own line, " if label_apart else "")
        + "a row's values (table 4: all 15) space-separated on one line; cells before the page are absent"
    ]
    return _utf8("\n".join(parts) + "\n", shown=shown_keys(page), notes=notes)


# ---------------------------------------------------------------------------
# 4. A page opening on a table, traditional characters with pinyin glosses
# ---------------------------------------------------------------------------

GLOSSES: dict[str, str] = {
    **PINYIN,
    "動": "dòng",
    "發": "fā",
    "廢": "fèi",
    "止": "zhǐ",
    "現": "xiàn",
    "有": "yǒu",
    "效": "xiào",
    "自": "zì",
    "然": "rán",
    "人": "rén",
    "法": "fǎ",
    "律": "lǜ",
    "服": "fú",
    "社": "shè",
    "會": "huì",
    "科": "kē",
    "研": "yán",
    "商": "shāng",
    "企": "qǐ",
    "果": "guǒ",
    "第": "dì",
    "條": "tiáo",
    "本": "běn",
}


def render_tradpage(v: ReportValues, rng: random.Random, k: int) -> Rendered:
    """A page that opens directly on table 2 (no title), traditional characters, pinyin glosses (動(dòng))."""
    base = rng.choice(["pipes", "cellpipe", "markdown", "flipbook"])
    emit = BASE_EMITTERS[base]
    tables = _std(v, rng)
    parts = [emit(tables[0], rng)]
    for t in tables[1:]:
        parts.extend([t.heading, emit(t, rng)])
    parts.extend(outro(v, rng))
    zixun = rng.random() < 0.5
    text = to_traditional("\n".join(parts) + "\n", rng, zixun=zixun, gloss=0.3, glosses=GLOSSES)
    notes = [
        f"base style {base}; no title, intro or 二、 heading: the text opens on table 2's first row; "
        "traditional characters" + ("; 信息 written 資訊" if zixun else "") + "; pinyin glosses like 動(dòng)"
    ]
    return _utf8(text, _ext(base), notes=notes)


# ---------------------------------------------------------------------------
# 5. Damaged table-2 labels, 2019-style table 2 in a 2021 report
# ---------------------------------------------------------------------------

# 2019-template cells a 2021 report's keys take unambiguously: only 处理决定数量.
# 本年新制作数量 is not 本年制发件数 and 对外公开总数量 is not 现行有效件数, and
# a 2019 table 2 has no 收费金额 column, so those 2021 keys are absent.
HYBRID_KEYS: dict[str, str] = {
    "t2.licensing.decisions": "t2.licensing.decisions",
    "t2.penalty.decisions": "t2.penalty.decisions",
    "t2.coercion.decisions": "t2.coercion.decisions",
}
UNLABELLED_T2 = ("normative", "other_services", "coercion")  # second rows of their blocks


def odd_title(text: str, rng: random.Random, stripped: bool) -> str:
    """A 第二十条第（N）项 title with odd spacing, ASCII brackets, or all numbering lost."""
    if stripped:
        return "第二十条第"
    num = text[len("第二十条第") :]
    return rng.choice(
        [
            "第二十条  第" + num.replace("（", "(").replace("）", ")"),
            "第二十条 第" + num + " ",
            "第 二十 条第" + num,
            "第二十条第" + num.replace("（", "( ").replace("）", " )"),
            text,
        ]
    )


def build_t2_hybrid(v: ReportValues, rng: random.Random, unlabelled: tuple[str, ...], stripped: int) -> Table:
    """Table 2 in the 2019 form; in a 2021 report only the 处理决定数量 cells carry keys.

    The other cells print numbers of a second, unrelated draw: a reader that
    maps them onto 2021 keys invents values.
    """
    hybrid = v.template == "2021"
    stray = random_values(rng, "2019", v.year, v.agency).fields
    lines: list[Line] = []
    for i, (heading, header, rows) in enumerate(T2_BLOCKS["2019"]):
        lines.append(Line([Cell(odd_title(heading, rng, i == stripped), "title", colspan=4)], "title"))
        hdr = [Cell(h, "header") for h in header]
        hdr[-1].colspan = 4 - len(hdr) + 1
        lines.append(Line(hdr, "header"))
        for label, item, cols in rows:
            cells = [] if item in unlabelled else [Cell(label, "label")]
            for c in cols:
                own = f"t2.{item}.{c}"
                key = HYBRID_KEYS.get(own) if hybrid else own
                value = v.fields[key] if key else stray[own]
                cells.append(Cell(plain(own, value), "value", key))
            lines.append(Line(cells, "data", row=item))
    return Table("t2", HEADINGS["t2"], lines)


def render_hybridt2(v: ReportValues, rng: random.Random, k: int) -> Rendered:
    """Table 2 with odd/stripped 第二十条 labels and unlabelled rows; 2019-style columns in a 2021 report."""
    base = rng.choice(["pipes", "cellpipe", "barline", "markdown", "flipbook"])
    unlabelled = tuple(x for x in UNLABELLED_T2 if x != "other_services" or v.template == "2019")
    unlabelled = tuple(rng.sample(unlabelled, rng.randint(1, 2)))
    stripped = rng.randrange(len(T2_BLOCKS["2019"]))
    opt = Options(ascii_parens=rng.random() < 0.3)
    tables = [build_t2_hybrid(v, rng, unlabelled, stripped), build_t3(v, plain, opt, rng), build_t4(v, plain, opt, rng)]
    notes = [
        f"base style {base}; 第二十条 titles with odd spacing/brackets, block {stripped + 1} titled "
        "just 第二十条第; table-2 rows printed without a label: " + ", ".join(unlabelled)
    ]
    if v.template == "2021":
        notes.append(
            "2021 report with a 2019-style table 2: only the 处理决定数量 cells map onto 2021 keys "
            "(t2.licensing/penalty/coercion.decisions); rules/normative/fees keys are absent"
        )
    return _utf8(assemble(v, tables, BASE_EMITTERS[base], rng), _ext(base), notes=notes, shown=shown_keys(tables))


# ---------------------------------------------------------------------------
# 6. Repeated lines dropped by a scraper
# ---------------------------------------------------------------------------


def dedup_lines(text: str) -> tuple[str, int]:
    """Drop every line identical to an earlier one (the scraper's bug); return text and lines lost."""
    seen: set[str] = set()
    kept: list[str] = []
    for line in text.split("\n"):
        if line in seen:
            continue
        seen.add(line)
        kept.append(line)
    return "\n".join(kept), text.count("\n") - len(kept) + 1


def tweak_dedup(v: ReportValues, rng: random.Random, k: int) -> None:
    """Every other document has all-zero tables 3 and 4, of which one '0' line survives."""
    if k % 2 == 0:
        for key in v.fields:
            if key.startswith(("t3.", "t4.")):
                v.fields[key] = 0


def render_dedup(v: ReportValues, rng: random.Random, k: int) -> Rendered:
    """Scraped text with every repeated line removed (cells ``0`` after the first, repeated headers)."""
    base = rng.choice(["cellpipe", "paragraphs", "barline"])
    emit: Emitter = BASE_EMITTERS[base]
    text = assemble(v, _std(v, rng), emit, rng, sep="\n\n" if base == "paragraphs" else "\n")
    text, lost = dedup_lines(text)
    zero = all(x == 0 for key, x in v.fields.items() if key.startswith(("t3.", "t4.")))
    notes = [
        f"base style {base}; {lost} lines identical to an earlier line were dropped "
        "(cells are gold whether or not their line survived)" + ("; tables 3 and 4 are all zero" if zero else "")
    ]
    return _utf8(text + ("" if text.endswith("\n") else "\n"), _ext(base), notes=notes)


# ---------------------------------------------------------------------------
# 8. A 2021 report printing (六)其他处理 as one row
# ---------------------------------------------------------------------------


def tweak_otherrow(v: ReportValues, rng: random.Random, k: int) -> None:
    """Merge the three (六) sub-rows into ``t3.other`` (FIELDS.md: the sub-row keys are then absent)."""
    v.merged_other = True
    merge_other_rows(v.fields)


def render_otherrow(v: ReportValues, rng: random.Random, k: int) -> Rendered:
    """A 2021-template report printing (六)其他处理 as one row (keys ``t3.other.*``)."""
    base = rng.choice(list(BASE_EMITTERS))
    text = assemble(v, _std(v, rng), BASE_EMITTERS[base], rng, sep="\n\n" if base == "paragraphs" else "\n")
    notes = [f"base style {base}; 2021 template with (六)其他处理 as one row: t3.other.* in gold, no other_* keys"]
    return _utf8(text, _ext(base), notes=notes)


PATTERN_LAYOUTS: tuple[Layout, ...] = (
    Layout("barcells", render_barcells),
    Layout("prosethree", render_prose3, nonzero=True),
    Layout("flippage", render_flippage, mistakes=False),
    Layout("tradpage", render_tradpage),
    Layout("hybridtwo", render_hybridt2),
    Layout("dedup", render_dedup, tweak_dedup, mistakes=False),
    Layout("otherrow", render_otherrow, tweak_otherrow, nonzero=True, templates=("2021",)),
)
