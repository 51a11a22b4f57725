"""Character-level traditional→simplified mapping, built once from zhconv's dictionary.

Readers only need to *match* labels, so a one-to-one character map is enough, and being
one-to-one it keeps every character offset of the source intact.
"""

from __future__ import annotations

from functools import cache


@cache
def traditional_to_simplified() -> dict[int, str]:
    from zhconv import zhconv

    zhconv.loaddict()
    table: dict[int, str] = {}
    mapping: dict[str, str] = zhconv.zhcdicts["zh2Hans"]
    for source, target in mapping.items():
        if len(source) == 1 and len(target) == 1 and source != target:
            table[ord(source)] = target
    return table
