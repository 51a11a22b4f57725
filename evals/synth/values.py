"""Random but internally consistent table values for synthetic annual reports.

The synthetic dev set is only useful if its gold is right by construction, so
this module draws the numbers first — satisfying every identity of
``FIELDS.md`` — and only then lets :mod:`evals.synth.layouts` print them.  A
publisher's mistake, when one is wanted, is injected here as an explicit,
recorded change of one printed cell, never as an accident of rendering.

Nothing here imports the project's reader: the generator must stay
independent of the code it is meant to test.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Number = int | float
Template = Literal["2019", "2021"]
AgencyKind = Literal["street", "township", "county", "district", "city", "bureau"]

TEMPLATES: tuple[Template, ...] = ("2019", "2021")
YEARS: dict[Template, tuple[int, ...]] = {
    "2019": (2019, 2020),
    "2021": (2021, 2022, 2023, 2024, 2025),
}

# ---------------------------------------------------------------------------
# Key sets (FIELDS.md).  Kept as plain tuples in print order so that renderers
# and tests share one definition.
# ---------------------------------------------------------------------------

T2_KEYS: dict[Template, tuple[str, ...]] = {
    "2019": (
        "t2.rules.made",
        "t2.rules.published",
        "t2.rules.total",
        "t2.normative.made",
        "t2.normative.published",
        "t2.normative.total",
        "t2.licensing.prev_items",
        "t2.licensing.change",
        "t2.licensing.decisions",
        "t2.other_services.prev_items",
        "t2.other_services.change",
        "t2.other_services.decisions",
        "t2.penalty.prev_items",
        "t2.penalty.change",
        "t2.penalty.decisions",
        "t2.coercion.prev_items",
        "t2.coercion.change",
        "t2.coercion.decisions",
        "t2.fees.prev_items",
        "t2.fees.change",
        "t2.procurement.items",
        "t2.procurement.amount",
    ),
    "2021": (
        "t2.rules.issued",
        "t2.rules.repealed",
        "t2.rules.in_force",
        "t2.normative.issued",
        "t2.normative.repealed",
        "t2.normative.in_force",
        "t2.licensing.decisions",
        "t2.penalty.decisions",
        "t2.coercion.decisions",
        "t2.fees.amount",
    ),
}

T3_COLS: tuple[str, ...] = (
    "natural",
    "commercial",
    "research",
    "social",
    "legal",
    "other_org",
    "total",
)
APPLICANT_COLS: tuple[str, ...] = T3_COLS[:6]

_RESULT_HEAD: tuple[str, ...] = (
    "granted",
    "partial",
    "denied_state_secret",
    "denied_law_forbidden",
    "denied_three_safety",
    "denied_third_party",
    "denied_internal",
    "denied_process",
    "denied_enforcement",
    "denied_query",
    "unable_not_held",
    "unable_need_creation",
    "unable_unclear",
    "rejected_complaint",
    "rejected_duplicate",
    "rejected_publication",
    "rejected_excessive",
    "rejected_confirm",
)
_OTHER_ROWS: dict[Template, tuple[str, ...]] = {
    "2019": ("other",),
    "2021": ("other_overdue_correction", "other_overdue_fee", "other_misc"),
}

T4_GROUPS: tuple[str, ...] = ("review", "suit_direct", "suit_after_review")
T4_COLS: tuple[str, ...] = ("upheld", "corrected", "other", "pending", "total")
T4_KEYS: tuple[str, ...] = tuple(f"t4.{g}.{c}" for g in T4_GROUPS for c in T4_COLS)

# The fractional-valued cells; everything else is an integer.
DECIMAL_KEYS: frozenset[str] = frozenset({"t2.fees.amount", "t2.procurement.amount"})


def result_rows(template: Template, merged_other: bool = False) -> tuple[str, ...]:
    """Rows whose column sums make up the ``(七)总计`` row, in print order.

    ``merged_other`` is a 2021-template report that prints (六)其他处理 as one
    row (FIELDS.md: its cells are ``t3.other.*`` and the sub-rows are absent).
    """
    return _RESULT_HEAD + (("other",) if merged_other else _OTHER_ROWS[template])


def t3_rows(template: Template, merged_other: bool = False) -> tuple[str, ...]:
    """All table-3 rows of a template, in print order."""
    return ("new_received", "carried_over", *result_rows(template, merged_other), "total", "carried_forward")


def t3_keys(template: Template, merged_other: bool = False) -> tuple[str, ...]:
    """Table-3 keys in reading order (row by row, left to right)."""
    return tuple(f"t3.{r}.{c}" for r in t3_rows(template, merged_other) for c in T3_COLS)


def field_keys(template: Template, merged_other: bool = False) -> tuple[str, ...]:
    """Every key a complete report of ``template`` shows, in reading order."""
    return T2_KEYS[template] + t3_keys(template, merged_other) + T4_KEYS


def merge_other_rows(fields: dict[str, Number]) -> None:
    """Replace the three 2021 (六) sub-rows by the one ``t3.other`` row they sum to, in place.

    Keeps reading order (the merged row where the sub-rows were), so the
    identities still hold with ``merged_other=True``.
    """
    subs = _OTHER_ROWS["2021"]
    merged: dict[str, Number] = {}
    for key, value in fields.items():
        row = key.split(".")[1] if key.startswith("t3.") else ""
        if row in subs:
            if row == subs[0]:
                col = key.split(".")[2]
                merged[f"t3.other.{col}"] = sum(fields[f"t3.{r}.{col}"] for r in subs)
            continue
        merged[key] = value
    fields.clear()
    fields.update(merged)


# ---------------------------------------------------------------------------
# Identities
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    """One arithmetic identity: ``sum(lhs) == sum(rhs)``.

    Kept as data (not code) so tests can ask which identities a given key
    takes part in, e.g. to check that an injected mistake really breaks one.
    """

    name: str
    lhs: tuple[str, ...]
    rhs: tuple[str, ...]

    @property
    def keys(self) -> tuple[str, ...]:
        """All keys the identity mentions."""
        return self.lhs + self.rhs


def identities(template: Template, merged_other: bool = False) -> list[Identity]:
    """The identities of FIELDS.md that every true report of ``template`` obeys."""
    out: list[Identity] = []
    for row in t3_rows(template, merged_other):
        out.append(
            Identity(
                f"t3 row {row}: total = sum of applicant columns",
                (f"t3.{row}.total",),
                tuple(f"t3.{row}.{c}" for c in APPLICANT_COLS),
            )
        )
    for col in T3_COLS:
        out.append(
            Identity(
                f"t3 column {col}: (七)总计 = sum of result rows",
                (f"t3.total.{col}",),
                tuple(f"t3.{r}.{col}" for r in result_rows(template, merged_other)),
            )
        )
        out.append(
            Identity(
                f"t3 column {col}: new_received + carried_over = total + carried_forward",
                (f"t3.new_received.{col}", f"t3.carried_over.{col}"),
                (f"t3.total.{col}", f"t3.carried_forward.{col}"),
            )
        )
    for group in T4_GROUPS:
        out.append(
            Identity(
                f"t4 group {group}: total = upheld + corrected + other + pending",
                (f"t4.{group}.total",),
                tuple(f"t4.{group}.{c}" for c in T4_COLS[:4]),
            )
        )
    return out


def broken_identities(fields: Mapping[str, Number], template: Template, merged_other: bool = False) -> list[Identity]:
    """Identities that ``fields`` violates, among those whose keys are all present.

    An identity with a missing key (a cut-off document) cannot be checked and
    is skipped rather than reported, mirroring what a careful reader can do.
    """
    broken: list[Identity] = []
    for ident in identities(template, merged_other):
        if not all(k in fields for k in ident.keys):
            continue
        if sum(fields[k] for k in ident.lhs) != sum(fields[k] for k in ident.rhs):
            broken.append(ident)
    return broken


# ---------------------------------------------------------------------------
# Agencies
# ---------------------------------------------------------------------------

_PLACE_A = "青清安平丰永泰兴宁东西南北新长云临宝德河江山林泉溪"
_PLACE_B = "阳川山河城湖源宁安平水泉溪原州丰台林"
_BUREAUS = (
    "自然资源和规划局",
    "生态环境局",
    "市场监督管理局",
    "住房和城乡建设局",
    "教育局",
    "卫生健康委员会",
    "交通运输局",
    "人力资源和社会保障局",
    "农业农村局",
    "发展和改革委员会",
    "民政局",
    "水利局",
)


@dataclass(frozen=True)
class Agency:
    """A plausible publishing agency and the size class that drives its numbers."""

    name: str
    kind: AgencyKind


def _place(rng: random.Random) -> str:
    return rng.choice(_PLACE_A) + rng.choice(_PLACE_B)


def random_agency(rng: random.Random) -> Agency:
    """Draw an agency name of one of the usual publisher types.

    The size class matters: a 街道办事处 receives a handful of requests and
    makes no 规章, a city government receives thousands; realistic scale is
    what makes zeros, large numbers and run-together digit strings plausible.
    """
    kind: AgencyKind = rng.choice(["street", "township", "county", "district", "city", "bureau"])
    city = _place(rng) + "市"
    county = _place(rng) + rng.choice(["县", "区"])
    if kind == "street":
        name = f"{county}{_place(rng)}街道办事处"
    elif kind == "township":
        name = f"{county}{_place(rng)}{rng.choice(['镇', '乡'])}人民政府"
    elif kind == "county":
        name = f"{_place(rng)}县人民政府"
    elif kind == "district":
        name = f"{city}{_place(rng)}区人民政府"
    elif kind == "city":
        name = f"{city}人民政府"
    else:
        name = f"{rng.choice([city, county])}{rng.choice(_BUREAUS)}"
    return Agency(name, kind)


# ---------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------

# Typical number of requests handled in a year, per agency kind.
_SCALE: dict[AgencyKind, tuple[int, int]] = {
    "street": (0, 8),
    "township": (0, 10),
    "county": (15, 400),
    "district": (20, 700),
    "city": (200, 3200),
    "bureau": (0, 160),
}

# Relative frequency of each outcome; 0-weight rows stay zero.
_RESULT_WEIGHTS: dict[str, float] = {
    "granted": 30,
    "partial": 8,
    "denied_state_secret": 0.3,
    "denied_law_forbidden": 0.6,
    "denied_three_safety": 0.3,
    "denied_third_party": 1.2,
    "denied_internal": 1.0,
    "denied_process": 1.2,
    "denied_enforcement": 0.6,
    "denied_query": 1.2,
    "unable_not_held": 24,
    "unable_need_creation": 3,
    "unable_unclear": 2,
    "rejected_complaint": 3,
    "rejected_duplicate": 3,
    "rejected_publication": 0.8,
    "rejected_excessive": 0.8,
    "rejected_confirm": 1.0,
    "other": 6,
    "other_overdue_correction": 2.5,
    "other_overdue_fee": 0.3,
    "other_misc": 6,
}

# Share of requests by applicant column (natural persons dominate).
_APPLICANT_WEIGHTS: dict[str, float] = {
    "natural": 88,
    "commercial": 7,
    "research": 0.4,
    "social": 0.4,
    "legal": 3,
    "other_org": 1.2,
}


@dataclass(frozen=True)
class Mistake:
    """One cell the publisher printed wrongly (on purpose, for the dev set)."""

    key: str
    printed: int
    consistent: int

    def describe(self, template: Template, merged_other: bool = False) -> str:
        """A gold-notes sentence naming the cell and the identities it breaks."""
        names = [i.name for i in identities(template, merged_other) if self.key in i.keys]
        return (
            f"publisher's mistake injected: {self.key} is printed as "
            f"{self.printed} (the consistent value would be {self.consistent}); "
            f"gold keeps the printed {self.printed}; breaks: " + "; ".join(names)
        )


@dataclass
class ReportValues:
    """The full, true content of one synthetic report before rendering.

    ``fields`` already holds what the document prints (including an injected
    mistake); a renderer may show only part of it (a cut-off document), in
    which case the gold is the shown subset.
    """

    template: Template
    year: int
    agency: Agency
    fields: dict[str, Number]
    mistake: Mistake | None = None
    merged_other: bool = False  # 2021 template printing (六)其他处理 as one row


def _multinomial(rng: random.Random, n: int, weights: Mapping[str, float]) -> dict[str, int]:
    """Split ``n`` items among the weighted names (zero-weight names get none)."""
    names = [k for k, w in weights.items() if w > 0]
    counts = dict.fromkeys(weights, 0)
    if n <= 0 or not names:
        return counts
    for name in rng.choices(names, [weights[k] for k in names], k=n):
        counts[name] += 1
    return counts


def _table3(rng: random.Random, template: Template, kind: AgencyKind) -> dict[str, int]:
    lo, hi = _SCALE[kind]
    # Quite a few small agencies report an all-zero table.
    handled = 0 if rng.random() < 0.12 else int(lo + (hi - lo) * rng.random() ** 2)
    # A document-wide set of outcome rows that occur at all: most are zero.
    weights: dict[str, float] = {}
    for row in result_rows(template):
        w = _RESULT_WEIGHTS[row]
        always = row in ("granted", "unable_not_held")
        keep = always or rng.random() < min(0.9, 0.12 + w / 12 + handled / 4000)
        weights[row] = w * rng.uniform(0.5, 1.6) if keep else 0.0
    app_w = {c: (w if c == "natural" or rng.random() < 0.55 else 0.0) for c, w in _APPLICANT_WEIGHTS.items()}
    per_col = _multinomial(rng, handled, app_w)
    out: dict[str, int] = {}
    for col in APPLICANT_COLS:
        n = per_col[col]
        res = _multinomial(rng, n, weights)
        for row in result_rows(template):
            out[f"t3.{row}.{col}"] = res[row]
        carried_forward = 0
        carried_over = 0
        if n and rng.random() < 0.5:
            carried_forward = rng.randint(0, max(1, n // 10))
        if n and rng.random() < 0.5:
            carried_over = rng.randint(0, max(1, n // 12))
        carried_over = min(carried_over, n + carried_forward)
        out[f"t3.total.{col}"] = n
        out[f"t3.carried_forward.{col}"] = carried_forward
        out[f"t3.carried_over.{col}"] = carried_over
        out[f"t3.new_received.{col}"] = n + carried_forward - carried_over
    for row in t3_rows(template):
        out[f"t3.{row}.total"] = sum(out[f"t3.{row}.{c}"] for c in APPLICANT_COLS)
    return out


def _table4(rng: random.Random, kind: AgencyKind) -> dict[str, int]:
    big = kind in ("city", "district", "county")
    out: dict[str, int] = {}
    for group in T4_GROUPS:
        active = rng.random() < (0.7 if big else 0.25)
        cells = []
        for col in T4_COLS[:4]:
            top = {"upheld": 12, "corrected": 3, "other": 5, "pending": 4}[col]
            if not big:
                top = max(1, top // 4)
            cells.append(rng.randint(0, top) if active and rng.random() < 0.6 else 0)
        for col, v in zip(T4_COLS[:4], cells, strict=True):
            out[f"t4.{group}.{col}"] = v
        out[f"t4.{group}.total"] = sum(cells)
    return out


def _count(rng: random.Random, top: int, p_zero: float = 0.4) -> int:
    """A skewed non-negative count: often zero, sometimes close to ``top``."""
    if top <= 0 or rng.random() < p_zero:
        return 0
    return int(top * rng.random() ** 3) + (1 if rng.random() < 0.5 else 0)


def _amount(rng: random.Random, top: float) -> Number:
    """A money amount: zero, a whole number, or a decimal with 1–4 places."""
    r = rng.random()
    if r < 0.3:
        return 0
    value = top * rng.random() ** 2 + 0.1
    if r < 0.5:
        return int(value) + 1
    places = rng.randint(1, 4)
    rounded = round(value, places)
    if rounded == int(rounded):
        return int(rounded)
    return rounded


def _table2(rng: random.Random, template: Template, kind: AgencyKind) -> dict[str, Number]:
    city = kind == "city"
    small = kind in ("street", "township")
    scale = {"street": 60, "township": 300, "county": 40000, "district": 60000, "city": 600000, "bureau": 20000}[kind]
    out: dict[str, Number] = {}
    if template == "2021":
        issued = _count(rng, 9) if city else 0
        out["t2.rules.issued"] = issued
        out["t2.rules.repealed"] = _count(rng, 4) if city else 0
        out["t2.rules.in_force"] = issued + (rng.randint(30, 260) if city else 0)
        n_issued = _count(rng, 6 if small else 70, 0.3)
        out["t2.normative.issued"] = n_issued
        out["t2.normative.repealed"] = _count(rng, 3 if small else 25)
        out["t2.normative.in_force"] = n_issued + _count(rng, 10 if small else 400, 0.2)
        out["t2.licensing.decisions"] = _count(rng, scale, 0.25)
        out["t2.penalty.decisions"] = _count(rng, scale // 3, 0.3)
        out["t2.coercion.decisions"] = _count(rng, scale // 40, 0.5)
        out["t2.fees.amount"] = 0 if small else _amount(rng, 40000 if city else 3000)
        return out
    made = _count(rng, 9) if city else 0
    out["t2.rules.made"] = made
    out["t2.rules.published"] = made if rng.random() < 0.8 else _count(rng, made, 0)
    out["t2.rules.total"] = made + (rng.randint(20, 500) if city else 0)
    n_made = _count(rng, 6 if small else 70, 0.3)
    out["t2.normative.made"] = n_made
    out["t2.normative.published"] = n_made if rng.random() < 0.8 else _count(rng, n_made, 0)
    out["t2.normative.total"] = n_made + _count(rng, 10 if small else 400, 0.2)
    for item, top_items, top_dec in (
        ("licensing", 900, scale),
        ("other_services", 300, scale // 5),
        ("penalty", 3000, scale // 3),
        ("coercion", 200, scale // 40),
    ):
        prev = _count(rng, 20 if small else top_items, 0.35)
        out[f"t2.{item}.prev_items"] = prev
        change = 0
        if prev and rng.random() < 0.5:
            change = rng.randint(-min(prev, max(1, prev // 4)), max(1, prev // 6))
        out[f"t2.{item}.change"] = change
        out[f"t2.{item}.decisions"] = _count(rng, top_dec, 0.3)
    fees_prev = _count(rng, 3 if small else 60, 0.4)
    out["t2.fees.prev_items"] = fees_prev
    out["t2.fees.change"] = rng.randint(-min(fees_prev, 5), 3) if fees_prev else 0
    out["t2.procurement.items"] = _count(rng, 5 if small else 200, 0.4)
    amount: Number = 0
    while out["t2.procurement.items"] and not amount:
        amount = _amount(rng, 50 if small else 90000)
    out["t2.procurement.amount"] = amount
    return out


def random_values(
    rng: random.Random, template: Template, year: int | None = None, agency: Agency | None = None
) -> ReportValues:
    """Draw a complete, consistent report of ``template``.

    Table 3 is built column by column from the outcome rows upward, so that
    the row sums, the column sums and the carried-over balance hold exactly;
    table 4 totals are computed from their groups.
    """
    if year is None:
        year = rng.choice(YEARS[template])
    if agency is None:
        agency = random_agency(rng)
    fields: dict[str, Number] = {}
    fields.update(_table2(rng, template, agency.kind))
    fields.update(_table3(rng, template, agency.kind))
    fields.update(_table4(rng, agency.kind))
    ordered = {k: fields[k] for k in field_keys(template)}
    return ReportValues(template, year, agency, ordered)


def inject_mistake(rng: random.Random, values: ReportValues, keys: tuple[str, ...] | None = None) -> Mistake:
    """Change one table-3/4 cell so that at least one identity breaks.

    Every table-3 cell is in its row identity and every table-4 cell in its
    group identity, so any non-zero change of one such cell breaks a sum.
    The change is recorded in ``values.mistake`` for the gold notes.
    """
    candidates = keys if keys is not None else (t3_keys(values.template, values.merged_other) + T4_KEYS)
    weights = [4.0 if ".total" in k or k.startswith("t3.granted") else 1.0 for k in candidates]
    key = rng.choices(list(candidates), weights)[0]
    old = int(values.fields[key])
    delta = rng.choice([d for d in (-3, -2, -1, 1, 2, 3, 5, 10) if old + d >= 0])
    values.fields[key] = old + delta
    values.mistake = Mistake(key, old + delta, old)
    return values.mistake
