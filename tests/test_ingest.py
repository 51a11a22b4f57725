"""Ingest: encodings, HTML grids, normalisation that keeps offsets, and clear errors for bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from extractor.ingest import IngestError, load_bytes, load_path
from extractor.ingest.html import html_to_text
from extractor.ingest.normalize import normalize

REPORT = "某县2022年政府信息公开工作年度报告\n一、本年新收政府信息公开申请数量 | 3 | 0 | 0 | 0 | 0 | 0 | 3\n"


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030", "gbk", "big5", "utf-8-sig"])
def test_decodes_chinese_encodings(encoding: str) -> None:
    text = REPORT if encoding != "big5" else "某縣2022年政府資訊公開工作年度報告\n本年新收政府資訊公開申請數量 | 3\n"
    doc = load_bytes(text.encode(encoding), "r.txt")
    assert "年度报告" in doc.normalized or "年度報告" in doc.text
    assert doc.text.replace("\ufeff", "") == text


def test_normalize_keeps_every_offset() -> None:
    raw = "項(xiàng)目 １２３ 總計\u00a0，（一）"
    out = normalize(raw)
    assert len(out) == len(raw)
    assert "123" in out and "总计" in out and "xiàng" not in out
    assert out.index("123") == raw.index("１２３")


def test_html_table_is_a_grid_with_empty_cells_kept() -> None:
    html = (
        "<p>政府信息公开</p><table><tr><td rowspan='2'>三、本年度办理结果</td><td>(一)予以公开</td>"
        "<td>5</td><td></td><td>&nbsp;</td><td>5</td></tr>"
        "<tr><td colspan='2'>(二)部分公开</td><td>0</td><td>0</td><td>0</td></tr></table>"
    )
    lines = html_to_text(html).splitlines()
    assert lines[1] == "| 三、本年度办理结果 | (一)予以公开 | 5 | | | 5 |"
    assert lines[2] == "| (二)部分公开 | 0 | 0 | 0 |"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty"),
        (b"   \n\n", "empty"),
        (b"\x00\x01\x02\x03binary\x00", "binary"),
        (b"%PDF-1.7 ...", "corrupt"),
        (b"PK\x03\x04 a zip or docx", "unsupported"),
        ("这是一份关于天气的说明，与政府无关。".encode(), "not_a_report"),
    ],
)
def test_bad_input_gets_a_clear_error(data: bytes, code: str) -> None:
    with pytest.raises(IngestError) as info:
        load_bytes(data, "bad.txt")
    assert info.value.code == code
    assert "\n" not in str(info.value)


def test_wrong_encoding_garbage_is_rejected() -> None:
    garbage = bytes(range(0x80, 0x100)) * 20
    with pytest.raises(IngestError):
        load_bytes(garbage, "x.txt")


def test_oversized_file_is_refused_before_reading(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    with big.open("wb") as handle:
        handle.seek(3 * 1024 * 1024)
        handle.write(b"x")
    with pytest.raises(IngestError) as info:
        load_path(big, max_bytes=1024 * 1024)
    assert info.value.code == "too_large"


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(IngestError):
        load_path(tmp_path / "nope.txt")
    with pytest.raises(IngestError):
        load_path(tmp_path)


def test_scanned_pdf_without_text_layer_is_refused_clearly(tmp_path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure()
    axes = fig.add_axes((0, 0, 1, 1))
    axes.imshow([[0, 1], [1, 0]])
    axes.axis("off")
    scan = tmp_path / "scan.pdf"
    fig.savefig(scan)
    plt.close(fig)
    with pytest.raises(IngestError) as info:
        load_path(scan)
    # scans are read by OCR now (tests/test_scan.py): a picture with no report in it is refused in one line
    assert info.value.code in ("no_text_layer", "not_a_report")
    assert "\n" not in str(info.value)


def test_html_comments_and_xml_declaration() -> None:
    text = html_to_text('<?xml version="1.0" encoding="utf-8"?><html><p>a</p><!-- secret 123 --><p>b</p></html>')
    assert text.splitlines() == ["a", "b"]


def test_utf16_with_bom_is_text() -> None:
    doc = load_bytes(REPORT.encode("utf-16"), "r.txt")
    assert doc.encoding == "utf-16" and "本年新收" in doc.normalized


# --- damaged text is read, not refused -------------------------------------------------------

DAMAGED_REPORT = REPORT + "二、上年结转政府信息公开申请数量 | 1 | 0 | 0 | 0 | 0 | 0 | 1\n" * 20
BIG5_REPORT = "某縣2022年政府資訊公開工作年度報告\n" + "本年新收政府資訊公開申請數量 | 3 | 0 | 3\n" * 20


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030", "big5"])
def test_one_bad_byte_is_replaced_not_refused(encoding: str) -> None:
    text = DAMAGED_REPORT if encoding != "big5" else BIG5_REPORT
    data = bytearray(text.encode(encoding))
    at = len(text[:10].encode(encoding))  # the first byte of 政
    data[at] = 0xFF
    doc = load_bytes(bytes(data), "r.txt")
    assert doc.encoding == encoding
    assert doc.replaced and doc.text[doc.replaced[0][0]] == "\ufffd"
    assert "could not be read" in doc.damage
    # everything after the damage decodes as it was
    assert doc.text.endswith(text[-40:])
    assert len(doc.text) == len(doc.normalized)


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030", "big5"])
def test_a_file_cut_mid_character_decodes(encoding: str) -> None:
    text = (BIG5_REPORT if encoding == "big5" else REPORT) + "附件"
    doc = load_bytes(text.encode(encoding)[:-1], "r.txt")
    assert doc.encoding == encoding and doc.truncated
    left = len(text[-1].encode(encoding)) - 1  # the bytes of the cut character that remain
    assert doc.text == text[:-1] + "\ufffd" * left
    assert doc.replaced == ((len(text) - 1, len(text) - 1 + left),)
    assert "middle of a character" in doc.damage


def test_nul_bytes_in_a_text_are_replaced_and_counted() -> None:
    data = DAMAGED_REPORT.encode()
    damaged = data[:40] + b"\x00" * 6 + data[40:]
    doc = load_bytes(damaged, "r.txt")
    assert "\x00" not in doc.text
    assert doc.replaced == ((len(data[:40].decode()), len(data[:40].decode()) + 6),)
    assert "6 NUL or control byte(s)" in doc.damage


def test_a_zero_filled_tail_is_dropped_as_a_stopped_download() -> None:
    doc = load_bytes(DAMAGED_REPORT.encode() + b"\x00" * 5000, "r.txt")
    assert doc.text == DAMAGED_REPORT and doc.truncated and "5000 zero bytes" in doc.damage


def test_a_clean_file_records_no_damage() -> None:
    doc = load_bytes(DAMAGED_REPORT.encode("gb18030"), "r.txt")
    assert doc.replaced == () and doc.damage == "" and not doc.truncated


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (bytes(range(256)) * 40, "binary"),  # every byte value: far more than 5 % control bytes
        (b"\x7fELF\x02\x01\x01" + b"\x00" * 200 + REPORT.encode() * 3, "binary"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + REPORT.encode(), "unsupported"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "corrupt"),  # images are read by OCR now: a broken one is corrupt
    ],
)
def test_a_real_binary_is_still_refused(data: bytes, code: str) -> None:
    with pytest.raises(IngestError) as info:
        load_bytes(data, "x.txt")
    assert info.value.code == code
    assert "\n" not in str(info.value)


def test_a_file_no_encoding_fits_is_refused_as_encoding() -> None:
    # high bytes that no report encoding reads for more than 95 % of the file, and no control bytes
    noise = bytes((0x80 + (i * 37) % 0x7F) for i in range(4000))
    with pytest.raises(IngestError) as info:
        load_bytes(REPORT.encode() + noise, "x.txt")
    assert info.value.code in ("encoding", "not_a_report")


def test_decode_with_replacement_keeps_every_clean_character() -> None:
    """Property: whatever bytes are damaged, the text outside the replaced spans is the original's,
    in order, and every replaced character is U+FFFD."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from extractor.ingest.decode import decode

    original = DAMAGED_REPORT.encode()

    @settings(max_examples=200, deadline=None)
    @given(st.lists(st.tuples(st.integers(0, len(original) - 1), st.integers(0, 255)), min_size=1, max_size=4))
    def check(flips: list[tuple[int, int]]) -> None:
        data = bytearray(original)
        for at, value in flips:
            data[at] = value
        decoded = decode(bytes(data))
        if decoded.encoding != "utf-8":
            return  # a flip made the file look like another encoding: still decoded, nothing to compare
        kept = "".join(char for char in decoded.text if char != "\ufffd")
        clean = bytes(data).decode("utf-8", errors="ignore")
        clean = "".join(char for char in clean if char >= " " or char in "\t\n\r\x0b\x0c")
        assert kept == clean
        assert decoded.replaced_bytes == decoded.text.count("\ufffd")

    check()
