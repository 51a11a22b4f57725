"""Word files: DOCX read in reading order with merged cells written once; bad files refused in one line."""

from __future__ import annotations

import io
import json
import os
import random
import stat
import struct
import sys
import zipfile
from pathlib import Path

import docx
import pytest
from docx.document import Document as DocxDocument
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls

from evals.gold import load_cases
from evals.score import score
from evals.synth.layouts import HEADINGS, Options, build_tables, emit_html, plain
from evals.synth.values import Agency, ReportValues
from evals.word_bench import MESSY, gold_docx, html_docx
from extractor.ingest import IngestError, load_bytes, word_convert, word_package
from extractor.ingest.html import html_to_text
from extractor.ingest.word import legacy_word_document, word_document
from extractor.ingest.word_numbering import chinese_number
from extractor.pipeline import extract
from tests.helpers import DEV_DATA, SHARED_REAL

needs_shared = pytest.mark.skipif(not SHARED_REAL.exists(), reason="shared benchmark not beside the checkout")
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _bytes(document: DocxDocument) -> bytes:
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _rows(text: str) -> list[str]:
    """Table rows with the builder's empty cells (`|  |`) written as HTML writes them (`| |`)."""
    rows = [line for line in text.splitlines() if line.startswith("|")]
    return [" ".join(row.split()) for row in rows]


def _report_table(document: DocxDocument) -> None:
    """A table-3 fragment: a row-group label merged down three rows, a label merged across two columns."""
    table = document.add_table(rows=5, cols=5)
    table.cell(0, 0).merge(table.cell(0, 1)).text = "项目"
    for col, head in enumerate(("自然人", "商业企业", "总计"), start=2):
        table.cell(0, col).text = head
    table.cell(1, 0).merge(table.cell(1, 1)).text = "一、本年新收政府信息公开申请数量"
    group = table.cell(2, 0).merge(table.cell(4, 0))
    group.text = "三、本年度办理结果"
    for row, (label, values) in enumerate(
        (("(一)予以公开", ("7", "", "7")), ("(二)部分公开", ("2", "1", "3")), ("(三)不予公开", ("0", "0", "0"))),
        start=2,
    ):
        table.cell(row, 1).text = label
        for col, value in enumerate(values, start=2):
            table.cell(row, col).text = value
    for col, value in enumerate(("12", "3", "15"), start=2):
        table.cell(1, col).text = value


def test_merged_cells_are_written_once_where_they_start() -> None:
    document = docx.Document()
    document.add_paragraph("三、收到和处理政府信息公开申请情况")
    _report_table(document)
    document.add_paragraph("四、政府信息公开行政复议、行政诉讼情况")
    text = word_document(_bytes(document)).text
    assert text.splitlines() == [
        "三、收到和处理政府信息公开申请情况",
        "| 项目 | 自然人 | 商业企业 | 总计 |",
        "| 一、本年新收政府信息公开申请数量 | 12 | 3 | 15 |",
        "| 三、本年度办理结果 | (一)予以公开 | 7 |  | 7 |",
        "| (二)部分公开 | 2 | 1 | 3 |",
        "| (三)不予公开 | 0 | 0 | 0 |",
        "四、政府信息公开行政复议、行政诉讼情况",
    ]


def test_python_docx_row_cells_would_repeat_the_merged_cells() -> None:
    """Why the walk reads the XML: python-docx's own cells list a merged cell once per grid column."""
    document = docx.Document()
    _report_table(document)
    table = document.tables[0]
    assert [cell.text for cell in table.rows[3].cells][:2] == ["三、本年度办理结果", "(二)部分公开"]
    assert [cell.text for cell in table.rows[1].cells][:2] == ["一、本年新收政府信息公开申请数量"] * 2
    rows = _rows(word_document(_bytes(document)).text)
    assert sum(row.count("三、本年度办理结果") for row in rows) == 1
    assert sum(row.count("一、本年新收政府信息公开申请数量") for row in rows) == 1


def test_a_word_table_reads_as_the_same_html_table() -> None:
    """The table readers meet the same rows whether the report came as HTML or as Word."""
    html = (
        "<table><tr><td colspan='2'>项目</td><td>自然人</td><td>商业企业</td><td>总计</td></tr>"
        "<tr><td colspan='2'>一、本年新收政府信息公开申请数量</td><td>12</td><td>3</td><td>15</td></tr>"
        "<tr><td rowspan='3'>三、本年度办理结果</td><td>(一)予以公开</td><td>7</td><td></td><td>7</td></tr>"
        "<tr><td>(二)部分公开</td><td>2</td><td>1</td><td>3</td></tr>"
        "<tr><td>(三)不予公开</td><td>0</td><td>0</td><td>0</td></tr></table>"
    )
    document = docx.Document()
    _report_table(document)
    assert _rows(word_document(_bytes(document)).text) == _rows(html_to_text(html))


def test_paragraphs_and_tables_keep_their_order() -> None:
    document = docx.Document()
    document.add_paragraph("第一段")
    document.add_table(rows=1, cols=2).rows[0].cells[0].text = "甲"
    document.add_paragraph("第二段\t有制表符")
    second = document.add_table(rows=1, cols=1)
    second.cell(0, 0).text = "乙"
    second.cell(0, 0).add_paragraph("丙")  # two paragraphs of one cell: one Chinese word
    document.add_paragraph("")  # an empty paragraph writes no line
    document.add_paragraph("第三段")
    lines = word_document(_bytes(document)).text.splitlines()
    assert lines == ["第一段", "| 甲 |  |", "第二段 有制表符", "| 乙丙 |", "第三段"]


def test_a_table_inside_a_frame_table_is_a_grid_of_its_own() -> None:
    document = docx.Document()
    frame = document.add_table(rows=1, cols=1).cell(0, 0)
    frame.paragraphs[0].text = "表格说明"
    inner = frame.add_table(rows=2, cols=2)
    inner.cell(0, 0).merge(inner.cell(0, 1)).text = "行政复议"
    inner.cell(1, 0).text = "1"
    inner.cell(1, 1).text = "2"
    frame.add_paragraph("表后文字")
    assert word_document(_bytes(document)).text.splitlines() == ["表格说明", "| 行政复议 |", "| 1 | 2 |", "表后文字"]


def test_content_controls_deleted_text_and_fallback_copies() -> None:
    """A table in a content control is read; deleted revisions, hidden text and mc:Fallback copies are not."""
    document = docx.Document()
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "规章"
    table.cell(0, 1).text = "5"
    tbl = table._tbl
    sdt = parse_xml(f"<w:sdt {nsdecls('w')}><w:sdtPr/><w:sdtContent/></w:sdt>")
    tbl.addprevious(sdt)
    sdt[1].append(tbl)  # into w:sdtContent
    paragraph = document.add_paragraph("共")
    paragraph._p.append(
        parse_xml(f'<w:del {nsdecls("w")} w:id="1" w:author="a"><w:r><w:delText>删掉的</w:delText></w:r></w:del>')
    )
    paragraph._p.append(
        parse_xml(
            '<mc:AlternateContent xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
            f'{nsdecls("w")}><mc:Choice Requires="wps"><w:r><w:t>3件</w:t></w:r></mc:Choice>'
            "<mc:Fallback><w:r><w:t>3件</w:t></w:r></mc:Fallback></mc:AlternateContent>"
        )
    )
    hidden = paragraph.add_run("(隐藏的批注)")
    hidden.font.hidden = True
    deleted = table.add_row()  # a row deleted with changes tracked: its emptied cells are no zeros
    deleted._tr.get_or_add_trPr().append(parse_xml(f'<w:del {nsdecls("w")} w:id="2" w:author="a"/>'))
    assert word_document(_bytes(document)).text.splitlines() == ["| 规章 | 5 |", "共3件"]


def _numbered(document: DocxDocument) -> None:
    """A Chinese list: level 0 `一、`, level 1 `（一）`, as a report template numbers its headings."""
    numbering = document.part.numbering_part.element
    numbering.insert(
        0,
        parse_xml(
            f'<w:abstractNum {nsdecls("w")} w:abstractNumId="90">'
            '<w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/>'
            '<w:lvlText w:val="%1、"/></w:lvl>'
            '<w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/>'
            '<w:lvlText w:val="（%2）"/></w:lvl></w:abstractNum>'
        ),
    )
    for num_id in ("90", "91"):  # two instances of one list: Word counts on across them
        numbering.append(parse_xml(f'<w:num {nsdecls("w")} w:numId="{num_id}"><w:abstractNumId w:val="90"/></w:num>'))
    numbering.append(  # an instance that restarts the list
        parse_xml(
            f'<w:num {nsdecls("w")} w:numId="92"><w:abstractNumId w:val="90"/>'
            '<w:lvlOverride w:ilvl="0"><w:startOverride w:val="1"/></w:lvlOverride></w:num>'
        )
    )


def _list_item(document: DocxDocument, text: str, level: int, num_id: str = "90") -> None:
    paragraph = document.add_paragraph(text)
    paragraph._p.get_or_add_pPr().append(
        parse_xml(f'<w:numPr {nsdecls("w")}><w:ilvl w:val="{level}"/><w:numId w:val="{num_id}"/></w:numPr>')
    )


def test_automatic_list_labels_are_written_into_the_text() -> None:
    document = docx.Document()
    _numbered(document)
    items = (("总体情况", 0, "90"), ("主动公开", 1, "90"), ("依申请公开", 1, "90"), ("主动公开政府信息情况", 0, "91"),
             ("规章", 1, "91"), ("另一份报告", 0, "92"))  # fmt: skip
    for text, level, num_id in items:
        _list_item(document, text, level, num_id)
    document.add_paragraph("不编号")
    assert word_document(_bytes(document)).text.splitlines() == [
        "一、总体情况",
        "（一）主动公开",
        "（二）依申请公开",
        "二、主动公开政府信息情况",
        "（一）规章",
        "一、另一份报告",
        "不编号",
    ]


@pytest.mark.parametrize(("n", "written"), [(1, "一"), (10, "十"), (12, "十二"), (20, "二十"), (105, "一百零五")])
def test_chinese_counting(n: int, written: str) -> None:
    assert chinese_number(n) == written


# --- whole reports ------------------------------------------------------------------------------


def _case(name: str) -> tuple[str, dict[str, object], Path]:
    case = next(c for c in load_cases(SHARED_REAL) if c.name == name)
    return case.document.read_text(encoding="utf-8"), case.gold, case.document


@needs_shared
@pytest.mark.parametrize("name", ["seed-dongtonghua-2020", "real-pingtan-2024", "real-shuyang-county-2025"])
def test_a_real_report_rebuilt_as_word_reads_every_gold_value(name: str) -> None:
    """The report's own prose, its three tables as Word tables (merged group labels): every cell right."""
    text, gold, _ = _case(name)
    doc = load_bytes(gold_docx(text, gold), f"{name}.docx")
    assert doc.kind == "docx"
    flat = extract(doc).flat()
    result = score(name, flat, gold)
    assert result.template_ok
    assert result.correct == result.gold_fields, (result.silent_keys, result.false_flag_keys)
    assert result.invented == 0
    assert result.false_flags == 0


@needs_shared
def test_a_real_html_report_as_word_reads_as_the_html() -> None:
    """Shanghai 2019's real tables (rowspan/colspan → Word merges): same cells and flags as the HTML."""
    text, gold, path = _case("real-shanghai-office-2019")
    from_word = extract(load_bytes(html_docx(text), "shanghai.docx")).flat()
    from_html = extract(load_bytes(path.read_bytes(), path.name)).flat()
    assert from_word["fields"] == gold["fields"] == from_html["fields"]
    assert from_word["flags"].keys() == from_html["flags"].keys()


def test_a_word_file_without_a_report_is_refused() -> None:
    document = docx.Document()
    document.add_paragraph("会议纪要：关于食堂菜单的讨论。")
    with pytest.raises(IngestError) as info:
        load_bytes(_bytes(document), "minutes.docx")
    assert info.value.code == "not_a_report"


# --- bad files ----------------------------------------------------------------------------------


def _zip(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def _refused(data: bytes) -> IngestError:
    with pytest.raises(IngestError) as info:
        load_bytes(data, "upload.docx")
    assert "\n" not in str(info.value)
    return info.value


def _simple_docx() -> bytes:
    document = docx.Document()
    document.add_paragraph("政府信息公开工作年度报告")
    return _bytes(document)


@pytest.mark.parametrize(
    ("members", "code", "words"),
    [
        ({"a.txt": b"hello", "b/c.html": b"<p>x</p>"}, "unsupported", "a zip archive, not a Word document"),
        ({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"}, "unsupported", "Excel workbook"),
        ({"[Content_Types].xml": b"<Types/>", "ppt/presentation.xml": b"<p/>"}, "unsupported", "PowerPoint"),
        ({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<x/>"}, "unsupported", "OpenDoc"),
        ({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"}, "corrupt", "damaged"),
    ],
)
def test_a_zip_that_is_not_a_word_document_says_what_it_is(members: dict[str, bytes], code: str, words: str) -> None:
    error = _refused(_zip(members))
    assert error.code == code
    assert words in str(error)


def test_a_docx_cut_short_is_damaged() -> None:
    error = _refused(_simple_docx()[:3000])
    assert error.code == "corrupt"


def test_a_docx_with_damaged_bytes_is_damaged() -> None:
    data = bytearray(_simple_docx())
    archive = zipfile.ZipFile(io.BytesIO(bytes(data)))
    info = archive.getinfo("word/document.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for i in range(start + 10, start + info.compress_size - 10, 7):
        data[i] ^= 0x5A
    error = _refused(bytes(data))
    assert error.code == "corrupt"
    assert "word/document.xml" in str(error)


def test_a_docx_whose_main_part_is_not_xml_is_damaged() -> None:
    good = zipfile.ZipFile(io.BytesIO(_simple_docx()))
    members = {name: good.read(name) for name in good.namelist()}
    members["word/document.xml"] = b"<w:document><w:body><w:p>unclosed"
    assert _refused(_zip(members)).code == "corrupt"


def test_a_zip_bomb_is_refused_by_its_ratio() -> None:
    good = zipfile.ZipFile(io.BytesIO(_simple_docx()))
    members = {name: good.read(name) for name in good.namelist()}
    members["word/media/image1.bin"] = bytes(4 * 1024 * 1024)  # 4 MB of zeros deflate ~1000×
    error = _refused(_zip(members))
    assert error.code == "unsafe_zip"
    assert "image1.bin" in str(error)


def test_a_zip_bomb_is_refused_by_its_declared_size() -> None:
    """A central directory that declares 300 MB is refused before anything is inflated."""
    data = bytearray(_simple_docx())
    directory = data.rfind(b"PK\x01\x02")
    struct.pack_into("<I", data, directory + 24, 300 * 1024 * 1024)
    error = _refused(bytes(data))
    assert error.code == "unsafe_zip"
    assert "would inflate to 30" in str(error)


def test_members_are_inflated_in_a_bounded_way(monkeypatch: pytest.MonkeyPatch) -> None:
    """What really comes out is counted: a limit lower than the real content stops the inflating."""
    good = zipfile.ZipFile(io.BytesIO(_simple_docx()))
    members = {name: good.read(name) for name in good.namelist()}
    members["word/media/image1.png"] = os.urandom(300_000)
    data = _zip(members, zipfile.ZIP_STORED)
    declared = sum(info.file_size for info in zipfile.ZipFile(io.BytesIO(data)).infolist())
    monkeypatch.setattr(word_package, "_check_declared_sizes", lambda infos: None)  # as if the headers lied
    monkeypatch.setattr(word_package, "MAX_INFLATED_BYTES", declared - 1000)
    error = _refused(data)
    assert error.code == "unsafe_zip"
    assert "inflates past" in str(error)


def _ole(*streams: str) -> bytes:
    """Enough of an OLE compound file to be sniffed as one, with these stream names in it."""
    return OLE_MAGIC + bytes(504) + b"".join(name.encode("utf-16-le").ljust(128, b"\0") for name in streams)


def test_a_password_protected_docx_is_named_as_such() -> None:
    error = _refused(_ole("Root Entry", "EncryptionInfo", "EncryptedPackage"))
    assert error.code == "encrypted"
    assert "password" in str(error)


def test_an_old_excel_file_is_named_as_such() -> None:
    error = _refused(_ole("Root Entry", "Workbook"))
    assert error.code == "unsupported"
    assert "Excel" in str(error)


def test_an_old_word_file_without_libreoffice_says_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    error = _refused(_ole("Root Entry", "WordDocument", "1Table"))
    assert error.code == "unsupported"
    assert str(error) == word_convert.NO_LIBREOFFICE


def _fake_soffice(folder: Path, body: str) -> None:
    """A `soffice` on PATH: a Python script that does what `body` says with LibreOffice's arguments."""
    script = folder / "soffice"
    script.write_text(f"#!{sys.executable}\nimport os, sys, time\nargs = sys.argv[1:]\n{body}\n", encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)


def test_an_old_word_file_is_converted_by_libreoffice(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    converted = docx.Document()
    converted.add_paragraph("政府信息公开工作年度报告")
    _report_table(converted)
    made = tmp_path / "made.docx"
    made.write_bytes(_bytes(converted))
    seen = tmp_path / "args.json"
    _fake_soffice(
        tmp_path,
        "import json, shutil\n"
        f"json.dump(args, open({str(seen)!r}, 'w'))\n"
        "out = args[args.index('--outdir') + 1]\n"
        "os.makedirs(out, exist_ok=True)\n"
        "stem = os.path.splitext(os.path.basename(args[-1]))[0]\n"
        f"shutil.copy({str(made)!r}, os.path.join(out, stem + '.docx'))",
    )
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ.get('PATH', '')}")
    text = legacy_word_document(_ole("Root Entry", "WordDocument")).text
    assert "| 三、本年度办理结果 | (一)予以公开 | 7 |  | 7 |" in text.splitlines()
    args = json.loads(seen.read_text(encoding="utf-8"))
    assert "--headless" in args
    assert args[args.index("--convert-to") + 1].startswith("docx")
    assert not Path(args[-1]).exists()  # the temporary folder is gone


def test_a_failed_conversion_is_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _fake_soffice(tmp_path, "sys.exit(1)")
    monkeypatch.setenv("PATH", str(tmp_path))
    error = _refused(_ole("Root Entry", "WordDocument"))
    assert error.code == "corrupt"
    assert "could not convert" in str(error)


def test_a_stuck_conversion_is_killed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    _fake_soffice(tmp_path, f"open({str(pid_file)!r}, 'w').write(str(os.getpid()))\ntime.sleep(60)")
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(word_convert, "CONVERT_SECONDS", 1.0)
    error = _refused(_ole("Root Entry", "WordDocument"))
    assert error.code == "timeout"
    with pytest.raises(ProcessLookupError):  # the converter was killed, not left running
        os.kill(int(pid_file.read_text()), 0)


def test_damaged_word_files_end_in_one_line_errors() -> None:
    """Bytes flipped or cut anywhere: the file reads, or is refused with an IngestError, never a traceback."""
    document = docx.Document()
    document.add_paragraph("政府信息公开工作年度报告")
    _report_table(document)
    good = _bytes(document)
    rng = random.Random(7)
    codes: set[str] = set()
    for i in range(60):
        data = bytearray(good[: rng.randrange(30, len(good))] if i % 2 else good)
        for _ in range(rng.randint(1, 12)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        try:
            load_bytes(bytes(data), "damaged.docx")
        except IngestError as error:
            assert "\n" not in str(error)
            codes.add(error.code)
    assert "corrupt" in codes


@pytest.mark.parametrize("options", [Options(), MESSY], ids=["standard", "messy"])
def test_a_whole_report_reads_the_same_from_word_and_from_html(options: Options) -> None:
    """One table model (a real report's gold values) printed as HTML and as Word: same cells, same flags."""
    case = next(c for c in load_cases(DEV_DATA / "real") if c.name == "real-pingtan-2021")
    gold = case.gold
    values = ReportValues(gold["template"], gold["year"], Agency("平潭综合实验区管委会", "city"), dict(gold["fields"]))
    tables = build_tables(values, plain, options, random.Random(0))
    html = "<p>平潭综合实验区2021年政府信息公开工作年度报告</p>" + "".join(
        f"<p>{HEADINGS[t.name]}</p>{emit_html(t, 'none', '')}" for t in tables
    )
    text = case.document.read_text(encoding="utf-8")
    from_html = extract(load_bytes(f"<html><body>{html}</body></html>".encode(), "copy.html")).flat()
    from_word = extract(load_bytes(gold_docx(text, gold, options), "copy.docx")).flat()
    assert from_word["fields"] == from_html["fields"]
    assert from_word["flags"].keys() == from_html["flags"].keys()
    assert score(case.name, from_word, gold).correct == len(gold["fields"])


def _rewritten(data: bytes, part: str, old: bytes, new: bytes) -> bytes:
    archive = zipfile.ZipFile(io.BytesIO(data))
    members = {name: archive.read(name) for name in archive.namelist()}
    assert old in members[part]
    members[part] = members[part].replace(old, new)
    return _zip(members)


def _table_docx() -> bytes:
    document = docx.Document()
    document.add_paragraph("政府信息公开工作年度报告")
    _report_table(document)
    return _bytes(document)


@pytest.mark.parametrize(
    "content_type",
    [
        "application/vnd.ms-word.document.macroEnabled.main+xml",
        "application/vnd.ms-word.template.macroEnabledTemplate.main+xml",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml",
    ],
    ids=["docm", "dotm", "dotx"],
)
def test_macro_documents_and_templates_read_like_documents(content_type: str) -> None:
    main = b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    data = _rewritten(_table_docx(), "[Content_Types].xml", main, content_type.encode())
    assert "| (二)部分公开 | 2 | 1 | 3 |" in word_document(data).text.splitlines()


def test_strict_open_xml_is_named_as_such() -> None:
    data = _rewritten(
        _table_docx(),
        "word/document.xml",
        b"http://schemas.openxmlformats.org/wordprocessingml/2006/main",
        b"http://purl.oclc.org/ooxml/wordprocessingml/main",
    )
    error = _refused(data)
    assert error.code == "unsupported"
    assert "Strict Open XML" in str(error)


def test_a_line_break_inside_a_cell_joins_like_two_paragraphs() -> None:
    document = docx.Document()
    table = document.add_table(rows=1, cols=2)
    run = table.cell(0, 0).paragraphs[0].add_run("本年新")
    run.add_break()
    run.add_text("制作数量")
    table.cell(0, 1).paragraphs[0].add_run("Total").add_break()
    table.cell(0, 1).paragraphs[0].add_run("count")
    assert word_document(_bytes(document)).text == "| 本年新制作数量 | Total count |\n"
