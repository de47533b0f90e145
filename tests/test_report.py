"""The HTML report of a labeled export (``commentnlp.report`` and ``commentnlp report``).

Records are written by hand in the ``commentnlp label`` output format, so no model is needed.
The browser test renders the report in a real headless Chromium; it is skipped only where
Chromium is missing and cannot be installed (not root, not CI).
"""

import json
import os
import re
import shutil
import struct
import subprocess
import zlib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from commentnlp.cli import app
from commentnlp.report import build_report, default_report_path, parse_time
from commentnlp.schema import HEADS_BY_NAME

runner = CliRunner()
INTENTS = HEADS_BY_NAME["intent"].values
HOSTILE = '<script>alert("pwned")</script> where can I buy it?? \'single\' & <b>bold</b> <img src=x onerror=alert(1)>'


def rec(text, intent="social", sentiment="neutral", troll=False, style="audience", p=0.9, **extra):
    """One record as ``commentnlp label`` writes it; ``p`` is the probability of the given labels."""
    def dist(values, chosen):
        return {v: p if v == chosen else round((1 - p) / (len(values) - 1), 4) for v in values}

    return {"message": text, **extra,
            "labels": {"style": style, "intent": intent, "sentiment": sentiment, "troll": troll},
            "scores": {"style": dist(HEADS_BY_NAME["style"].values, style), "intent": dist(INTENTS, intent),
                       "sentiment": dist(HEADS_BY_NAME["sentiment"].values, sentiment),
                       "troll": dist(("false", "true"), "true" if troll else "false")},
            "action": f"action for {intent}"}


def write(path, records, extra_lines=()):
    lines = [json.dumps(r, ensure_ascii=False) for r in records] + list(extra_lines)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def mixed_records(days=0, start=datetime(2026, 3, 2, 9, tzinfo=timezone.utc)):
    """A small realistic mix: every intent, some negative, some trolls; one per ``days`` step if days."""
    rows = [
        rec("do you ship to Canada??", "where_to_buy", p=0.97),
        rec("is it at walmart or only online", "where_to_buy", p=0.8),
        rec("my order #4417 never arrived", "support_request", "negative", p=0.95),
        rec("is the dark one gluten free?", "product_question"),
        rec("this tastes like cardboard now", "feedback", "negative", p=0.85),
        rec("bring back the lemon one", "suggestion", "negative", p=0.7),
        rec("@sara THIS is the brand", "social", "positive", style="community"),
        rec("Earn $500/day from home, DM me", "spam", "negative"),
        rec("enjoy your diabetes morons", "feedback", "negative", troll=True),
        rec("ratio + L", "social", "negative", troll=True),
    ]
    if days:
        for i, r in enumerate(rows):
            r["created_time"] = (start + timedelta(days=days * i)).isoformat().replace("+00:00", "Z")
    return rows


def test_counts_errors_and_bad_lines(tmp_path):
    records = mixed_records()
    records.insert(3, {"id": "c9", "message": None, "error": "line 4: 'message' is null, not a string"})
    records.append({"raw": "{oops", "error": "line 12: not valid JSON (Expecting value at column 1)"})
    records.append({"message": "never labeled"})
    src = write(tmp_path / "x.labeled.jsonl", records, ["{not json", "", "[1, 2]", '"just a string"'])
    summary = build_report(src, tmp_path / "r.html")
    assert summary["records"] == 16 and summary["labeled"] == 10
    assert summary["errors"] == 2 and summary["bad_lines"] == 3 and summary["unlabeled"] == 1
    assert summary["reasons"]["'message' is null, not a string"] == 1 and summary["reasons"]["not valid JSON"] == 1
    assert summary["reasons"]["unreadable line: not valid JSON"] == 1
    assert list(summary["intent"]) == list(INTENTS) and sum(summary["intent"].values()) == 10
    assert summary["style"] == {"audience": 9, "community": 1}
    assert summary["sentiment"] == {"negative": 6, "neutral": 3, "positive": 1}
    assert summary["trolls"] == 2 and summary["troll_rate"] == pytest.approx(0.2)
    assert summary["queues"]["where_to_buy"] == {"total": 2, "shown": 2}
    # negative and engageable: not the spam, not the two trolls
    assert summary["queues"]["negative"]["total"] == 3
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    for name in ("Where to buy", "Product question", "Support request", "Feedback", "Suggestion", "Social", "Spam"):
        assert name in page
    assert "20.0%" in page  # troll rate
    assert "unreadable line: not valid JSON" in page


def test_all_seven_intents_even_when_absent(tmp_path):
    src = write(tmp_path / "one.jsonl", [rec("love it", "feedback", "positive")])
    summary = build_report(src, tmp_path / "r.html")
    assert summary["intent"] == {i: int(i == "feedback") for i in INTENTS}
    assert (tmp_path / "r.html").read_text().count('class="hrow"') == 7


def test_hostile_text_is_escaped_everywhere(tmp_path):
    records = [rec(HOSTILE, "where_to_buy", id='"><script>x</script>', page="<i>Brand</i>",
                   created_time="2026-01-01T00:00:00Z"),
               rec(HOSTILE, "support_request", "negative"),
               rec("lone surrogate \ud800 and bidi \u202e text", "feedback", "negative")]
    records[0]["action"] = "<script>steal()</script>"
    src = tmp_path / "x.jsonl"
    src.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    out = tmp_path / "r.html"
    build_report(src, out, title='Q1 <script>alert("t")</script>')
    page = out.read_text(encoding="utf-8")
    assert "<script" not in page.lower() and "<img" not in page.lower() and "<b>bold" not in page
    assert "&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;" in page
    assert "&#x27;single&#x27; &amp; &lt;b&gt;bold&lt;/b&gt;" in page
    assert "&lt;i&gt;Brand&lt;/i&gt;" in page and "&lt;script&gt;steal()" in page
    assert "<title>Q1 &lt;script&gt;alert(&quot;t&quot;)&lt;/script&gt;</title>" in page
    assert "lone surrogate ? and bidi" in page  # unencodable text is replaced, not fatal


def test_self_contained_and_atomic(tmp_path):
    src = write(tmp_path / "x.jsonl", mixed_records(days=1))
    out = tmp_path / "sub" / "report.html"
    build_report(src, out)
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and page.rstrip().endswith("</html>")
    assert not re.search(r"\b(src|href)\s*=|@import|url\(|<link|<script", page, re.I)
    assert [u for u in re.findall(r"https?://[^\s\"'<>]+", page) if u != "http://www.w3.org/2000/svg"] == []
    assert sorted(p.name for p in out.parent.iterdir()) == ["report.html"]  # no temp file left behind


def test_output_is_never_an_input_and_devices_are_written_into(tmp_path, capsys):
    src = write(tmp_path / "x.labeled.jsonl", mixed_records())
    before = src.read_bytes()
    for out in (src, tmp_path / "." / "x.labeled.jsonl"):  # the data was overwritten with HTML, exit code 0
        with pytest.raises(ValueError, match="is the input"):
            build_report(src, out)
    html = write(tmp_path / "r.labeled.html", [])
    with pytest.raises(ValueError, match="is the input"):  # an HTML report named as the input: its own default path
        build_report(html, default_report_path(html))
    assert src.read_bytes() == before
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    build_report(src, fifo)  # it was replaced by a regular file (as root: /dev/null itself), its reader left waiting
    assert reader.communicate(timeout=30)[0].startswith(b"<!doctype html>") and not fifo.is_file()
    build_report(src, "-")
    assert capsys.readouterr().out.startswith("<!doctype html>") and not (tmp_path / "-").exists()


def test_a_file_named_twice_is_counted_once(tmp_path, monkeypatch):
    src = write(tmp_path / "x.labeled.jsonl", mixed_records())
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["report", "x.labeled.jsonl", "./x.labeled.jsonl", str(src), "-o", "r.html"])
    assert result.exit_code == 0 and result.output.startswith("10 records ->"), result.output


def test_trend_per_day_with_iso_and_unix_times(tmp_path):
    records = mixed_records(days=1)
    records[1]["created_time"] = int(datetime(2026, 3, 3, 12, tzinfo=timezone.utc).timestamp())  # unix seconds
    records[2].pop("created_time")
    records[2]["timestamp"] = "2026-03-04T10:00:00+0000"
    records[3]["created_time"] = "last tuesday"  # unparseable: ignored
    src = write(tmp_path / "x.jsonl", records)
    summary = build_report(src, tmp_path / "r.html")
    assert summary["dated"] == 9
    assert summary["trend"] == {"unit": "day", "buckets": 10}
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert 'id="trend"' in page and page.count("<svg") == 3
    assert "Mar 2, 2026 – Mar 11, 2026" in page
    assert "1 labeled record without a usable timestamp left out (e.g. created_time &#x27;last tuesday&#x27;: not a time " \
           "from 1990 to 2099 in ISO 8601" in page  # it says which value it could not read


def test_trend_per_week_beyond_60_days(tmp_path):
    src = write(tmp_path / "x.jsonl", mixed_records(days=10))  # 90 days
    summary = build_report(src, tmp_path / "r.html")
    assert summary["trend"]["unit"] == "week" and summary["trend"]["buckets"] == 13
    assert "Per week" in (tmp_path / "r.html").read_text(encoding="utf-8")


def test_no_trend_without_timestamps(tmp_path):
    records = mixed_records()
    records[0]["created_time"] = "not a date"
    records[1]["date"] = None
    src = write(tmp_path / "x.jsonl", records)
    summary = build_report(src, tmp_path / "r.html")
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert summary["trend"] is None and summary["dated"] == 0
    assert 'id="no-trend"' in page and "<svg" not in page
    # "No timestamps in these records" was said of records whose created_time was in another format
    assert "No usable timestamps in these records (e.g. created_time &#x27;not a date&#x27;: not a time from 1990" in page
    for missing in (None, ""):  # an empty cell is no time either (was "created_time '': not a time")
        records[0]["created_time"] = missing
        build_report(write(tmp_path / "y.jsonl", records), tmp_path / "r.html")
        assert "No timestamps in these records (looked for created_time, " in (tmp_path / "r.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("value, expected", [
    ("2026-11-01T08:00:00Z", datetime(2026, 11, 1, 8, tzinfo=timezone.utc)),
    ("2026-11-01T10:00:00+02:00", datetime(2026, 11, 1, 8, tzinfo=timezone.utc)),
    ("2026-11-01T08:00:00+0000", datetime(2026, 11, 1, 8, tzinfo=timezone.utc)),
    ("2026-11-01T08:00:00.123456789Z", datetime(2026, 11, 1, 8, 0, 0, 123456, tzinfo=timezone.utc)),
    ("2026-11-01 08:00:00", datetime(2026, 11, 1, 8, tzinfo=timezone.utc)),
    ("2026-11-01", datetime(2026, 11, 1, tzinfo=timezone.utc)),
    (1793520000, datetime(2026, 11, 1, 8, tzinfo=timezone.utc)),
    (1793520000.5, datetime(2026, 11, 1, 8, 0, 0, 500000, tzinfo=timezone.utc)),
    ("1793520000", datetime(2026, 11, 1, 8, tzinfo=timezone.utc)),
    (1793520000000, datetime(2026, 11, 1, 8, tzinfo=timezone.utc)),  # milliseconds
    ("yesterday", None), ("", None), (None, None), (True, None), (float("nan"), None), (1e300, None), ({}, None),
    # placeholders, not comment times: they stretched the time axis from 1969
    (0, None), (-1, None), ("1970-01-01T00:00:00Z", None), ("0001-01-01", None), ("2206-11-01", None),
    ("1990-01-01", datetime(1990, 1, 1, tzinfo=timezone.utc)),
    # dates as exports and spreadsheets write them (the trend was "no usable timestamps")
    ("Nov 3, 2026 10:00 AM", datetime(2026, 11, 3, 10, tzinfo=timezone.utc)),
    ("Nov 3, 2026 at 10:00 pm", datetime(2026, 11, 3, 22, tzinfo=timezone.utc)),  # Facebook
    ("December 25, 2026, 11:59:59 PM UTC", datetime(2026, 12, 25, 23, 59, 59, tzinfo=timezone.utc)),
    ("3 November 2026", datetime(2026, 11, 3, tzinfo=timezone.utc)),
    ("Tue Nov 03 10:00:00 +0200 2026", datetime(2026, 11, 3, 8, tzinfo=timezone.utc)),  # Twitter's created_at
    ("2026/11/03 10:00", datetime(2026, 11, 3, 10, tzinfo=timezone.utc)),
    ("03.11.2026 10:00", datetime(2026, 11, 3, 10, tzinfo=timezone.utc)),  # dots: day first
    ("11/23/2026 12:30 AM", datetime(2026, 11, 23, 0, 30, tzinfo=timezone.utc)),
    ("23/11/2026 22:15", datetime(2026, 11, 23, 22, 15, tzinfo=timezone.utc)),
    ("2026-11-03 10:00:00 UTC", datetime(2026, 11, 3, 10, tzinfo=timezone.utc)),  # BigQuery's
    ("Tue, 03 Nov 2026 12:00:00 +0200", datetime(2026, 11, 3, 10, tzinfo=timezone.utc)),  # e-mail's, RSS's (RFC 2822)
    # a written date's offset: read by e-mail's parser for a moment, 11:30 PM -0500 was 11:30 UTC, 12 hours off
    ("Nov 2, 2026 11:30 PM -0500", datetime(2026, 11, 3, 4, 30, tzinfo=timezone.utc)),
    ("Nov 2, 2026 11:30 PM +0000", datetime(2026, 11, 2, 23, 30, tzinfo=timezone.utc)),
    ("Mon Nov 02 2026 23:30:00 GMT-0500 (Eastern Standard Time)", datetime(2026, 11, 3, 4, 30, tzinfo=timezone.utc)),
    ("Nov 2, 2026 11:30 PM EST", None),  # a zone's name other than e-mail's: not guessed
    ("Tue, 03 Nov 26 10:00:00 +0000", datetime(2026, 11, 3, 10, tzinfo=timezone.utc)),  # RSS's two-digit year
    ("Mon Nov 02 2026 23:30:00 GMT+0100 (Central European Standard Time)",  # a zone name past 64 characters
     datetime(2026, 11, 2, 22, 30, tzinfo=timezone.utc)),
    ("11/03/2026", None),  # March 11 or November 3: a report decides from the export's other dates
    ("Nov 31, 2026", None), ("13/13/2026", None), ("00/05/2026", None), ("11/03/2026 25:00", None),
])
def test_parse_time(value, expected):
    assert parse_time(value) == expected


@pytest.mark.parametrize("fmt, evidence, order, span", [
    ("%m/%d/%Y %I:%M %p", "11/23/2026 10:00 AM", "month first: 1 date of this export, such as 11/23/2026, has",
     "Nov 3, 2026 – Nov 23, 2026"),
    ("%d/%m/%Y %H:%M", "23/11/2026 10:00", "day first: 1 date of this export, such as 23/11/2026, has",
     "Nov 3, 2026 – Nov 23, 2026"),
    ("%m/%d/%Y", None, "month first, as US exports write them: no date of this export has", "Nov 3, 2026 – Nov 5, 2026"),
])
def test_dates_with_slashes_are_read_in_the_order_the_export_writes_them(tmp_path, fmt, evidence, order, span):
    """03/11/2026 is March 11 or November 3: the export's dates with a day above 12 tell which."""
    days = [datetime(2026, 11, d, 10, tzinfo=timezone.utc) for d in (3, 3, 5)]
    records = [rec(f"c{i}", Date=day.strftime(fmt)) for i, day in enumerate(days)]  # "Date": in any case
    records += [rec("late", Date=evidence)] if evidence else []
    summary = build_report(write(tmp_path / "x.jsonl", records), tmp_path / "r.html")
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert summary["dated"] == len(records) and summary["trend"]["unit"] == "day"
    assert f"Dates such as 03/11/2026 are read {order}" in page and span in page


def test_queues_are_capped_sorted_and_filtered(tmp_path):
    records = [rec(f"where to buy #{i}", "where_to_buy", p=round(0.5 + i / 100, 2)) for i in range(30)]
    records += [rec("where to buy, you clowns", "where_to_buy", "negative", troll=True, p=0.99),
                rec("spam spam", "spam", "negative", p=0.99),
                rec("support troll", "support_request", "negative", troll=True, p=0.99),
                rec("refund me", "support_request", "negative", p=0.6),
                rec("no scores", "support_request", "negative")]
    del records[-1]["scores"]
    src = write(tmp_path / "x.jsonl", records)
    summary = build_report(src, tmp_path / "r.html", max_queue=5)
    assert summary["queues"]["where_to_buy"] == {"total": 30, "shown": 5}
    assert summary["queues"]["support"] == {"total": 2, "shown": 2}
    assert summary["queues"]["negative"] == {"total": 2, "shown": 2}
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    section = page.split('id="queue-where_to_buy"')[1].split("</section>")[0]
    assert re.findall(r"where to buy #(\d+)", section) == ["29", "28", "27", "26", "25"]
    assert "showing the 5 most confident of 30" in section and "clowns" not in page.split('id="queue-negative"')[0]
    support = page.split('id="queue-support"')[1].split("</section>")[0]
    assert support.index("refund me") < support.index("no scores") and "support troll" not in support
    negative = page.split('id="queue-negative"')[1].split("</section>")[0]
    assert "spam spam" not in negative and "refund me" in negative
    summary = build_report(src, tmp_path / "r0.html", max_queue=0)
    assert summary["queues"]["where_to_buy"] == {"total": 30, "shown": 0}
    assert "where to buy #" not in (tmp_path / "r0.html").read_text(encoding="utf-8")
    with pytest.raises(ValueError):
        build_report(src, tmp_path / "r1.html", max_queue=-1)


def test_queue_text_comes_from_the_chosen_field(tmp_path):
    records = [{**rec("where to buy", "where_to_buy", p=0.9), "body": "Is it sold in Ohio?", "text": "not me"}]
    src = write(tmp_path / "x.jsonl", records)
    runner.invoke(app, ["report", str(src), "-o", str(tmp_path / "r.html"), "--text-field", "body", "-q"])
    section = (tmp_path / "r.html").read_text(encoding="utf-8").split('id="queue-where_to_buy"')[1]
    assert "Is it sold in Ohio?" in section and "not me" not in section
    build_report(src, tmp_path / "d.html")
    assert "not me" in (tmp_path / "d.html").read_text(encoding="utf-8").split('id="queue-where_to_buy"')[1]
    result = runner.invoke(app, ["report", str(src), "-o", str(tmp_path / "r.html"), "--text-field", "msg"])
    assert result.exit_code == 0 and build_report(src, tmp_path / "n.html", text_field="msg")["untexted"] == 1
    assert ("hint: 1 of 1 labeled records have no 'msg' field, so their comments are blank in the work queues; "
            "pass the --text-field given to 'label'") in result.output


def test_a_directory_as_the_report_output_is_refused_before_reading(tmp_path):
    src = write(tmp_path / "x.jsonl", [rec("where to buy", "where_to_buy")])
    with pytest.raises(IsADirectoryError, match=f"the report's output is a directory: {tmp_path} "):
        build_report(src, tmp_path)  # it wrote a temporary file into the directory's parent, then failed on rename
    assert not list(tmp_path.parent.glob(f".{tmp_path.name}.*.part"))


def test_report_o_dir_writes_the_report_in_it_as_label_o_dir_does(tmp_path):
    """`report x.jsonl -o newrep/` wrote an HTML file named `newrep`; an existing folder was an error."""
    src = write(tmp_path / "x.labeled.jsonl", [rec("where to buy", "where_to_buy")])
    for out in (f"{tmp_path / 'newrep'}/", str(tmp_path)):
        result = runner.invoke(app, ["report", str(src), "-o", out])
        assert result.exit_code == 0 and (Path(out) / "x.labeled.html").is_file(), result.output
    result = runner.invoke(app, ["report", "-", "-o", f"{tmp_path / 'piped'}/"], input=src.read_text())  # was '-.html'
    assert result.exit_code == 0 and (tmp_path / "piped" / "report.html").is_file()
    other = write(tmp_path / "y.labeled.jsonl", [rec("lol", "social")])
    result = runner.invoke(app, ["report", str(src), str(other), "-o", f"{tmp_path / 'two'}/"])  # several: report.html
    assert result.exit_code == 0 and "2 records -> " in result.output and (tmp_path / "two" / "report.html").is_file()


def test_cli_report(tmp_path):
    src = write(tmp_path / "export.labeled.jsonl", mixed_records(days=1))
    result = runner.invoke(app, ["report", str(src), "--title", "Weekly <review>"])
    assert result.exit_code == 0, result.output
    out = tmp_path / "export.labeled.html"
    assert out.is_file() and "<h1>Weekly &lt;review&gt;</h1>" in out.read_text(encoding="utf-8")
    assert "10 records" in result.output and "10 labeled" in result.output
    assert "hint" not in result.output
    raw = write(tmp_path / "export.jsonl", [{"id": 1, "text": "not labelled yet"}])
    result = runner.invoke(app, ["report", str(raw), "-o", str(tmp_path / "raw.html")])
    assert result.exit_code == 0 and f"hint: no record carries labels; report on what 'commentnlp label {raw}'" in result.output
    result = runner.invoke(app, ["report", str(src), "-o", str(tmp_path / "r.html"), "-q"])
    assert result.exit_code == 0 and (tmp_path / "r.html").is_file()
    result = runner.invoke(app, ["report", str(tmp_path / "missing.jsonl")])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.strip() == f"error: input file not found: {tmp_path / 'missing.jsonl'}"
    assert runner.invoke(app, ["report", "--help"]).exit_code == 0


def test_one_report_of_several_exports(tmp_path):
    """A month of weekly exports in one report (a second input was "Got unexpected extra argument")."""
    records = mixed_records(days=1)
    first, second = write(tmp_path / "w1.labeled.jsonl", records[:4]), write(tmp_path / "w2.labeled.jsonl", records[4:])
    whole = build_report(write(tmp_path / "all.labeled.jsonl", records), tmp_path / "one.html")
    both = build_report([first, second], tmp_path / "both.html")
    assert {k: v for k, v in both.items() if k != "output"} == {k: v for k, v in whole.items() if k != "output"}
    assert "w1.labeled.jsonl and 1 other file · 10 records" in (tmp_path / "both.html").read_text(encoding="utf-8")
    result = runner.invoke(app, ["report", str(first), str(second), "-o", str(tmp_path / "cli.html")])
    assert result.exit_code == 0 and "10 records -> " in result.output
    result = runner.invoke(app, ["report", str(first), str(second)])
    assert result.exit_code == 2 and "2 exports make one report: name its file with -o" in result.output


def test_report_reads_every_format_label_writes(tmp_path, tiny_classifier):
    """label's CSV (its label and score columns), Excel and gzip outputs give the same report as its JSONL."""
    from commentnlp.exports import label_file

    src = tmp_path / "export.jsonl"
    rows = [{"id": i, "message": m["message"], "created_time": m["created_time"]} for i, m in enumerate(mixed_records(days=1))]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows) + "{broken\n" + '{"id": 99, "message": null}\n')
    summaries = {}
    for name in ("l.jsonl", "l.csv", "l.jsonl.gz", "l.csv.gz", "l.xlsx"):
        label_file(src, tmp_path / name, tiny_classifier)
        summaries[name] = build_report(tmp_path / name, tmp_path / f"{name}.html", max_queue=3)
        summaries[name].pop("output")
    assert summaries["l.jsonl"]["labeled"] == 10 and summaries["l.jsonl"]["errors"] == 2
    assert all(s == summaries["l.jsonl"] for s in summaries.values())
    pages = {n: re.sub(r"<p class=\"sub\">.*?</p>", "", (tmp_path / f"{n}.html").read_text()) for n in summaries}
    assert all(p == pages["l.jsonl"] for p in pages.values())  # queues, their order and scores too
    assert default_report_path(tmp_path / "l.jsonl.gz") == tmp_path / "l.html"


def test_a_labeled_csv_resaved_by_excel_is_read_with_its_encoding(tmp_path):
    """Re-saved by Excel on Windows (cp1252), a labeled CSV's accented rows were dropped from the counts and
    queues as 'unreadable lines', with no line, no hint and no --encoding to read them."""
    from typer.testing import CliRunner

    from commentnlp.cli import app

    rows = "id,message,style,intent,sentiment,troll\r\n1,café ok,audience,feedback,positive,false\r\n" \
           "2,où acheter,audience,where_to_buy,neutral,false\r\n3,plain,audience,social,neutral,false\r\n"
    (tmp_path / "cp.csv").write_bytes(rows.encode("cp1252"))
    result = CliRunner().invoke(app, ["report", str(tmp_path / "cp.csv"), "-o", str(tmp_path / "r.html")])
    assert result.exit_code == 0 and "1 labeled, 0 with errors, 2 unreadable lines (lines 2, 3)" in result.stderr
    assert "hint: the export is not all UTF-8" in result.stderr and "--encoding" in result.stderr
    result = CliRunner().invoke(app, ["report", str(tmp_path / "cp.csv"), "-o", str(tmp_path / "r.html"),
                                      "--encoding", "cp1252"])
    assert result.exit_code == 0 and "3 labeled, 0 with errors, 0 unreadable lines" in result.stderr
    assert "hint" not in result.stderr and "où acheter" in (tmp_path / "r.html").read_text()
    # Excel's "Unicode Text" (UTF-16, tab-separated, named .txt) needs no option
    (tmp_path / "u.txt").write_bytes(rows.replace(",", "\t").encode("utf-16"))
    assert build_report(tmp_path / "u.txt", tmp_path / "u.html")["labeled"] == 3


def test_scores_with_a_decimal_comma_keep_the_queues_ranked_and_a_bad_file_among_several_is_named(tmp_path):
    """Excel re-saves a labeled CSV with '0,9214' where the decimal mark is a comma: every score was dropped,
    the queues unranked; with several files, an unreadable one was not named."""
    rows = "id;message;style;intent;sentiment;troll;intent_score\r\n1;where 1;audience;where_to_buy;neutral;false;0,51\r\n" \
           "2;where 2;audience;where_to_buy;neutral;false;0,97\r\n"
    (tmp_path / "semi.csv").write_text(rows)
    build_report(tmp_path / "semi.csv", tmp_path / "semi.html")
    page = (tmp_path / "semi.html").read_text()
    assert page.index("where 2") < page.index("where 1") and "97%" in page
    (tmp_path / "u16.csv").write_bytes("id,message\r\n".encode("utf-16"))
    with pytest.raises(ValueError, match=f"^{re.escape(str(tmp_path / 'u16.csv'))}: .*UTF-16"):
        build_report([tmp_path / "semi.csv", tmp_path / "u16.csv"], tmp_path / "r.html", encoding="cp1252")


def test_report_reads_an_export_as_label_does_whatever_its_name(tmp_path, tiny_classifier):
    """label reads a file whose name says no format by its first bytes; report read it as JSON lines (every line
    unreadable), and a 'Unicode Text' .txt of label's own header whose comments are under another name as JSON."""
    import gzip

    from commentnlp.exports import label_file

    src = tmp_path / "in.jsonl"
    src.write_text('{"Hit Sentence": "where can i buy it"}\n{"Hit Sentence": "lol"}\n')
    label_file(src, tmp_path / "out.csv", tiny_classifier, text_field="Hit Sentence")
    (tmp_path / "noext").write_bytes((tmp_path / "out.csv").read_bytes())
    (tmp_path / "gz.dat").write_bytes(gzip.compress((tmp_path / "out.csv").read_bytes()))
    (tmp_path / "u16.txt").write_bytes((tmp_path / "out.csv").read_text(encoding="utf-8-sig").replace(",", "\t")
                                       .encode("utf-16"))
    for name in ("noext", "gz.dat", "u16.txt"):
        summary = build_report(tmp_path / name, tmp_path / f"{name}.html", text_field="Hit Sentence")
        assert (summary["labeled"], summary["bad_lines"]) == (2, 0), name


def test_report_reads_what_label_engine_spark_writes():
    """Spark's JSON output holds the labels as top-level columns and the scores as a JSON string: every record
    counted as unlabelled ('report on what commentnlp label writes')."""
    import tempfile

    rows = [{"id": 1, "text": "where can i buy", "style": "audience", "intent": "where_to_buy", "sentiment": "neutral",
             "troll": False, "action": "Reply...", "scores": json.dumps({"intent": {"where_to_buy": 0.9}}), "error": None},
            {"id": 2, "text": None, "style": None, "intent": None, "sentiment": None, "troll": None, "action": None,
             "scores": None, "error": "'text' is null, not a string"}]
    with tempfile.TemporaryDirectory() as tmp:
        src = write(Path(tmp) / "part-0000.json", rows)
        summary = build_report(src, Path(tmp) / "r.html")
        page = (Path(tmp) / "r.html").read_text()
    assert (summary["records"], summary["labeled"], summary["errors"]) == (2, 1, 1)
    assert summary["intent"]["where_to_buy"] == 1 and "90%" in page


def test_report_input_errors_are_one_line(tmp_path):
    (tmp_path / "bad.jsonl.gz").write_bytes(b"not gzip")
    result = runner.invoke(app, ["report", str(tmp_path / "bad.jsonl.gz")])
    assert result.exit_code == 1 and result.output.startswith(f"error: cannot read input {tmp_path / 'bad.jsonl.gz'}: ")
    result = runner.invoke(app, ["report", str(tmp_path)])
    assert result.exit_code == 1 and result.output.strip() == f"error: input is a directory, not an export file: {tmp_path}"
    result = runner.invoke(app, ["report", "-"], input="")
    assert result.exit_code == 2 and "name the report file with -o" in result.output
    src = write(tmp_path / "l.jsonl", mixed_records())
    result = runner.invoke(app, ["report", "-", "-o", str(tmp_path / "stdin.html")], input=src.read_text())
    assert result.exit_code == 0 and "10 records" in result.output and (tmp_path / "stdin.html").is_file()


# --------------------------------------------------------------------------- real browser

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars"]


def _chromium() -> str:
    found = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
    if found is None:
        if os.environ.get("CI") or (hasattr(os, "geteuid") and os.geteuid() == 0):
            pytest.fail("chromium is missing: apt-get install -y chromium (.ci/run installs it)")
        pytest.skip("chromium is not installed")
    return found


def _png_rows(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and the (filtered) scanlines of a non-interlaced PNG, without Pillow."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, []
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        pos += 12 + length
    assert interlace == 0 and depth == 8
    stride = 1 + width * {0: 1, 2: 3, 4: 2, 6: 4}[color]
    raw = zlib.decompress(b"".join(idat))
    assert len(raw) == stride * height, "truncated image data"
    return width, height, [raw[i:i + stride] for i in range(0, len(raw), stride)]


def test_report_renders_in_headless_chromium(tmp_path):
    chromium = _chromium()
    records = mixed_records(days=1) * 8
    records.insert(0, rec(HOSTILE, "where_to_buy", p=0.999, created_time="2026-03-05T10:00:00Z"))
    src = write(tmp_path / "x.jsonl", records, ["{broken"])
    out = build_report(src, tmp_path / "report.html")["output"]
    url = f"file://{os.path.abspath(out)}"
    common = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]

    # the DOM the browser built: hostile text stayed text, the page is all there
    dom = subprocess.run([*common, "--dump-dom", url], capture_output=True, text=True, timeout=180).stdout
    assert "Where-to-buy questions to answer" in dom and "Data quality" in dom
    assert "<script" not in dom.lower() and "<img" not in dom.lower()
    assert "&lt;script&gt;alert(\"pwned\")&lt;/script&gt;" in dom

    png = tmp_path / "shot.png"
    proc = subprocess.run([*common, f"--screenshot={png}", "--window-size=1280,2400", url],
                          capture_output=True, text=True, timeout=180)
    assert png.is_file(), proc.stderr[-2000:]
    data = png.read_bytes()
    assert len(data) > 50_000, "screenshot is suspiciously small (blank page?)"
    width, height, rows = _png_rows(data)
    assert (width, height) == (1280, 2400)
    # a blank page has (almost) identical scanlines; the report has text and charts all the way down
    quarter = height // 4
    for k in range(4):
        distinct = len(set(rows[k * quarter:(k + 1) * quarter]))
        assert distinct > 50, f"quarter {k + 1} of the screenshot looks blank ({distinct} distinct rows)"


def test_one_comment_is_one_comment_not_one_comments(tmp_path):
    records = [rec("you clowns", "feedback", "negative", troll=True, created_time="2026-11-01T08:00:00Z"),
               rec("where to buy", "where_to_buy", created_time="2026-11-01T09:00:00Z")]
    build_report(write(tmp_path / "x.jsonl", records), tmp_path / "r.html")
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "1 comments" not in page
    assert "1 comment: don&#x27;t feed them" in page and "Intent of 2 labeled comments" in page
    assert "negative (2 comments)</title>" in page and ": 2 comments</title>" in page
    records[1]["created_time"] = "2026-11-02T09:00:00Z"  # a day each: one comment per point
    build_report(write(tmp_path / "x.jsonl", records), tmp_path / "r.html")
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "1 comments" not in page and "100.0% negative (1 comment)</title>" in page


def test_unsure_comments_get_a_queue_to_read_least_sure_first(tmp_path):
    """With label --abstain, the comments the model was unsure of are the CM's to read."""
    def unsure(text, head, top, **kw):
        r = rec(text, **kw)
        r["labels"][head] = "unsure"
        r["scores"][head] = {k: (top if i == 0 else round((1 - top) / (len(v) - 1), 4))
                             for v in [list(r["scores"][head])] for i, k in enumerate(v)}
        return r

    records = [unsure("is it any good", "intent", 0.41), unsure("you clowns again", "troll", 0.55),
               unsure("lol whatever", "intent", 0.38, troll=True),  # a troll: not the CM's to read
               unsure("hmm", "intent", 0.30), rec("where to buy", "where_to_buy")]
    summary = build_report(write(tmp_path / "x.jsonl", records), tmp_path / "r.html")
    assert summary["queues"]["unsure"] == {"total": 3, "shown": 3}
    section = (tmp_path / "r.html").read_text(encoding="utf-8").split('id="queue-unsure"')[1].split("</section>")[0]
    assert "Least sure first" in section
    assert section.index("hmm") < section.index("is it any good") < section.index("you clowns again")
    assert "lol whatever" not in section
    build_report(write(tmp_path / "y.jsonl", records[-1:]), tmp_path / "s.html")
    assert 'id="queue-unsure"' not in (tmp_path / "s.html").read_text(encoding="utf-8")  # no --abstain: no section
    # the CSV label writes: its unsure rows had empty scores, so the queue showed "–" in file order
    import io

    from commentnlp.exports.writers import _CsvSink

    text = io.StringIO()
    sink = _CsvSink(text)
    for r in records:
        sink.write(r)
    sink.flush()
    (tmp_path / "x.csv").write_text(text.getvalue(), encoding="utf-8")
    build_report(tmp_path / "x.csv", tmp_path / "c.html")
    csv_section = (tmp_path / "c.html").read_text(encoding="utf-8").split('id="queue-unsure"')[1].split("</section>")[0]
    assert csv_section.index("hmm") < csv_section.index("is it any good") < csv_section.index("you clowns again")
    assert "41%" in csv_section or "0.41" in csv_section


def test_several_exports_each_read_slash_dates_in_their_own_order(tmp_path):
    # pooled, a day-first export's majority moved a month-first export's 05/06/2015 to June 5
    eu = [rec(f"eu{d}", Date=f"{d:02d}/05/2015 10:00") for d in (3, 13, 14, 15, 16)]  # day first: 13/05
    us = [rec("us", "where_to_buy", Date="05/06/2015 10:00"), rec("us2", Date="05/20/2015 10:00")]  # month first: 05/20
    summary = build_report([write(tmp_path / "eu.jsonl", eu), write(tmp_path / "us.jsonl", us)], tmp_path / "r.html")
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "May 3, 2015 – May 20, 2015" in page and summary["dated"] == 7
    queue = page.split('id="queue-where_to_buy"')[1].split("</section>")[0]
    assert "05/06/2015 10:00" in queue  # a queue row showed no time for such a date
    # two files of one name: each named by its path (the note spoke of one export); an offset moves the UTC day
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    late = [rec("late", Date="05/06/2015 11:30 PM -0500"), rec("us2", Date="05/20/2015 10:00")]
    build_report([write(tmp_path / "a" / "c.jsonl", eu), write(tmp_path / "b" / "c.jsonl", late)], tmp_path / "s.html")
    page = (tmp_path / "s.html").read_text(encoding="utf-8")
    assert f"day first in {tmp_path / 'a' / 'c.jsonl'}, month first in {tmp_path / 'b' / 'c.jsonl'}" in page
    assert "May 7 2015: 1 comment" in page and "May 6 2015: 1 comment" not in page  # 11:30 PM -0500: 04:30 UTC, May 7
    assert "read in the order each file&#x27;s other dates show: day first in eu.jsonl, month first in us.jsonl" in \
        (tmp_path / "r.html").read_text(encoding="utf-8")


def test_a_comment_date_column_dates_the_comment_not_its_posts_date(tmp_path):
    # a Facebook comment scrape (../shared/datasets/fb_dei_brand_comments) has post_date and comment_date: no trend
    records = [rec("a", post_date="2025-01-23 09:00:00", comment_date="2025-01-25"),
               rec("b", post_date="2025-01-23 09:00:00", comment_date="2025-01-27")]
    summary = build_report(write(tmp_path / "fb.jsonl", records), tmp_path / "r.html")
    assert summary["dated"] == 2 and "Jan 25, 2025 – Jan 27, 2025" in (tmp_path / "r.html").read_text(encoding="utf-8")


def test_youtube_comments_are_dated_by_their_nested_published_at(tmp_path):
    # what label writes of a YouTube API response: "No timestamps in these records"
    thread = rec("where to buy?", snippet={"topLevelComment": {"snippet": {"publishedAt": "2026-11-03T10:00:00Z"}}})
    reply = rec("amazon", snippet={"publishedAt": "2026-11-04T09:00:00Z"}, parent_id="t1")
    summary = build_report(write(tmp_path / "yt.jsonl", [thread, reply]), tmp_path / "r.html")
    assert summary["dated"] == 2 and summary["trend"]["unit"] == "day"


def test_a_youtube_response_labelled_into_csv_is_read_back_with_its_text_and_time(tmp_path, tiny_classifier):
    # the text and time sit in the 'snippet' column as JSON: the report's comments were blank, undated, and
    # labelling that CSV again was "no text field"
    from commentnlp.exports import label_file

    thread = {"id": "t1", "snippet": {"topLevelComment": {"snippet": {
        "textOriginal": "where can I buy it?", "publishedAt": "2026-11-03T10:00:00Z"}}}}
    (tmp_path / "yt.json").write_text(json.dumps({"items": [thread]}), encoding="utf-8")
    label_file(tmp_path / "yt.json", tmp_path / "yt.csv", tiny_classifier)
    summary = build_report(tmp_path / "yt.csv", tmp_path / "r.html")
    assert (summary["labeled"], summary["untexted"], summary["dated"]) == (1, 0, 1)
    assert label_file(tmp_path / "yt.csv", tmp_path / "again.csv", tiny_classifier).labeled == 1


def test_an_unsure_intent_is_unsure_over_time_too(tmp_path):
    records = mixed_records(days=1)
    records[0]["labels"]["intent"] = "unsure"  # the intent section said "Unsure 1", the chart per day "Other"
    build_report(write(tmp_path / "x.jsonl", records), tmp_path / "r.html")
    trend = (tmp_path / "r.html").read_text(encoding="utf-8").split('id="trend"')[1].split("</section>")[0]
    assert ">Unsure<" in trend and ">Other<" not in trend
