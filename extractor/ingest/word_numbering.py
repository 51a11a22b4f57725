"""Word's automatic list labels (一、 (二) 3. ①), which the text of a paragraph does not hold.

A report typed from a template often numbers its headings and table rows with Word's list
numbering: the `一、` of `一、总体情况`, the `(三)` of `(三)不予公开`, are then drawn by Word and
stored nowhere in the paragraph. The readers find sections and rows by those labels, so they
are rebuilt here from numbering.xml: each list keeps a counter per level, a paragraph advances
its level and resets the deeper ones, and the level's pattern (`%1、`, `（%1）`, `%1.%2`) is
filled in with each level's counter in that level's style. Bullets draw no label.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_VAL = f"{_W}val"
_DIGITS = "零一二三四五六七八九"
_TRADITIONAL_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_HEAVENLY_STEMS = "甲乙丙丁戊己庚辛壬癸"
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
_ROMAN = ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"), (50, "l"), (40, "xl"),
          (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i"))  # fmt: skip


@dataclass(frozen=True)
class Level:
    start: int
    fmt: str
    pattern: str


class Numbering:
    """Labels of numbered paragraphs, in document order: call `label` once per paragraph, in order."""

    def __init__(self, numbering: etree._Element | None = None, styles: etree._Element | None = None) -> None:
        self._levels: dict[str, dict[int, Level]] = {}  # numId → level → its format
        self._counters: dict[str, dict[int, int]] = {}
        self._list_of: dict[str, str] = {}  # numId → the list whose counters it advances
        self._style_numbers: dict[str, tuple[str, int]] = {}
        if numbering is not None:
            self._read_numbering(numbering)
        if styles is not None:
            self._read_styles(styles)

    def label(self, p: etree._Element) -> str:
        """The label Word draws before paragraph `p` ("" for none), advancing its list's counter."""
        numbered = self._number_of(p)
        if numbered is None:
            return ""
        num_id, ilvl = numbered
        levels = self._levels.get(num_id)
        if not levels or ilvl not in levels:
            return ""
        counters = self._counters.setdefault(self._list_of.get(num_id, num_id), {})
        counters[ilvl] = counters.get(ilvl, levels[ilvl].start - 1) + 1
        for deeper in [lvl for lvl in counters if lvl > ilvl]:
            del counters[deeper]
        level = levels[ilvl]
        if level.fmt in ("bullet", "none"):
            return ""
        text = level.pattern
        for lvl, spec in levels.items():
            if f"%{lvl + 1}" in text:
                text = text.replace(f"%{lvl + 1}", _format(counters.get(lvl, spec.start), spec.fmt))
        return text if not text or ord(text[-1]) >= 0x2E80 else text + " "

    def _number_of(self, p: etree._Element) -> tuple[str, int] | None:
        properties = p.find(f"{_W}pPr")
        if properties is None:
            return None
        num_pr = properties.find(f"{_W}numPr")
        style = properties.find(f"{_W}pStyle")
        from_style = self._style_numbers.get(style.get(_VAL, "")) if style is not None else None
        if num_pr is None:
            return from_style
        num_id = _val(num_pr.find(f"{_W}numId"))
        level = _val(num_pr.find(f"{_W}ilvl"))
        if num_id is None:
            num_id = from_style[0] if from_style else None
        if num_id is None or num_id == "0":
            return None
        return num_id, int(level) if level and level.isdigit() else (from_style[1] if from_style else 0)

    def _read_numbering(self, root: etree._Element) -> None:
        abstract: dict[str, dict[int, Level]] = {}
        for element in root.iterfind(f"{_W}abstractNum"):
            abstract[element.get(f"{_W}abstractNumId", "")] = _levels_of(element)
        for num in root.iterfind(f"{_W}num"):
            num_id = num.get(f"{_W}numId", "")
            abstract_id = _val(num.find(f"{_W}abstractNumId")) or ""
            levels = dict(abstract.get(abstract_id, {}))
            # Word continues one list across the num instances of an abstract list; an instance
            # that overrides its start is a list of its own (how a template restarts at 一、).
            if num.find(f"{_W}lvlOverride") is None:
                self._list_of[num_id] = f"abstract:{abstract_id}"
            for override in num.iterfind(f"{_W}lvlOverride"):
                ilvl = int(override.get(f"{_W}ilvl", "0"))
                redefined = override.find(f"{_W}lvl")
                if redefined is not None:
                    levels.update(_levels_of(override))
                start = _val(override.find(f"{_W}startOverride"))
                if start and start.isdigit() and ilvl in levels:
                    old = levels[ilvl]
                    levels[ilvl] = Level(int(start), old.fmt, old.pattern)
            self._levels[num_id] = levels

    def _read_styles(self, root: etree._Element) -> None:
        based_on: dict[str, str] = {}
        own: dict[str, tuple[str, int]] = {}
        for style in root.iterfind(f"{_W}style"):
            style_id = style.get(f"{_W}styleId", "")
            parent = _val(style.find(f"{_W}basedOn"))
            if parent:
                based_on[style_id] = parent
            num_pr = style.find(f"{_W}pPr/{_W}numPr")
            if num_pr is not None:
                num_id = _val(num_pr.find(f"{_W}numId"))
                level = _val(num_pr.find(f"{_W}ilvl")) or "0"
                if num_id:
                    own[style_id] = (num_id, int(level) if level.isdigit() else 0)
        for style_id in {*based_on, *own}:
            seen: set[str] = set()
            current: str | None = style_id
            while current is not None and current not in seen:
                seen.add(current)
                if current in own:
                    if own[current][0] != "0":
                        self._style_numbers[style_id] = own[current]
                    break
                current = based_on.get(current)


def _levels_of(element: etree._Element) -> dict[int, Level]:
    levels: dict[int, Level] = {}
    for lvl in element.iterfind(f"{_W}lvl"):
        start = _val(lvl.find(f"{_W}start")) or "1"
        levels[int(lvl.get(f"{_W}ilvl", "0"))] = Level(
            int(start) if start.isdigit() else 1,
            _val(lvl.find(f"{_W}numFmt")) or "decimal",
            _val(lvl.find(f"{_W}lvlText")) or "",
        )
    return levels


def _val(element: etree._Element | None) -> str | None:
    return None if element is None else element.get(_VAL)


def _format(n: int, fmt: str) -> str:
    """Counter `n` written in Word's number format `fmt` (unknown formats as plain digits)."""
    if fmt in ("chineseCounting", "chineseCountingThousand", "japaneseCounting", "taiwaneseCounting"):
        return chinese_number(n)
    if fmt in ("chineseLegalSimplified", "ideographLegalTraditional"):
        return "".join(_TRADITIONAL_DIGITS[int(d)] for d in str(n))
    if fmt in ("ideographTraditional",) and 1 <= n <= len(_HEAVENLY_STEMS):
        return _HEAVENLY_STEMS[n - 1]
    if fmt in ("decimalEnclosedCircle", "decimalEnclosedCircleChinese") and 1 <= n <= len(_CIRCLED):
        return _CIRCLED[n - 1]
    if fmt in ("upperLetter", "lowerLetter") and n >= 1:
        letter = chr(ord("a") + (n - 1) % 26) * ((n - 1) // 26 + 1)
        return letter.upper() if fmt == "upperLetter" else letter
    if fmt in ("upperRoman", "lowerRoman") and n >= 1:
        roman = _roman(n)
        return roman.upper() if fmt == "upperRoman" else roman
    if fmt == "decimalZero":
        return f"{n:02d}"
    if fmt == "decimalFullWidth":
        return "".join(chr(ord(d) + 0xFEE0) for d in str(n))
    return str(n)


def chinese_number(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十, 105 → 一百零五 (as Word counts up to 9999)."""
    if n <= 0 or n > 9999:
        return str(n)
    parts: list[str] = []
    pending_zero = False
    for unit, name in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit = n // unit % 10
        if digit == 0:
            pending_zero = bool(parts)
            continue
        if pending_zero:
            parts.append("零")
            pending_zero = False
        parts.append(("" if unit == 10 and not parts and digit == 1 else _DIGITS[digit]) + name)
    return "".join(parts)


def _roman(n: int) -> str:
    out = ""
    for value, letters in _ROMAN:
        while n >= value:
            out += letters
            n -= value
    return out
