"""The confidence scale every reader, the combiner and the reconciler speak.

A cell's confidence only goes down as doubts are recorded (`FieldValue.doubt`); a cell below
`FLAG_BELOW` is flagged for review. Named levels keep the readers comparable: a rules placement
"by position" and an LLM value "not grounded" mean the same thing to a reviewer sorting by them.
"""

from __future__ import annotations

from typing import Final

REVIEWED: Final = 1.0  # a reviewer supplied or confirmed the value
CERTAIN: Final = 0.99  # read cleanly where the layout puts it
AGREED: Final = 0.97  # two independent readings agree and a sum confirms the cell
GROUNDED: Final = 0.95  # an LLM value printed where its row and column put it
CHECKED: Final = 0.92  # placed by the layout, and the row's own sum checks it
FLAG_BELOW: Final = 0.9  # below this a cell is flagged
SETTLED: Final = 0.9  # two readings disagreed and the sums chose this one
PROBABLE: Final = 0.85  # placed by its position in the table: most likely right
IN_BROKEN_SUM: Final = 0.7  # part of a sum that fails, but not the cell that breaks it
UNVERIFIED: Final = 0.6  # plausible, and nothing checks it
EVEN: Final = 0.5  # as likely wrong as right (an inferred value, a label at odds with its place)
DOUBTFUL: Final = 0.4  # one guess among several
SUSPECT: Final = 0.3  # probably wrong: not in the text, impossible for its column, or blamed by the sums
NONE: Final = 0.0  # no value at all
