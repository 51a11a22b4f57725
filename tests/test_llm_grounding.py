"""Grounding: a number the LLM returns counts only if it is printed where its row puts it."""

from __future__ import annotations

from extractor.readers.llm.grounding import ground_row

TABLE = "行政规范性文件 9 0 48\n其他主动公开文件 16 0 644\n第二十条第（五）项\n"
ROW = (0, TABLE.index("第二十条"))  # the window runs to the next known label, past an unlisted row


def _reasons(values: list[int | None], text: str = TABLE, window: tuple[int, int] = ROW) -> list[str]:
    return [g.reason if g is not None else "null" for g in ground_row(text, window, list(values), 3)]


def test_the_rows_own_cells_are_grounded_with_their_spans() -> None:
    groundings = ground_row(TABLE, ROW, [9, 0, 48], 3)
    assert all(g is not None and g.grounded for g in groundings)
    assert [TABLE[g.span[0] : g.span[1]] for g in groundings if g and g.span] == ["9", "0", "48"]


def test_numbers_copied_from_an_unlisted_row_below_are_not_grounded() -> None:
    reasons = _reasons([16, 0, 644])
    assert reasons[0] and reasons[2], reasons  # 16 and 644 are printed, but on another line


def test_an_invented_number_is_not_grounded_and_a_null_stays_null() -> None:
    reasons = _reasons([9, None, 47])
    assert reasons[0] == "" and reasons[1] == "null" and "47" in reasons[2]


def test_run_together_digits_must_be_spelled_by_the_values() -> None:
    text = "行政规范性文件9048\n"  # digits glued to the label: cells run together
    window = (0, len(text))
    assert _reasons([9, 0, 48], text, window) == ["", "", ""]
    assert _reasons([90, 4, 8], text, window) == ["", "", ""]  # any split that spells them passes: sums judge it
    assert all("spell" in r for r in _reasons([9, 0, 47], text, window))
