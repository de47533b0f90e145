"""Export formats (CSV, gzip, stdin/stdout), resume after a kill, and property tests of the readers."""

import csv
import gzip
import io
import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from commentnlp import exports
from commentnlp.exports import default_output_path, detect_format, label_file, read_csv, read_jsonl, sniff_csv
from commentnlp.schema import HEADS_BY_NAME

from conftest import interrupt_predict


def test_format_detection_and_default_names():
    assert detect_format("a.CSV.gz") == ("csv", True)
    assert detect_format("a.jsonl") == ("jsonl", False)
    assert detect_format("-", "csv") == ("csv", False)
    with pytest.raises(ValueError, match="unknown format"):
        detect_format("a.jsonl", "xml")
    assert default_output_path("x/export.csv.gz").name == "export.labeled.csv.gz"
    assert default_output_path("export.jsonl", "csv").name == "export.labeled.csv"
    # a .tsv is CSV (its separator read from the header) and keeps its name; a .json is JSON lines
    assert detect_format("a.tsv.gz") == ("csv", True) and detect_format("a.json") == ("jsonl", False)
    assert default_output_path("export.tsv", "csv").name == "export.labeled.tsv"
    assert default_output_path("export.ndjson", "jsonl").name == "export.labeled.ndjson"
    assert default_output_path("export.tsv", "jsonl").name == "export.labeled.jsonl"
    # formats that are neither: JSON lines were written under that name (.tsv input: every line "not valid JSON")
    with pytest.raises(ValueError, match=r"x.parquet: not a format label reads or writes .*; --engine spark reads and writes Parquet"):
        detect_format("out/x.parquet")
    assert detect_format("comments.XLSX") == ("xlsx", False)  # read (it was refused: "save the sheet as CSV")
    assert default_output_path("comments.xlsx", "csv").name == "comments.labeled.csv"
    with pytest.raises(ValueError, match=r"an Excel 97-2003 workbook: save it as .xlsx or CSV"):
        detect_format("comments.xls")
    # archives and other compressions were read as JSON lines: every line 'invalid UTF-8'
    with pytest.raises(ValueError, match=r"export.zip: .*an archive: unpack it and label the file inside"):
        detect_format("export.zip")
    with pytest.raises(ValueError, match=r"compressed otherwise than gzip: decompress it, or use .gz"):
        detect_format("export.jsonl.bz2")


def test_an_input_whose_name_does_not_tell_is_read_by_its_first_bytes(tmp_path, tiny_classifier):
    """A CSV saved as `comments` or `export.dat` was read as JSON lines: every row 'not valid JSON', exit 0,
    written to `export.labeled.dat` (stdin's same bytes were read as CSV)."""
    (tmp_path / "export.dat").write_text("id,message\n1,where can i buy it\n")
    summary = label_file(tmp_path / "export.dat", None, tiny_classifier)
    assert (summary.labeled, summary.errors) == (1, 0) and "read as CSV, as its first bytes show" in summary.notes[0]
    assert (tmp_path / "export.labeled.csv").is_file()
    (tmp_path / "comments").write_text('\ufeff{"text": "hi"}\n')
    summary = label_file(tmp_path / "comments", tmp_path / "out", tiny_classifier)
    assert summary.labeled == 1 and "read as JSON lines" in summary.notes[0]
    (tmp_path / "d.dat").write_bytes(gzip.compress(b'{"text": "hi"}\n{"text": "where to buy"}\n'))  # gzipped, as stdin
    assert label_file(tmp_path / "d.dat", tmp_path / "d.jsonl", tiny_classifier).labeled == 2


def test_a_text_file_is_one_comment_per_line_labelled_as_json_lines(tmp_path, tiny_classifier):
    """A .txt of comments was read as JSON lines: every line 'not valid JSON', written back as .txt."""
    src = tmp_path / "comments.txt"
    src.write_bytes("where can I buy it in Leeds?\r\n\n  love it 😍  \n".encode() + b"\xff\xfe bad\n")
    assert detect_format(src) == ("txt", False) and default_output_path(src, "jsonl").name == "comments.labeled.jsonl"
    summary = label_file(src, None, tiny_classifier, workers=0)
    out = [json.loads(line) for line in open(tmp_path / "comments.labeled.jsonl", encoding="utf-8")]
    assert [r.get("text") for r in out] == ["where can I buy it in Leeds?", "love it 😍", None]
    assert "labels" in out[0] and out[2]["error"] == "line 4: invalid UTF-8 (at byte 0)"
    assert (summary.total, summary.labeled, summary.errors, summary.blank_lines) == (3, 2, 1, 1)
    label_file(src, tmp_path / "c.csv", tiny_classifier, workers=2)  # CSV too, and with workers
    assert [r["text"] for r in csv.DictReader(open(tmp_path / "c.csv", encoding="utf-8"))][:2] == \
        ["where can I buy it in Leeds?", "love it 😍"]
    with pytest.raises(ValueError, match=r"label writes JSONL, CSV or XLSX, not txt: name the output .jsonl, .csv or .xlsx"):
        label_file(src, tmp_path / "out.txt", tiny_classifier)
    assert not (tmp_path / "out.txt").exists()


def test_rows_above_the_header_are_found_kept_and_not_labelled(tmp_path, tiny_classifier):
    """Social-listening exports open with a title and query lines: the first was read as the header,
    and every row was 'row has 4 fields, the header has 1'."""
    src = tmp_path / "listening.csv"
    src.write_text("Comments report\nDate range,2026-11-01 - 2026-11-07\n\nDate,Network,Message\n"
                   "2026-11-01,Facebook,where can I buy this?\n\n2026-11-02,Instagram,love it\n", encoding="utf-8")
    summary = label_file(src, None, tiny_classifier)
    assert (summary.total, summary.labeled, summary.errors, summary.blank_lines) == (2, 2, 0, 1)
    assert summary.notes == ["the header is row 4: the 3 rows above it ('Comments report', ...) are written back above it"]
    out = (tmp_path / "listening.labeled.csv").read_text(encoding="utf-8")
    assert out.startswith("Comments report\nDate range,2026-11-01 - 2026-11-07\n\nDate,Network,Message,style,")
    items = list(read_csv(io.BytesIO(out.encode())))
    assert [i.record["Message"] for i in items] == ["where can I buy this?", "love it"] and [i.line for i in items] == [5, 6]
    label_file(tmp_path / "listening.labeled.csv", tmp_path / "again.csv", tiny_classifier)
    assert (tmp_path / "again.csv").read_text(encoding="utf-8") == out  # labelled again: the same
    summary = label_file(src, tmp_path / "out.jsonl", tiny_classifier)
    assert summary.notes[0].endswith("are not written") and summary.labeled == 2
    # no row below names a text field: the first row stays the header, and no row is lost
    # a text column of another name is found by --text-field
    (tmp_path / "bw.csv").write_text("Brandwatch export\nQuery:,brand\nDate,Mention Content,Author\n"
                                     "2026-11-01,where to buy?,x\n", encoding="utf-8")
    summary = label_file(tmp_path / "bw.csv", tmp_path / "bw.jsonl", tiny_classifier, text_field="Mention Content")
    assert (summary.labeled, summary.notes[0][:21]) == (1, "the header is row 3: ")
    # the report reads a labeled CSV with rows above its header (found by label's own columns)
    from commentnlp.report import build_report

    label_file(tmp_path / "bw.csv", tmp_path / "bw.out.csv", tiny_classifier, text_field="Mention Content")
    assert build_report(tmp_path / "bw.out.csv", tmp_path / "r.html")["labeled"] == 1
    # (a data row that names one, as wide as the header, is data)
    (tmp_path / "plain.csv").write_text("id,note\n1,message\n2,bye\n", encoding="utf-8")
    items = list(read_csv(open(tmp_path / "plain.csv", "rb")))
    assert [(i.line, i.record) for i in items] == [(2, {"id": "1", "note": "message"}), (3, {"id": "2", "note": "bye"})]


@pytest.mark.parametrize("workers", [0, 2])
def test_the_csv_header_holds_the_fields_of_the_first_records(tmp_path, tiny_classifier, workers):
    """JSON lines whose first line was bad gave a CSV whose header was 'raw': every later record's
    fields (id, message, ...) went into the 'extra' JSON column."""
    src = tmp_path / "export.jsonl"
    src.write_text('{broken\n{"id": 1, "message": "where to buy", "likes": 3}\n{"id": 2, "message": "love it"}\n',
                   encoding="utf-8")
    label_file(src, tmp_path / "out.csv", tiny_classifier, workers=workers)
    rows = list(csv.DictReader(open(tmp_path / "out.csv", encoding="utf-8", newline="")))
    assert list(rows[0])[:3] == ["id", "message", "likes"]
    assert rows[0]["error"].startswith("line 1: not valid JSON") and json.loads(rows[0]["extra"]) == {"raw": "{broken"}
    assert [(r["id"], r["message"], r["extra"]) for r in rows[1:]] == [("1", "where to buy", ""), ("2", "love it", "")]
    # a field the first record lacks (a reply's parent_id) gets its column too, not the extra JSON
    (tmp_path / "thread.jsonl").write_text('{"id": 1, "message": "where to buy"}\n'
                                           '{"id": 2, "message": "same", "parent_id": "1"}\n', encoding="utf-8")
    label_file(tmp_path / "thread.jsonl", tmp_path / "thread.csv", tiny_classifier, workers=workers)
    rows = list(csv.DictReader(open(tmp_path / "thread.csv", encoding="utf-8", newline="")))
    assert [(r["parent_id"], r["extra"]) for r in rows] == [("", ""), ("1", "")]
    (tmp_path / "bad.jsonl").write_text("{broken\n", encoding="utf-8")  # nothing but bad lines: still written
    label_file(tmp_path / "bad.jsonl", tmp_path / "bad.csv", tiny_classifier, workers=workers)
    assert (tmp_path / "bad.csv").read_text(encoding="utf-8").startswith("raw,style,")


def test_tsv_in_tsv_out(tmp_path, tiny_classifier):
    src = tmp_path / "in.tsv"
    src.write_text("id\ttext\n1\twhere can I buy it, in Ohio?\n", encoding="utf-8")
    label_file(src, None, tiny_classifier)
    rows = list(csv.DictReader(open(tmp_path / "in.labeled.tsv", encoding="utf-8"), delimiter="\t"))
    assert rows[0]["text"] == "where can I buy it, in Ohio?" and rows[0]["intent"]
    label_file(tmp_path / "in.labeled.tsv", tmp_path / "again.jsonl", tiny_classifier)  # JSONL in, a .tsv out
    label_file(tmp_path / "again.jsonl", tmp_path / "out.tsv", tiny_classifier)
    assert (tmp_path / "out.tsv").read_text(encoding="utf-8").split("\n")[0].startswith("id\ttext\t")


def test_csv_in_tsv_out_reads_the_input_by_its_own_separator(tmp_path, tiny_classifier):
    # the .tsv output's tab was the separator the comma CSV (and a workbook's sheet) was read with: every row "no text field"
    src = tmp_path / "c.csv"
    src.write_text('id,message\n1,where can I buy it\n2,"love it, thanks"\n', encoding="utf-8")
    summary = label_file(src, tmp_path / "c.tsv", tiny_classifier)
    assert (summary.labeled, summary.errors) == (2, 0)
    rows = list(csv.DictReader(open(tmp_path / "c.tsv", encoding="utf-8", newline=""), delimiter="\t"))
    assert [r["message"] for r in rows] == ["where can I buy it", "love it, thanks"] and rows[1]["intent"]


@pytest.mark.parametrize("out_name", ["out.csv", "out.xlsx"])
def test_a_csv_with_a_header_and_no_rows_gives_its_header_and_the_label_columns(tmp_path, tiny_classifier, out_name):
    # a day without comments: the output was 0 bytes (pandas: EmptyDataError), its sep= line lost
    src = tmp_path / "h.csv"
    src.write_text("sep=;\nid;message\n", encoding="utf-8")
    summary = label_file(src, tmp_path / out_name, tiny_classifier)
    assert summary.total == 0
    if out_name.endswith(".csv"):
        lines = (tmp_path / out_name).read_text(encoding="utf-8").splitlines()
        assert lines[0] == "sep=;" and lines[1].startswith("id;message;style;intent;") and len(lines) == 2
    else:
        import openpyxl

        rows = list(openpyxl.load_workbook(tmp_path / out_name).active.values)
        assert len(rows) == 1 and rows[0][:3] == ("id", "message", "style")


def test_output_without_a_format_extension_keeps_the_inputs_format(tmp_path, tiny_classifier):
    src = tmp_path / "c.csv"
    src.write_text("id,message\n1,where can I buy it\n", encoding="utf-8")
    label_file(src, tmp_path / "out", tiny_classifier)  # was JSON lines, though --output-format says "the input's"
    assert (tmp_path / "out").read_text(encoding="utf-8").startswith("id,message,style,")
    label_file(src, tmp_path / "out.json", tiny_classifier)  # a JSON name still means JSON lines
    assert json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))["id"] == "1"


def test_csv_in_csv_out_keeps_every_row(tmp_path, tiny_classifier):
    src = tmp_path / "export.csv"
    rows = [["id", "message", "likes"], ["1", 'she said "buy it, now"\nsecond line, with comma', "3"],
            ["2", "", "0"], ["3", "where can i get it? 😍", "1"], ["4", "too", "many", "fields"], ["5", "ok", "2"]]
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    data = b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8") + b'6,"bad \xff bytes",1\r\n'
    src.write_bytes(data)
    summary = label_file(src, None, tiny_classifier)
    out = list(csv.DictReader(open(tmp_path / "export.labeled.csv", encoding="utf-8-sig", newline="")))
    assert [r["id"] for r in out] == ["1", "2", "3", "", "5", "6"] and summary.total == 6
    assert out[0]["message"].startswith('she said "buy it, now"\nsecond line') and out[0]["intent"] and out[0]["intent_score"]
    assert out[0]["troll"] in ("true", "false") and out[0]["action"]
    assert out[1]["error"] == "line 4: 'message' is empty"  # row 1 spans lines 2-3
    assert out[3]["error"].startswith("line 6: row has 4 fields") and "too" in out[3]["extra"]
    assert out[5]["error"] == "line 8: invalid UTF-8" and "\ufffd" in out[5]["message"]
    assert summary.errors == 3


@pytest.mark.parametrize("header, expected", [
    (b"id,message\n", ("utf-8-sig", ",")), (b"\xef\xbb\xbfid;message;likes\r\n", ("utf-8-sig", ";")),
    (b'"a,b";"c,d";text\n1;2;3\n', ("utf-8-sig", ";")),  # commas inside quotes do not count
    ("id\tmessage\n".encode("utf-16"), ("utf-16", "\t")), (b"id|message\n", ("utf-8-sig", "|")),
    (b"message\nhi; there, you\n", ("utf-8-sig", ",")), (b"", ("utf-8-sig", ",")),
    (b"sep=;\r\nid,message,likes\r\n", ("utf-8-sig", ";")), (b"\xef\xbb\xbfsep=|\nid|message\n", ("utf-8-sig", "|")),
    # a title above the header (its separator was taken from the title: a comma, or none)
    (b"Social listening export\nid;Date;Message\n1;x;where, oh where?\n", ("utf-8-sig", ";")),
    ("Export, brand X, Jan\n\nid\tDate\tFull Text\n".encode("utf-16"), ("utf-16", "\t")),
    # lines ending in a CR alone: the "first line" was the whole head, commas in comments outvoting ';'
    (b"id;message\r1;hello, world, great, love, it\r", ("utf-8-sig", ";")), (b"sep=;\rid,message\r", ("utf-8-sig", ";"))])
def test_sniff_csv_reads_the_encoding_and_delimiter_from_the_header(header, expected):
    stream = io.BufferedReader(io.BytesIO(header))
    assert sniff_csv(stream) == expected
    assert stream.read() == header  # peeked, not consumed


def test_excel_csv_dialects_are_read_and_written_back_alike(tmp_path, tiny_classifier):
    """Excel writes ';' where the decimal mark is a comma, and tab-separated UTF-16 as "Unicode Text"."""
    semi = tmp_path / "semi.csv"
    semi.write_bytes("id;message;likes\r\n1;where can i get it? 😍;3\r\n2;\"a; b\";0\r\n".encode("utf-8-sig"))
    summary = label_file(semi, None, tiny_classifier)
    out = list(csv.DictReader(open(tmp_path / "semi.labeled.csv", encoding="utf-8", newline=""), delimiter=";"))
    assert summary.labeled == 2 and [r["message"] for r in out] == ["where can i get it? 😍", "a; b"]
    assert out[0]["likes"] == "3" and out[0]["intent"] and out[0]["troll"] in ("true", "false")
    tab = tmp_path / "unicode.csv"
    tab.write_bytes("id\tmessage\n1\tcafé où acheter\n".encode("utf-16"))
    summary = label_file(tab, None, tiny_classifier)
    out = list(csv.DictReader(open(tmp_path / "unicode.labeled.csv", encoding="utf-8", newline=""), delimiter="\t"))
    assert summary.labeled == 1 and out[0]["message"] == "café où acheter" and out[0]["style"]
    # read_csv on its own sniffs the same, even from a stream that cannot peek
    items = list(read_csv(io.BytesIO(semi.read_bytes())))
    assert [i.record["message"] for i in items] == ["where can i get it? 😍", "a; b"]


def test_excels_sep_line_names_the_delimiter_and_is_written_back(tmp_path, tiny_classifier):
    """Excel's 'sep=;' first line was read as the header: every row was 'no text field'."""
    src = tmp_path / "excel.csv"
    src.write_bytes(b"sep=;\r\nid;message\r\n1;where can i get it, in Leeds?\r\n2;love it\r\n")
    summary = label_file(src, None, tiny_classifier)
    assert summary.labeled == 2 and summary.errors == 0
    out = (tmp_path / "excel.labeled.csv").read_bytes()
    assert out.startswith(b"sep=;\r\nid;message;style;")
    rows = [i.record for i in read_csv(io.BytesIO(out))]
    assert [r["message"] for r in rows] == ["where can i get it, in Leeds?", "love it"] and rows[0]["intent"]
    assert [i.record["message"] for i in read_csv(io.BytesIO(src.read_bytes()))] == [r["message"] for r in rows]
    summary = label_file(src, tmp_path / "excel.jsonl", tiny_classifier)
    assert summary.labeled == 2 and not (tmp_path / "excel.jsonl").read_text().startswith("sep")


@pytest.mark.parametrize("data", [
    "\ufeffid,message\r\n1,où l'acheter 😍\r\n".encode("utf-8"),      # Excel "CSV UTF-8"
    "id\tmessage\r\n1\toù l'acheter 😍\r\n".encode("utf-16"),           # Excel "Unicode Text"
    "\ufeffsep=;\r\nid;message\r\n1;où l'acheter 😍\r\n".encode("utf-8")])
def test_a_byte_order_mark_is_written_back_for_excel(tmp_path, tiny_classifier, data):
    """The labeled CSV of an Excel export had no byte-order mark, so Excel opened it as the ANSI
    code page: every emoji and accent came out as mojibake."""
    src = tmp_path / "excel.csv"
    src.write_bytes(data)
    assert label_file(src, None, tiny_classifier).labeled == 1
    out = (tmp_path / "excel.labeled.csv").read_bytes()
    assert out.startswith(b"\xef\xbb\xbf") and out.count(b"\xef\xbb\xbf") == 1
    assert [i.record["message"] for i in read_csv(io.BytesIO(out))] == ["où l'acheter 😍"]
    label_file(tmp_path / "excel.labeled.csv", tmp_path / "again.csv", tiny_classifier)
    assert (tmp_path / "again.csv").read_bytes() == out  # labelled again: the same bytes
    label_file(src, tmp_path / "excel.jsonl", tiny_classifier)
    assert (tmp_path / "excel.jsonl").read_bytes().startswith(b"{")  # JSON lines never start with one


def test_a_csv_without_byte_order_mark_is_written_without_one(tmp_path, tiny_classifier):
    src = tmp_path / "plain.csv"
    src.write_bytes("id,message\n1,où l'acheter\n".encode())
    label_file(src, None, tiny_classifier)
    assert (tmp_path / "plain.labeled.csv").read_bytes().startswith(b"id,message,")


def test_a_csv_in_another_encoding_is_read_with_encoding_and_the_note_says_so(tmp_path, tiny_classifier):
    """Excel on Windows saves "CSV" in cp1252: every row with an accent was 'invalid UTF-8', its
    bytes replaced in the output, with no way to read it."""
    src = tmp_path / "windows.csv"
    src.write_bytes("id,message\r\n1,où l'acheter… à Köln?\r\n2,ok\r\n".encode("cp1252"))
    summary = label_file(src, None, tiny_classifier)
    assert (summary.labeled, summary.errors) == (1, 1) and "name it with --encoding" in summary.notes[-1]
    summary = label_file(src, None, tiny_classifier, encoding="cp1252")
    assert (summary.labeled, summary.errors, summary.notes) == (2, 0, [])
    out = (tmp_path / "windows.labeled.csv").read_bytes()
    assert out.startswith(b"\xef\xbb\xbfid,message,")  # UTF-8 that Excel reads as UTF-8
    assert [i.record["message"] for i in read_csv(io.BytesIO(out))] == ["où l'acheter… à Köln?", "ok"]
    with pytest.raises(ValueError, match="unknown encoding 'cp9999'"):
        label_file(src, None, tiny_classifier, encoding="cp9999")


def test_utf16_json_lines_and_text_are_read(tmp_path, tiny_classifier):
    """Windows PowerShell writes UTF-16 (``> comments.jsonl``): every line was 'invalid UTF-8' or,
    in a .txt, labelled with a NUL between its letters."""
    lines = ['{"message": "où l\'acheter à Köln? 😍"}', '{"message": "ok"}']
    (tmp_path / "ps.jsonl").write_bytes("\r\n".join(lines).encode("utf-16"))
    (tmp_path / "utf8.jsonl").write_text("\n".join(lines), encoding="utf-8")
    assert label_file(tmp_path / "ps.jsonl", None, tiny_classifier).labeled == 2
    assert (tmp_path / "ps.labeled.jsonl").read_bytes() == \
        (label_file(tmp_path / "utf8.jsonl", None, tiny_classifier), (tmp_path / "utf8.labeled.jsonl").read_bytes())[1]
    (tmp_path / "ps.txt").write_bytes("où l'acheter?\r\nok\r\n".encode("utf-16"))
    assert label_file(tmp_path / "ps.txt", None, tiny_classifier).labeled == 2
    assert [json.loads(line)["text"] for line in open(tmp_path / "ps.labeled.jsonl", encoding="utf-8")] == \
        ["où l'acheter?", "ok"]


def test_an_export_below_a_title_is_labelled_with_its_own_separator(tmp_path, tiny_classifier):
    """A ';' or tab export with a title row had every row 'no text field': the separator came from the title."""
    src = tmp_path / "listening.csv"
    src.write_bytes("Social listening export, Jan\r\n\r\nid\tDate\tFull Text\r\n1\t2026-01-01\twhere can I buy it, in Paris?\r\n"
                    "2\t2026-01-02\tlove it\r\n".encode("utf-16"))
    summary = label_file(src, None, tiny_classifier)
    assert (summary.labeled, summary.errors) == (2, 0) and "the header is row 3" in summary.notes[0]
    out = (tmp_path / "listening.labeled.csv").read_text(encoding="utf-8-sig").splitlines()
    assert out[0] == "Social listening export, Jan" and out[2].startswith("id\tDate\tFull Text\tstyle\t")
    assert out[3].startswith("1\t2026-01-01\twhere can I buy it, in Paris?\t")


def test_lines_ending_in_a_carriage_return_alone_are_lines(tmp_path, tiny_classifier):
    """Excel's "CSV (Macintosh)" and old Mac text end lines in a CR alone: a .txt was one comment, a
    JSONL one 'not valid JSON' record, a ';' CSV split at commas."""
    (tmp_path / "mac.txt").write_bytes(b"first comment\rwhere can I buy it\r\rthird one\r")
    summary = label_file(tmp_path / "mac.txt", None, tiny_classifier)
    assert (summary.labeled, summary.errors) == (3, 0) and "a carriage return alone" in summary.notes[0]
    assert [json.loads(line)["text"] for line in open(tmp_path / "mac.labeled.jsonl")] == \
        ["first comment", "where can I buy it", "third one"]
    (tmp_path / "mac.jsonl").write_bytes(b'{"text": "a"}\r{"text": "b"}\r{bad\r')
    summary = label_file(tmp_path / "mac.jsonl", None, tiny_classifier)
    assert (summary.labeled, summary.errors) == (2, 1)
    assert json.loads((tmp_path / "mac.labeled.jsonl").read_text().splitlines()[2])["error"].startswith("line 3: ")
    (tmp_path / "mac.csv").write_bytes(b"sep=;\rid;message\rc1;hello, world, great\rc2;where, oh where\r")
    summary = label_file(tmp_path / "mac.csv", None, tiny_classifier)
    assert (summary.labeled, summary.errors) == (2, 0)
    rows = [i.record for i in read_csv(io.BytesIO((tmp_path / "mac.labeled.csv").read_bytes()))]
    assert [r["message"] for r in rows] == ["hello, world, great", "where, oh where"]


def test_an_encoding_reads_the_lines_not_in_utf8_and_changes_no_other(tmp_path, tiny_classifier):
    """With --encoding, a byte it has no character for became U+FFFD without a word, and the UTF-8 lines
    of a file joined from two exports were garbled (café -> cafÃ©), the summary having advised it."""
    src = tmp_path / "joined.jsonl"
    src.write_bytes('{"text": "café crème — great"}\n'.encode() + '{"text": "où acheter ça"}\n'.encode("cp1252")
                    + b'{"text": "bad \x81 byte"}\n')
    summary = label_file(src, None, tiny_classifier)
    assert (summary.labeled, summary.errors) == (1, 2) and "name it with --encoding" in summary.notes[-1]
    summary = label_file(src, None, tiny_classifier, encoding="cp1252")
    assert (summary.labeled, summary.errors, dict(summary.reasons)) == (2, 1, {"invalid UTF-8": 1})
    out = [json.loads(line) for line in open(tmp_path / "joined.labeled.jsonl", encoding="utf-8")]
    assert [r.get("text") for r in out] == ["café crème — great", "où acheter ça", None]
    assert out[2]["error"] == "line 3: invalid UTF-8 (at byte 14)"
    # one reason however many such lines (it named each line's byte: 40 lines of summary)
    (tmp_path / "many.jsonl").write_bytes(b"".join(b'{"text": "%s\xe9"}\n' % (b"x" * i) for i in range(5)))
    assert dict(label_file(tmp_path / "many.jsonl", None, tiny_classifier).reasons) == {"invalid UTF-8": 5}
    # a JSON document (an API response) is read whole: one clear error, not one record per line of it
    doc = tmp_path / "page.json"
    doc.write_bytes(json.dumps({"data": [{"message": "où"}, {"message": "ok"}]}, indent=2, ensure_ascii=False).encode("cp1252"))
    with pytest.raises(exports.InputError, match=r"the JSON document is not UTF-8 \(line 4, byte \d+: b'\\xf9'\).*--encoding"):
        label_file(doc, None, tiny_classifier)
    assert label_file(doc, None, tiny_classifier, encoding="cp1252").labeled == 2
    # an encoding given for a UTF-16 file (its byte-order mark says so) read it as garbage, labelled
    (tmp_path / "u16.csv").write_bytes("id,message\r\n1,où\r\n".encode("utf-16"))
    with pytest.raises(exports.InputError, match="starts with a UTF-16 byte-order mark, so it is UTF-16, not cp1252"):
        label_file(tmp_path / "u16.csv", None, tiny_classifier, encoding="cp1252")


def test_the_summary_warns_of_csv_cells_excel_runs_as_formulas(tmp_path, tiny_classifier):
    """A comment '=HYPERLINK("http://evil","click")' went into the CSV a CM double-clicks, without a word
    (OWASP's CSV injection); the cells stay as written (every record comes back unchanged)."""
    src = tmp_path / "inj.csv"
    src.write_text('id,message\n1,"=HYPERLINK(""http://evil"",""click"")"\n2,@john thanks\n3,+1 me too\n'
                   '4,love it\n-5,-\n')
    summary = label_file(src, None, tiny_classifier)
    assert summary.notes[-1].startswith("3 cells of the CSV start with =, +, -, @ or a tab, which Excel runs as a formula")
    rows = list(csv.DictReader(open(tmp_path / "inj.labeled.csv", encoding="utf-8", newline="")))
    assert [r["message"] for r in rows][:3] == ['=HYPERLINK("http://evil","click")', "@john thanks", "+1 me too"]
    for out in ("inj.xlsx", "inj.jsonl"):  # text there: nothing to warn of
        assert not any("formula" in n for n in label_file(src, tmp_path / out, tiny_classifier).notes)


@pytest.mark.parametrize("encoding, texts", [("gbk", ["谢谢", "谢谢你"]), ("iso2022_jp", ["ありがとう"]), ("hz", ["谢谢你"]),
                                             ("shift_jis", ["ありがとう"]), ("cp1252", ["merci à vous"])])
def test_an_encoding_reads_every_line_of_a_file_in_it(tmp_path, tiny_classifier, encoding, texts):
    """Read line by line with UTF-8 lines kept, GBK's 谢谢 (valid UTF-8 for лл) was labelled as лл, and
    ISO-2022-JP and HZ, all ASCII bytes, were never decoded."""
    src = tmp_path / "in.txt"
    src.write_bytes("".join(t + "\n" for t in texts).encode(encoding))
    assert label_file(src, tmp_path / "out.jsonl", tiny_classifier, encoding=encoding).labeled == len(texts)
    assert [json.loads(line)["text"] for line in open(tmp_path / "out.jsonl", encoding="utf-8")] == texts


def test_utf16_and_utf32_files_are_read_by_their_mark_and_a_contrary_encoding_is_refused(tmp_path, tiny_classifier):
    """A lone surrogate in UTF-16 JSON lines failed the whole file (it was U+FFFD before); a UTF-32 file was
    'UTF-16, not utf-32' and read as garbage without --encoding; --encoding utf-16-be read a little-endian file."""
    import codecs

    lone = tmp_path / "lone16.jsonl"
    lone.write_bytes(codecs.BOM_UTF16_LE + '{"text": "great \ud83d"}\n{"text": "where to buy"}\n'
                     .encode("utf-16-le", "surrogatepass"))
    assert label_file(lone, tmp_path / "o1.jsonl", tiny_classifier).labeled == 2
    wide = tmp_path / "u32.jsonl"
    wide.write_bytes('{"text": "where can I buy it?"}\n'.encode("utf-32"))
    for encoding in (None, "utf-32", "UTF-32LE"):
        assert label_file(wide, tmp_path / "o2.jsonl", tiny_classifier, encoding=encoding).labeled == 1
        assert json.loads((tmp_path / "o2.jsonl").read_text())["text"] == "where can I buy it?"
    little = tmp_path / "u16.csv"
    little.write_bytes("id,message\r\n1,où\r\n".encode("utf-16-le").join([codecs.BOM_UTF16_LE, b""]))
    with pytest.raises(exports.InputError, match="starts with a UTF-16 byte-order mark, so it is UTF-16, not utf-16-be"):
        label_file(little, tmp_path / "o3.csv", tiny_classifier, encoding="utf-16-be")
    assert label_file(little, tmp_path / "o3.csv", tiny_classifier, encoding="utf-16-le").labeled == 1
    # no mark at all: a NUL in every other byte came back in every cell, exit 0, with no word
    little.write_bytes("id,message\r\n1,where to buy\r\n".encode("utf-16-le"))
    with pytest.raises(exports.InputError, match="is UTF-16 without a byte-order mark .*name it: --encoding utf-16-le"):
        label_file(little, tmp_path / "o4.csv", tiny_classifier)
    assert label_file(little, tmp_path / "o4.csv", tiny_classifier, encoding="utf-16-le").labeled == 1


def test_a_json_document_read_with_an_encoding_keeps_a_byte_it_has_no_character_for_as_u_fffd(tmp_path, tiny_classifier):
    """With --encoding cp1252, a document holding 0x81 (no cp1252 character) was refused whole, the message
    saying to give --encoding."""
    doc = tmp_path / "arr.json"
    doc.write_bytes(json.dumps([{"text": "café"}, {"text": "where to buy XX"}], ensure_ascii=False, indent=1)
                    .encode("cp1252").replace(b"XX", b"\x81"))
    summary = label_file(doc, tmp_path / "out.jsonl", tiny_classifier, encoding="cp1252")
    assert summary.labeled == 2 and "1 byte that cp1252 has no character for read as U+FFFD" in summary.notes
    assert [json.loads(line)["text"] for line in open(tmp_path / "out.jsonl", encoding="utf-8")] == \
        ["café", "where to buy \ufffd"]


@pytest.mark.parametrize("data", [
    # a quoted line break in the first row below the header (label writes such files itself, from a workbook)
    b'Brand comments export\r\n\r\nid;text;date\r\n1;"first line\r\nsecond line; where to buy?";2026-11-03\r\n'
    b"2;Where can I buy this?;2026-11-04\r\n",
    # Excel pads a title to the table's width: the header was no wider than it
    b"Brand comments export;;\r\n;;\r\nid;text;date\r\n1;where to buy?;2026-11-03\r\n2;love it;2026-11-04\r\n",
    # a bad first row under the header (one field too many): the header stands, that row is the error
    b"Mentions export, March 2024\ndate;text;author\n1;great; love it;bob\n2;where can I buy this?;al\n3;bad;cy\n"])
def test_a_header_below_a_title_is_found_whatever_the_rows_hold(tmp_path, tiny_classifier, data):
    src = tmp_path / "titled.csv"
    src.write_bytes(data)
    assert sniff_csv(io.BufferedReader(io.BytesIO(data))) == ("utf-8-sig", ";")
    summary = label_file(src, tmp_path / "out.csv", tiny_classifier)
    bad = b"bob" in data
    assert (summary.labeled, summary.errors) == ((2, 1) if bad else (2, 0))
    again = label_file(tmp_path / "out.csv", tmp_path / "again.csv", tiny_classifier)  # its own output, read back
    assert (again.labeled, again.errors) == ((2, 1) if bad else (2, 0))


def test_lines_that_end_in_a_cr_alone_then_in_cr_lf_keep_their_numbers(tmp_path, tiny_classifier):
    """Each CR LF after a first 64 KiB of CR-only lines became two line ends: errors named later lines."""
    line = '{"text": "%s"}' % ("x" * 60)
    src = tmp_path / "mixed.jsonl"
    src.write_bytes(((line + "\r") * 1200 + (line + "\r\n") * 10 + "{bad\r\n" + line + "\r\n").encode())
    summary = label_file(src, tmp_path / "out.jsonl", tiny_classifier)
    assert (summary.total, summary.errors, summary.blank_lines) == (1212, 1, 0)
    out = (tmp_path / "out.jsonl").read_text().splitlines()
    assert json.loads(out[1210])["error"].startswith("line 1211: not valid JSON")


def test_a_data_row_that_spells_a_field_at_another_delimiter_is_no_header(tmp_path, tiny_classifier):
    """'2,alice,Question; body' split at ';' names 'body': it was taken for the header below a 'title'."""
    src = tmp_path / "a.csv"
    src.write_text("id,author,msg\n1,bob,hello there\n2,alice,Question; body\n3,carl,ok\n")
    assert sniff_csv(io.BufferedReader(io.BytesIO(src.read_bytes()))) == ("utf-8-sig", ",")
    summary = label_file(src, tmp_path / "out.jsonl", tiny_classifier, text_field="msg")
    assert (summary.labeled, summary.errors) == (3, 0)
    # one column: a comment that reads like the header is a comment
    (tmp_path / "one.csv").write_text("comment\nlove it\ncomment\n")
    assert label_file(tmp_path / "one.csv", tmp_path / "one.jsonl", tiny_classifier).labeled == 2


def test_a_repeated_header_row_is_an_error_not_a_comment(tmp_path, tiny_classifier):
    """Two CSVs joined with `cat` labelled their second header 'id,message' as a comment."""
    src = tmp_path / "joined.csv"
    src.write_text("id,message\n1,where to buy?\nid,message\n2,nice\n")
    summary = label_file(src, None, tiny_classifier)
    assert (summary.labeled, summary.errors) == (2, 1)
    rows = list(csv.DictReader(open(tmp_path / "joined.labeled.csv", encoding="utf-8", newline="")))
    assert [r["id"] for r in rows] == ["1", "id", "2"] and rows[1]["style"] == ""
    assert rows[1]["error"] == "line 3: a repeat of the header row (CSV files joined together?)"
    # Excel's "CSV UTF-8" starts each file with a byte-order mark: the second one's header was labelled spam
    src.write_bytes("\ufeffid,message\r\n1,hello\r\n".encode() + "\ufeffid,message\r\n2,where to buy\r\n".encode())
    summary = label_file(src, tmp_path / "bom.jsonl", tiny_classifier)
    assert (summary.labeled, dict(summary.reasons)) == (2, {"a repeat of the header row": 1})


def test_a_json_error_names_its_column_once():
    """A raw tab in a string said 'Invalid control character at at column 14'."""
    item = exports.parse_jsonl_line(1, b'{"text": "tab\there"}')
    assert item.error == "not valid JSON (Invalid control character at column 14)"


@pytest.mark.parametrize("encode", [lambda t: t.encode("utf-16"), lambda t: t.encode("utf-8")])
def test_a_tab_separated_text_file_with_a_header_is_read_as_a_table(tmp_path, tiny_classifier, encode):
    """Excel saves "Unicode Text" as a .txt: its header and each row were labelled as one comment."""
    src = tmp_path / "sheet.txt"
    src.write_bytes(encode("id\tMessage\tlikes\r\n1\twhere can I buy it?\t3\r\n2\tlove it\t0\r\n"))
    summary = label_file(src, None, tiny_classifier)
    assert (summary.total, summary.labeled) == (2, 2) and "tab-separated table" in summary.notes[0]
    out = (tmp_path / "sheet.labeled.csv").read_bytes()
    rows = [i.record for i in read_csv(io.BytesIO(out))]
    assert [(r["id"], r["Message"], r["likes"]) for r in rows] == [("1", "where can I buy it?", "3"), ("2", "love it", "0")]
    assert rows[0]["intent"] and out.startswith(b"\xef\xbb\xbfid\tMessage\t") == (encode("")[:2] == b"\xff\xfe")
    # lines with tabs but no header naming the text: one comment per line, as --format txt always reads
    plain = tmp_path / "plain.txt"
    plain.write_bytes(encode("love it\tso much\nwhere to buy\n"))
    assert label_file(plain, None, tiny_classifier).total == 2
    assert label_file(src, tmp_path / "lines.jsonl", tiny_classifier, input_format="txt").total == 3


def _workbook(path, sheets):
    """An .xlsx with the sheets given as ``{name: rows}``."""
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
        for cell in (c for line in sheet.iter_rows() for c in line if str(c.value).startswith("=")):
            cell.data_type = "s"  # text that starts with "=", as a comment can: not a formula
    book.save(path)
    return path


def test_an_excel_workbook_is_labelled_into_a_workbook(tmp_path, tiny_classifier):
    """An .xlsx export was refused ("save the sheet as CSV"): a CM's exports come as workbooks."""
    import openpyxl

    src = _workbook(tmp_path / "export.xlsx", {
        "Summary": [["Comments export, week 45"], ["Total", 4]],  # a cover sheet comes first
        "Comments": [["Brand comments"], [], ["ID", "Comment", "Date", "Likes", "Verified"],
                     [1, "where can I buy it in Leeds?", datetime(2026, 11, 3, 10, 0), 3, False],
                     [2, "=love it 😍, the best", datetime(2026, 11, 4, 12, 30, 15), 0.0, True],
                     [None, None, None],  # a row with no value: no record
                     [3, None, None, 2.5]]})
    summary = label_file(src, None, tiny_classifier)
    assert (summary.total, summary.labeled, summary.errors, summary.blank_lines) == (3, 2, 1, 1)
    assert "read sheet 'Comments' of 2 ('Summary', 'Comments'); name another with --sheet" in summary.notes
    rows = list(openpyxl.load_workbook(tmp_path / "export.labeled.xlsx").active.iter_rows(values_only=True))
    assert rows[0][0] == "Brand comments" and rows[2][:6] == ("ID", "Comment", "Date", "Likes", "Verified", "style")
    # cells typed as they came: numbers, dates; a comment that starts with "=" is text, never a formula
    assert rows[3][:5] == (1, "where can I buy it in Leeds?", datetime(2026, 11, 3, 10, 0), 3, "false")
    assert rows[4][:5] == (2, "=love it 😍, the best", datetime(2026, 11, 4, 12, 30, 15), 0, "true")
    assert rows[3][6] in HEADS_BY_NAME["intent"].values and isinstance(rows[3][11], float)
    assert rows[5][:4] == (3, None, None, 2.5) and rows[5][14] == "line 7: 'Comment' is empty"
    # as CSV, for Excel: a byte-order mark, the title row kept above
    label_file(src, tmp_path / "export.csv", tiny_classifier)
    out = (tmp_path / "export.csv").read_bytes()
    assert out.startswith("\ufeffBrand comments\r\n".encode())
    csv_rows = [i.record for i in read_csv(io.BytesIO(out))]
    assert [(r["ID"], r["Date"], r["Likes"], r["Verified"]) for r in csv_rows] == [
        ("1", "2026-11-03 10:00:00", "3", "false"), ("2", "2026-11-04 12:30:15", "0", "true"), ("3", "", "2.5", "")]
    # another sheet by name; a missing one names those there are
    summary = label_file(src, tmp_path / "summary.jsonl", tiny_classifier, sheet="Summary")
    assert summary.labeled == 0 and summary.notes == []
    with pytest.raises(exports.InputError, match=r"sheet 'Nope' is not in the workbook; its sheets: 'Summary', 'Comments'"):
        label_file(src, tmp_path / "x.jsonl", tiny_classifier, sheet="Nope")
    with pytest.raises(ValueError, match=r"--encoding names a text file's encoding; a workbook \(.xlsx\) holds"):
        label_file(src, tmp_path / "x.csv", tiny_classifier, encoding="cp1252")
    with pytest.raises(ValueError, match=r"--sheet names a sheet of an Excel workbook \(.xlsx\); this input is csv"):
        label_file(tmp_path / "export.csv", tmp_path / "x.csv", tiny_classifier, sheet="Comments")
    # a chart sheet first (it has no rows: an AttributeError traceback)
    from openpyxl.chart import BarChart, Reference

    book = openpyxl.load_workbook(src)
    chart = BarChart()
    chart.add_data(Reference(book["Comments"], min_col=4, min_row=3, max_row=5))
    book.create_chartsheet("Chart", 0).add_chart(chart)
    book.save(tmp_path / "charted.xlsx")
    assert label_file(tmp_path / "charted.xlsx", tmp_path / "c.csv", tiny_classifier).labeled == 2
    with pytest.raises(exports.InputError, match=r"sheet 'Chart' is a chart, not a sheet of rows; its sheets: 'Summary'"):
        label_file(tmp_path / "charted.xlsx", tmp_path / "c.csv", tiny_classifier, sheet="Chart")
    # a workbook that is not one, and one saved under a CSV name
    (tmp_path / "broken.xlsx").write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(exports.InputError, match=r"cannot read input .*broken.xlsx: not a readable Excel workbook"):
        label_file(tmp_path / "broken.xlsx", tmp_path / "x.csv", tiny_classifier)
    (tmp_path / "named.csv").write_bytes(src.read_bytes())
    with pytest.raises(exports.InputError, match=r"an Excel workbook is one: name it .xlsx, or give --format xlsx"):
        label_file(tmp_path / "named.csv", tmp_path / "x.csv", tiny_classifier)
    assert label_file(tmp_path / "named.csv", tmp_path / "x.csv", tiny_classifier, input_format="xlsx").labeled == 2


def test_any_export_is_labelled_into_a_workbook_that_reads_back(tmp_path, tiny_classifier, monkeypatch):
    src = tmp_path / "e.jsonl"
    src.write_text('{"id": "007", "message": "where can I buy it", "n": 12, "at": "2026-11-03T10:00:00Z"}\n'
                   '{"id": "1234567890123456789", "message": "ok\\u0001 " }\n{"message": null}\n', encoding="utf-8")
    summary = label_file(src, tmp_path / "e.xlsx", tiny_classifier)
    assert (summary.labeled, summary.errors) == (2, 1)
    assert "1 cells held characters a sheet cannot (control characters): written as U+FFFD" in summary.notes
    label_file(src, tmp_path / "e.csv", tiny_classifier)
    # read back (labelled again, or reported on), the workbook gives what the CSV gives
    again = [i.record for i in read_csv(exports.xlsx_as_csv(open(tmp_path / "e.xlsx", "rb"), None, "e.xlsx")[0])]
    as_csv = [i.record for i in read_csv(open(tmp_path / "e.csv", "rb"))]
    assert [r["id"] for r in again] == ["007", "1234567890123456789", ""]  # ids stay text, as written
    assert [{k: v for k, v in r.items() if k != "message"} for r in again] == \
        [{k: v for k, v in r.items() if k != "message"} for r in as_csv]
    # interrupted: no workbook, no part of one (it cannot be resumed)
    restore = interrupt_predict(monkeypatch, tiny_classifier, on_call=1)
    with pytest.raises(KeyboardInterrupt):
        label_file(src, tmp_path / "cut.xlsx", tiny_classifier)
    restore()
    assert not list(tmp_path.glob("*cut.xlsx*"))
    for bad, error in (({"output_path": "-", "output_format": "xlsx"}, "an Excel workbook is not written to stdout"),
                       ({"output_path": tmp_path / "e.xlsx", "resume": True}, "--resume continues a JSONL or CSV output"),
                       ({"output_path": tmp_path / "e.xlsx.gz"}, "an Excel workbook is compressed already")):
        output = bad.pop("output_path")
        with pytest.raises(ValueError, match=error):
            label_file(src, output, tiny_classifier, **bad)


def test_a_sheet_holds_what_excel_can_and_says_what_it_cut(tmp_path, monkeypatch):
    import openpyxl

    from commentnlp import spreadsheets

    writer = spreadsheets.SheetWriter("a/b:c")
    writer.writerows([["text", "n"], ["x" * 40_000, "1.50"], ["bell\x07", "1.5"]])
    writer.save(tmp_path / "s.xlsx")
    book = openpyxl.load_workbook(tmp_path / "s.xlsx")
    assert book.sheetnames == ["a_b_c"]  # characters a sheet's name cannot hold
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[1] == ("x" * 32_767, "1.50") and rows[2] == ("bell\ufffd", 1.5)  # "1.50" is not what 1.5 prints
    assert writer.notes() == ["1 cells held characters a sheet cannot (control characters): written as U+FFFD",
                              "1 cells were longer than Excel's 32,767 characters: cut there (CSV or JSONL keep them whole)"]
    monkeypatch.setattr(spreadsheets, "MAX_ROWS", 2)
    full = spreadsheets.SheetWriter()
    with pytest.raises(ValueError, match=r"more rows than an Excel sheet holds \(2\): label into CSV or JSONL instead"):
        full.writerows([["a"], ["b"], ["c"]])
    temporary = full.sheet._writer.out
    full.discard()  # a failed run's workbook: no temporary file left behind
    assert not os.path.exists(temporary)


def test_a_sheet_is_read_as_it_holds_its_rows_not_as_large_as_it_says(tmp_path, tiny_classifier):
    """A 5 KB workbook declaring <dimension ref="A1:XFD1048576"/> had each row padded to 16,384 cells:
    label ran for half an hour."""
    import re
    import zipfile

    from commentnlp.spreadsheets import read_xlsx_as_csv

    _workbook(tmp_path / "w.xlsx", {"Sheet": [["id", "message"], [1, "where can I buy this"]]})
    with zipfile.ZipFile(tmp_path / "w.xlsx") as z:
        files = {name: z.read(name) for name in z.namelist()}
    sheet = files["xl/worksheets/sheet1.xml"].decode()
    files["xl/worksheets/sheet1.xml"] = re.sub(r'<dimension ref="[^"]*"\s*/>', '<dimension ref="A1:XFD1048576"/>', sheet).encode()
    assert files["xl/worksheets/sheet1.xml"] != sheet.encode()
    with zipfile.ZipFile(tmp_path / "big.xlsx", "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    stream, _ = read_xlsx_as_csv(open(tmp_path / "big.xlsx", "rb"), None, lambda row: "message" in row)
    assert [stream.readline(), stream.readline(), stream.readline()] == [b"id,message\n", b"1,where can I buy this\n", b""]
    assert label_file(tmp_path / "big.xlsx", tmp_path / "out.jsonl", tiny_classifier).labeled == 1


def test_a_sheet_that_breaks_off_is_a_value_error():
    from commentnlp.exports import ChunkStream
    from commentnlp.spreadsheets import _csv_lines

    def rows():
        yield ("text",)
        raise KeyError("xl/worksheets/sheet1.xml")

    stream = io.BufferedReader(ChunkStream(_csv_lines(rows())))
    with pytest.raises(ValueError, match=r"the workbook cannot be read further \(KeyError: "):
        stream.read()


def test_gzip_round_trip_and_format_conversion(tmp_path, tiny_classifier):
    src = tmp_path / "export.jsonl.gz"
    with gzip.open(src, "wt", encoding="utf-8") as f:
        for i in range(50):
            f.write(json.dumps({"id": i, "text": f"comment {i}", "nested": {"a": i}, "hidden": i % 2 == 0, "n": None}) + "\n")
    label_file(src, None, tiny_classifier)
    with gzip.open(tmp_path / "export.labeled.jsonl.gz", "rt", encoding="utf-8") as f:
        rows = [json.loads(l) for l in f]
    assert [r["id"] for r in rows] == list(range(50)) and all("labels" in r for r in rows)
    label_file(src, tmp_path / "flat.csv", tiny_classifier)
    flat = list(csv.DictReader(open(tmp_path / "flat.csv", encoding="utf-8")))
    assert len(flat) == 50 and json.loads(flat[3]["nested"]) == {"a": 3} and flat[0]["style"]
    # JSON's true/false (as the troll column writes them; Python's True was written), null as empty
    assert [(r["hidden"], r["n"]) for r in flat[:2]] == [("true", ""), ("false", "")]
    assert {r["troll"] for r in flat} <= {"true", "false"}


def test_stdin_to_stdout_through_the_cli(tiny_model_dir, tmp_path):
    from typer.testing import CliRunner

    from commentnlp.cli import app

    data = 'text\nhello there\n""\n'
    result = CliRunner().invoke(app, ["label", "-", "--format", "csv", "--model", str(tiny_model_dir), "-q"], input=data)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 2 and rows[0]["intent"] and rows[1]["error"] == "line 3: 'text' is empty"
    # stdin has no name: its format (and gzip) are found from its first bytes when --format is not given
    for piped in (data.encode(), gzip.compress(data.encode())):
        again = CliRunner().invoke(app, ["label", "-", "--model", str(tiny_model_dir), "-q"], input=piped)
        assert again.exit_code == 0, again.output
        assert list(csv.DictReader(io.StringIO(again.stdout))) == rows  # was: every line 'not valid JSON'
    jsonl = '{"text": "hello there"}\n'
    result = CliRunner().invoke(app, ["label", "-", "--model", str(tiny_model_dir), "-q"], input=gzip.compress(jsonl.encode()))
    assert json.loads(result.stdout)["labels"]["intent"] == rows[0]["intent"]
    # a workbook on stdin, named with --format (its magic number was refused as a zip archive)
    _workbook(tmp_path / "w.xlsx", {"Sheet": [["text"], ["hello there"], [""]]})  # an empty cell: an empty row
    book = CliRunner().invoke(app, ["label", "-", "--format", "xlsx", "--model", str(tiny_model_dir), "-q"],
                              input=(tmp_path / "w.xlsx").read_bytes())
    assert book.exit_code == 0, book.output
    assert list(csv.DictReader(io.StringIO(book.stdout.removeprefix("\ufeff")))) == rows[:1]
    # UTF-16 JSON lines (PowerShell's pipe into a file) were sniffed as CSV
    utf16 = CliRunner().invoke(app, ["label", "-", "--model", str(tiny_model_dir), "-q"], input=jsonl.encode("utf-16"))
    assert utf16.exit_code == 0 and utf16.stdout == result.stdout
    labeled = result.stdout.encode()
    for piped in (labeled, gzip.compress(labeled)):
        report = CliRunner().invoke(app, ["report", "-", "-o", str(tmp_path / "r.html")], input=piped)
        assert report.exit_code == 0 and "1 records -> " in report.output and "1 labeled" in report.output


def test_resume_gzip_csv_after_interruption(tmp_path, tiny_classifier, monkeypatch):
    src = tmp_path / "in.csv"
    src.write_text("id,text\n" + "".join(f"{i},comment number {i}\n" for i in range(2500)), encoding="utf-8")
    expected = tmp_path / "expected.csv.gz"
    monkeypatch.setattr(exports.labelling, "CHUNK", 1024)
    label_file(src, expected, tiny_classifier)
    restore = interrupt_predict(monkeypatch, tiny_classifier, on_call=3)
    out = tmp_path / "out.csv.gz"
    with pytest.raises(KeyboardInterrupt):
        label_file(src, out, tiny_classifier)
    restore()
    assert label_file(src, out, tiny_classifier, resume=True).resumed == 2048
    assert gzip.decompress(out.read_bytes()) == gzip.decompress(expected.read_bytes())


@pytest.mark.parametrize("out_name", ["e.labeled.jsonl", "e.labeled.csv.gz", "e.labeled.xlsx"])
def test_a_link_planted_at_the_part_file_is_never_written_through(tmp_path, tiny_classifier, out_name):
    """In a shared folder, a link at `.e.labeled.jsonl.part` made label overwrite the file it named."""
    src = tmp_path / "e.jsonl"
    src.write_text('{"text": "where can I buy it"}\n')
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    part = tmp_path / f".{out_name}.part"
    part.symlink_to(victim)
    for resume in ([False, True] if "xlsx" not in out_name else [False]):
        with pytest.raises(OSError, match="is a link, not a file label writes: delete it"):
            label_file(src, tmp_path / out_name, tiny_classifier, resume=resume)
    assert victim.read_text() == "precious" and not (tmp_path / out_name).exists()
    part.unlink()
    if "xlsx" not in out_name:  # the checkpoint's scratch file too
        (tmp_path / f".{out_name}.part.json.tmp").symlink_to(victim)
        with pytest.raises(OSError, match="is a link"):
            label_file(src, tmp_path / out_name, tiny_classifier)
        assert victim.read_text() == "precious"


def test_killed_process_resumes_to_the_same_output(tmp_path, tiny_model_dir):
    src = tmp_path / "big.jsonl"
    src.write_text("".join(json.dumps({"id": i, "text": f"comment {i} where to buy? 😍"}) + "\n" for i in range(8_000)))
    cmd = [sys.executable, "-m", "commentnlp", "label", str(src), "--model", str(tiny_model_dir), "-q", "--backend", "torch"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    subprocess.run(cmd + ["-o", str(tmp_path / "expected.jsonl")], check=True, env=env)
    out = tmp_path / "out.jsonl"
    checkpoint = tmp_path / ".out.jsonl.part.json"
    proc = subprocess.Popen(cmd + ["-o", str(out)], env=env)
    deadline = time.time() + 120
    while not checkpoint.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, "the run finished before it could be killed"
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not out.exists()
    subprocess.run(cmd + ["-o", str(out), "--resume"], check=True, env=env)
    assert out.read_bytes() == (tmp_path / "expected.jsonl").read_bytes()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=200).filter(lambda b: b"\n" not in b), max_size=20))
def test_jsonl_reader_never_raises_and_keeps_every_nonblank_line(lines):
    items = list(read_jsonl(io.BytesIO(b"\n".join(lines) + b"\n")))
    content = [l[3:] if i == 0 and l.startswith(b"\xef\xbb\xbf") else l for i, l in enumerate(lines)]
    assert len(items) == sum(1 for l in content if l.strip())
    for item in items:
        assert isinstance(item.record, dict) and (item.error is None) == ("raw" not in item.record or isinstance(item.record.get("raw"), (dict,)))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=50), st.text(max_size=50)), max_size=15), st.sampled_from([["a", "b"], ["a", "message"]]))
def test_csv_reader_round_trips_arbitrary_text(rows, header):
    """Quotes, delimiters and newlines in fields: every row read back as written (a header naming no
    text field is searched for further down, one that does is not)."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf)
    writer.writerow(header)
    clean = [(a.replace("\r", ""), b.replace("\r", "")) for a, b in rows]
    clean = [(a, b) for a, b in clean if (a, b) != ("", "")]
    writer.writerows(clean)
    items = list(read_csv(io.BytesIO(buf.getvalue().encode("utf-8", "surrogatepass"))))
    good = [(i.record["a"], i.record[header[1]]) for i in items if i.error is None]
    encodable = [(a, b) for a, b in clean if not any(0xD800 <= ord(c) <= 0xDFFF for c in a + b)]
    assert good == encodable


def test_a_quote_never_closed_is_an_error_carrying_the_rest_of_the_file(tmp_path, tiny_classifier):
    """A stray quote read the rest of the file into one field, labelled as one comment, silently."""
    src = tmp_path / "stray.csv"
    src.write_text('id,message\n1,ok\n2,"so good\n3,where to buy\n4,fine\n', encoding="utf-8")
    summary = label_file(src, tmp_path / "out.jsonl", tiny_classifier)
    out = [json.loads(line) for line in open(tmp_path / "out.jsonl", encoding="utf-8")]
    assert (summary.total, summary.labeled, summary.errors) == (2, 1, 1) and "labels" in out[0]
    assert out[1] == {"raw": ["2", "so good\n3,where to buy\n4,fine\n"], "error": "line 3: a quote opened in this "
                      "row is never closed: it runs to the end of the file, 3 lines read as one row"}
    # closed further down, or a quote in an unquoted field: rows as they are
    src.write_text('id,message\n1,"two\nlines"\n2,a 5" screen\n3,"ends with a newline\n"\n', encoding="utf-8")
    assert [(i.record["id"], i.error) for i in read_csv(src.open("rb"))] == [("1", None), ("2", None), ("3", None)]


def test_csv_input_fields_named_like_output_columns_are_kept_in_extra(tmp_path, tiny_classifier):
    src = tmp_path / "in.csv"
    src.write_text("text,style,troll_score\nwhere can i buy this,my style,0.5\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    label_file(src, out, tiny_classifier)
    rows = list(csv.reader(open(out, encoding="utf-8")))
    header, row = rows[0], dict(zip(rows[0], rows[1]))
    assert len(header) == len(set(header)) and header.count("style") == 1
    assert row["style"] in ("audience", "community")
    assert json.loads(row["extra"]) == {"style": "my style", "troll_score": "0.5"}


def test_csv_columns_with_the_same_name_are_all_kept(tmp_path, tiny_classifier):
    """A header naming a column twice (or two blank names) lost the first column's values."""
    items = list(read_csv(io.BytesIO(b"id,text,text,,,text.1\n1,hello,world,a,b,c\n")))
    assert items[0].record == {"id": "1", "text": "hello", "text.2": "world", "": "a", ".1": "b", "text.1": "c"}
    src = tmp_path / "in.csv"
    src.write_text("id,text,text\n1,where can i buy this,second\n", encoding="utf-8")
    label_file(src, tmp_path / "out.csv", tiny_classifier)
    row = next(csv.DictReader(open(tmp_path / "out.csv", encoding="utf-8")))
    assert (row["id"], row["text"], row["text.1"]) == ("1", "where can i buy this", "second") and row["intent"]
    assert tiny_classifier.predict("where can i buy this").intent == row["intent"]
