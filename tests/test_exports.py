import gzip
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from commentnlp import Classifier, exports
from commentnlp.exports import (InputError, default_output_path, label_file, label_records, read_csv, read_jsonl,
                                reply_of, text_field_in, text_of)

from conftest import interrupt_predict, os_as


def write_export(path, n_good=990):
    lines = []
    for i in range(n_good):
        field = ("text", "message", "comment", "body", "content")[i % 5]
        lines.append(json.dumps({"id": i, field: f"comment number {i} where can I buy it? 😍", "platform": "fb"}))
    # an emoji cut in two by the exporter: a lone surrogate, in the text and in another field
    lines[3] = json.dumps({"id": 3, "text": "cut short \ud83d", "platform": "fb"})
    lines[4] = json.dumps({"id": 4, "text": "fine", "platform": "fb", "author": "Jo \ud83d"})
    bad = [
        "{not json",
        json.dumps({"id": "no-text", "likes": 3}),
        json.dumps({"id": "null", "text": None}),
        json.dumps({"id": "int", "text": 42}),
        json.dumps({"id": "empty", "text": "   "}),
        json.dumps(["a", "list"]),
        json.dumps({"id": "huge", "text": "spam " * 200_000}),
        json.dumps({"id": "uni", "text": "café ✓ ünïcödé"}),
    ]
    # interleave the bad ones
    for k, b in enumerate(bad):
        lines.insert(100 * k + 7, b)
    data = "\n".join(lines).encode("utf-8") + b"\n" + b"\xff\xfe broken bytes\n" + b'{"id": "last", "text": "ok"}\n'
    path.write_bytes(b"\xef\xbb\xbf" + data)
    return len(lines) + 2


def test_every_record_comes_back_in_order_with_labels_or_error(tmp_path, tiny_classifier):
    src = tmp_path / "export.jsonl"
    n = write_export(src)
    assert n == 1000
    summary = label_file(src, None, tiny_classifier)
    out_path = default_output_path(src)
    assert out_path.name == "export.labeled.jsonl" and summary.output == str(out_path)
    rows = [json.loads(l) for l in out_path.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 1000 == summary.total
    assert summary.labeled + summary.errors == 1000
    errors = [r for r in rows if "error" in r]
    assert len(errors) == summary.errors == 7  # bad json, no text, null, int, empty, list, bad utf-8
    for r in rows:
        if "error" in r:
            assert r["error"].startswith("line ") and "labels" not in r
        else:
            assert set(r["labels"]) == {"style", "intent", "sentiment", "troll"}
            assert set(r["scores"]) == {"style", "intent", "sentiment", "troll"} and r["action"]
    # order and original fields are preserved
    good = [r for r in rows if "id" in r and isinstance(r["id"], int)]
    assert [r["id"] for r in good] == list(range(990))
    assert good[0]["platform"] == "fb"
    assert rows[-1]["id"] == "last" and "labels" in rows[-1]
    by_id = {r.get("id"): r for r in rows}
    assert "no text field" in by_id["no-text"]["error"]
    assert "null" in by_id["null"]["error"] and "int" in by_id["int"]["error"] and "empty" in by_id["empty"]["error"]
    assert "labels" in by_id["huge"] and "labels" in by_id["uni"]
    assert by_id[3]["text"] == "cut short \ud83d" and "labels" in by_id[3]  # back as it came, escaped
    assert by_id[4]["author"] == "Jo \ud83d" and "labels" in by_id[4]
    assert any("not valid JSON" in r["error"] and r["raw"] == "{not json" for r in errors)
    assert any("invalid UTF-8" in r["error"] for r in errors)


def test_explicit_text_field(tiny_classifier):
    items = read_jsonl(io.BytesIO(b'{"text": "ignored", "msg": "use me"}\n{"text": "no msg"}\n'))
    out = list(label_records(items, tiny_classifier, text_field="msg"))
    assert "labels" in out[0] and out[1]["error"] == "line 2: no 'msg' field"


def test_label_records_takes_plain_dicts_and_leaves_them_unchanged(tiny_classifier, monkeypatch):
    monkeypatch.setattr(tiny_classifier.config, "position_offsets", {"style": {"reply": [-50, 50], "initial": [50, -50]}})
    records = [{"id": 1, "message": "where can i buy it", "comment_type": "reply"}, {"id": 2, "message": None},
               ["not", "a", "record"], {"id": 4, "text": "lol ok", "is_reply": False}]
    out = list(label_records(iter(records), tiny_classifier))
    assert [r.get("id") for r in out] == [1, 2, None, 4]
    assert set(out[0]) == {"id", "message", "comment_type", "labels", "scores", "action"} and "labels" in out[3]
    assert out[1]["error"] == "item 2: 'message' is null, not a string"
    assert out[2] == {"raw": ["not", "a", "record"], "error": "item 3: not a JSON object (got list)"}
    assert records[0] == {"id": 1, "message": "where can i buy it", "comment_type": "reply"}  # a copy is labelled
    # the thread position is read from each record, as `label` reads it
    assert out[0]["labels"]["style"] == "community" and out[3]["labels"]["style"] == "audience"


def test_label_records_reads_a_dataframes_rows_and_refuses_what_is_not_records(tiny_classifier):
    """A DataFrame, one record or a text came back as one 'not a JSON object (got str)' per column
    name, key or character."""
    import pandas as pd

    df = pd.DataFrame({"id": [1, 2, 3], "message": ["where can i buy it", "lol", None]})
    out = list(label_records(df, tiny_classifier))
    assert [r["id"] for r in out] == [1, 2, 3] and "labels" in out[0] and "labels" in out[1]
    assert out[2]["error"] == "item 3: 'message' is null, not a string"
    with pytest.raises(TypeError, match=r"got one record: pass a list of them, \[record\]"):
        label_records({"message": "where can i buy it"}, tiny_classifier)
    with pytest.raises(TypeError, match=r"got str \(texts are labelled with classify\)"):
        label_records("where can i buy it", tiny_classifier)
    assert list(label_records(df.to_dict("records"), tiny_classifier))[:2] == out[:2]  # as its records give


@pytest.mark.parametrize("chunk", [0, -1, 1.5, None])
def test_label_records_refuses_a_chunk_that_is_no_size(tiny_classifier, chunk):
    # 0 gave no records at all; -1 and 1.5 islice's "Stop argument for islice() must be None or an integer"
    with pytest.raises(ValueError, match=f"chunk must be a whole number >= 1, not {chunk!r}"):
        label_records([{"message": "hi"}], tiny_classifier, chunk=chunk)


def test_label_records_takes_a_model_as_classify_does(tiny_model_dir, tiny_classifier):
    # None or a name was an AttributeError once iterated
    records = [{"message": "where can I buy it"}]
    assert list(label_records(records, str(tiny_model_dir)))[0]["labels"] == \
        list(label_records(records, tiny_classifier))[0]["labels"]


def test_a_text_of_invisible_characters_only_is_empty():
    # zero-width spaces, half an emoji: nothing the model reads, labelled social/amplify as if a comment
    # and characters that print as nothing though normalize keeps them: a Hangul filler (a "blank" comment's trick),
    # the blank braille pattern, a tag space (each was labelled social)
    for text in ("\u200b\u200b", " \ufeff\u200d ", "\ud83d", "&#8203;", "\\u200b", "&nbsp;", "\u3164", "\u2800 \u3164",
                 "\U000e0020", "\u115f\u034f"):
        assert text_of({"message": text}) == (None, "'message' is empty (only invisible characters)")
    assert text_of({"message": "ok\u3164"}) == ("ok\u3164", None)
    assert text_of({"message": " \t"}) == (None, "'message' is empty")
    assert text_of({"message": "\u200bok"}) == ("\u200bok", None) and text_of({"message": "😍"}) == ("😍", None)
    assert text_of({"message": "&amp;"}) == ("&amp;", None) and text_of({"message": " \\o/"}) == (" \\o/", None)


def test_text_field_may_be_a_dotted_path_into_nested_objects():
    """YouTube's API nests a comment's text: snippet.topLevelComment.snippet.textOriginal."""
    path = "snippet.topLevelComment.snippet.textOriginal"
    record = {"id": "c1", "snippet": {"topLevelComment": {"snippet": {"textOriginal": "where can I buy it?"}}}}
    assert text_of(record, path) == ("where can I buy it?", None)
    assert text_of({"snippet": {"topLevelComment": None}}, path) == (None, f"no {path!r} field")
    assert text_of({"snippet": {"topLevelComment": {"snippet": {"textOriginal": 3}}}}, path) == \
        (None, f"{path!r} is int, not a string")
    assert text_of({"a.b": "flat wins", "a": {"b": "nested"}}, "a.b") == ("flat wins", None)
    # found without --text-field: YouTube's commentThreads and comments resources
    assert text_of(record) == ("where can I buy it?", None)
    assert text_of({"snippet": {"textOriginal": "a reply", "textDisplay": "<p>a reply</p>"}}) == ("a reply", None)
    assert text_of({"message": "top-level wins", **record}) == ("top-level wins", None)
    assert text_of({"snippet": {"topLevelComment": None}})[1].startswith("no text field")


def test_text_field_is_found_in_any_case():
    assert text_field_in(["id", "Message"]) == "Message"  # a Facebook export's column
    assert text_field_in(["Body", "text"]) == "text"  # the lower-case name first, then the list's order
    assert text_field_in(["COMMENT", "Content"]) == "COMMENT"
    assert text_field_in(["id", "msg"]) is None
    # real exports: a Facebook comment scrape (../shared/datasets/fb_dei_brand_comments), Twitter, YouTube
    assert text_field_in(["company_name", "id", "parent_id", "comment_text", "comment_date"]) == "comment_text"
    assert text_field_in(["comment_text", "cleaned_text", "full_text"]) == "comment_text"
    assert text_field_in(["id_str", "full_text"]) == "full_text"
    assert text_field_in(["textDisplay", "textOriginal", "authorDisplayName"]) == "textOriginal"
    assert text_field_in(["Comment Text", "Date"]) == "Comment Text" and text_field_in(["commentText"]) == "commentText"
    assert text_field_in(["textDisplay"]) is None  # HTML: only when named with --text-field
    # ../shared/datasets: brands_product_emotions (tweets), amazon_qa_appliances (product questions)
    assert text_field_in(["tweet_text", "emotion_in_tweet_is_directed_at"]) == "tweet_text"
    assert text_field_in(["questionType", "asin", "question", "answer"]) == "question"
    items = read_csv(io.BytesIO("\ufeffid,Message\n1,where can I buy it\n".encode()))
    assert text_of(next(items).record) == ("where can I buy it", None)


def test_interrupted_run_leaves_no_final_file_and_resumes_identically(tmp_path, tiny_classifier, monkeypatch):
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(json.dumps({"text": f"t{i} 😍" if i % 7 else None}) for i in range(3000)) + "\n")
    expected = tmp_path / "expected.jsonl"
    monkeypatch.setattr(exports.labelling, "CHUNK", 1024)
    whole = label_file(src, expected, tiny_classifier)
    dst = tmp_path / "out.jsonl"
    restore = interrupt_predict(monkeypatch, tiny_classifier, on_call=2)
    with pytest.raises(KeyboardInterrupt):
        label_file(src, dst, tiny_classifier)
    assert not dst.exists()
    restore()
    summary = label_file(src, dst, tiny_classifier, resume=True)
    assert summary.resumed == 1024 and summary.total == 3000
    assert dst.read_bytes() == expected.read_bytes()
    # the summary covers the whole output, as the uninterrupted run's does (it counted this run's 1,976 only)
    assert (summary.labeled, summary.errors, summary.reasons, summary.actions) == \
        (whole.labeled, whole.errors, whole.reasons, whole.actions)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["expected.jsonl", "in.jsonl", "out.jsonl"]


def test_a_second_run_on_the_same_output_is_refused_while_the_first_writes(tmp_path, tiny_classifier):
    """The same job started twice: the second truncated the first one's part file, whose output then began
    with 4,096 records' worth of NUL bytes, and the first exited 0."""
    from commentnlp.exports.checkpoints import output_lock

    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"text": f"where can I buy it {i}"}) + "\n" for i in range(20)))
    for out in (tmp_path / "out.jsonl", tmp_path / "out.xlsx"):
        with output_lock(out):  # as a run in another process holds it (flock: per open file, so here too)
            with pytest.raises(OSError, match=f"another run is writing {re.escape(str(out))} now"):
                label_file(src, out, tiny_classifier)
            if out.suffix == ".jsonl":  # a resume would cut the part file back under the running one
                with pytest.raises(OSError, match="another run is writing"):
                    label_file(src, out, tiny_classifier, resume=True)
            assert not out.exists() and not list(tmp_path.glob(".*part*"))
        assert label_file(src, out, tiny_classifier).labeled == 20
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out.jsonl", "out.xlsx"]  # no lock left


def test_a_gzipped_output_is_the_same_bytes_run_after_run(tmp_path, tiny_classifier):
    import time

    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"text": f"where can I buy it {i}"}) + "\n" for i in range(20)))
    label_file(src, tmp_path / "a.jsonl.gz", tiny_classifier)
    time.sleep(1.1)  # the gzip header held the time of writing
    label_file(src, tmp_path / "b.jsonl.gz", tiny_classifier)
    assert (tmp_path / "a.jsonl.gz").read_bytes() == (tmp_path / "b.jsonl.gz").read_bytes()


def test_output_is_never_the_input(tmp_path, tiny_classifier):
    src = tmp_path / "c.jsonl"
    src.write_text('{"message": "where can I buy it"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="is the input"):  # an .xlsx lost its other sheets this way, silently
        label_file(src, tmp_path / "." / "c.jsonl", tiny_classifier)
    assert src.read_text(encoding="utf-8") == '{"message": "where can I buy it"}\n'


def test_a_device_or_pipe_output_is_written_into_not_replaced(tmp_path, tiny_classifier):
    src = tmp_path / "c.csv"
    src.write_text("id,message\n1,where can I buy it\n", encoding="utf-8")
    fifo = tmp_path / "out.csv"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    summary = label_file(src, fifo, tiny_classifier)  # it became a regular file (as root, -o /dev/null replaced it)
    assert reader.communicate(timeout=30)[0].decode().startswith("id,message,style,") and not fifo.is_file()
    assert summary.labeled == 1 and not list(tmp_path.glob(".*part*"))
    label_file(src, "/dev/null", tiny_classifier)
    assert not Path("/dev/null").is_file()
    # /dev/stdout with stdout sent to a file follows its link to a regular file: it is written into all the same
    assert exports.is_device_or_pipe("/dev/stdout") and not exports.is_device_or_pipe(src)
    if Path("/dev/shm").is_dir():  # a regular file under /dev is a file: written whole, then renamed, as any
        shm = Path("/dev/shm") / f"commentnlp-test-{os.getpid()}.csv"
        try:
            label_file(src, shm, tiny_classifier, resume=True)
            assert shm.read_text(encoding="utf-8").startswith("id,message,style,")
            assert not exports.is_device_or_pipe(shm)
        finally:
            shm.unlink(missing_ok=True)
    with pytest.raises(ValueError, match="device or a pipe"):
        label_file(src, "/dev/null", tiny_classifier, resume=True)


def test_resume_refuses_a_checkpoint_of_another_run(tmp_path, tiny_classifier, monkeypatch):
    """It resumed whatever the checkpoint held: another input's records, then this one's from N on."""
    monkeypatch.setattr(exports.labelling, "CHUNK", 64)
    src, other = tmp_path / "in.jsonl", tmp_path / "other.jsonl"
    src.write_text("".join(json.dumps({"text": f"comment {i}", "msg": "x"}) + "\n" for i in range(300)))
    other.write_text("".join(json.dumps({"text": f"another {i}"}) + "\n" for i in range(300)))
    dst = tmp_path / "out.jsonl"
    restore = interrupt_predict(monkeypatch, tiny_classifier, on_call=3)
    with pytest.raises(KeyboardInterrupt):
        label_file(src, dst, tiny_classifier)
    restore()
    with pytest.raises(ValueError, match=r"cannot resume: the interrupted run \(.*\.out\.jsonl\.part\) labelled "
                                         r"with another input file; run without --resume to start over"):
        label_file(other, dst, tiny_classifier, resume=True)
    with pytest.raises(ValueError, match="labelled with another --text-field"):
        label_file(src, dst, tiny_classifier, resume=True, text_field="msg")
    retrained = tmp_path / "retrained"
    shutil.copytree(tiny_classifier.model_dir, retrained)
    config = json.loads((retrained / "config.json").read_text())
    (retrained / "config.json").write_text(json.dumps({**config, "max_length": config["max_length"] - 1}))
    with monkeypatch.context() as m:
        m.setattr(tiny_classifier, "model_dir", retrained)
        with pytest.raises(ValueError, match="labelled with another model"):
            label_file(src, dst, tiny_classifier, resume=True)
    # the same weights, but answers that differ: all three mixed two kinds of answers in one output
    with monkeypatch.context() as m:
        m.setattr(tiny_classifier.config, "decision_thresholds", {"intent": {"where_to_buy": 0.3}})  # find-threshold --write
        with pytest.raises(ValueError, match=r"labelled with other decision settings of the model \(config.json"):
            label_file(src, dst, tiny_classifier, resume=True)
    with pytest.raises(ValueError, match="labelled with another --backend"):
        label_file(src, dst, Classifier.load(tiny_classifier.model_dir, backend="onnx-int8"), resume=True)
    with monkeypatch.context() as m:
        m.setattr(tiny_classifier.playbook, "links", {"store_locator_url": "https://example.com/stores"})
        with pytest.raises(ValueError, match="labelled with another --playbook"):
            label_file(src, dst, tiny_classifier, resume=True)
    with pytest.raises(ValueError, match="labelled with another --abstain"):
        label_file(src, dst, tiny_classifier, resume=True, abstain=True)
    with pytest.raises(ValueError, match="labelled with another --encoding"):
        label_file(src, dst, tiny_classifier, resume=True, encoding="latin-1")
    checkpoint = tmp_path / ".out.jsonl.part.json"  # one written before these were checked resumes as before
    saved = json.loads(checkpoint.read_text())
    for key in ("decisions", "backend", "playbook", "abstain"):
        del saved["run"][key]
    checkpoint.write_text(json.dumps(saved))
    summary = label_file(src, dst, tiny_classifier, resume=True)  # the same run resumes
    assert summary.resumed == 128 and summary.total == 300
    label_file(src, tmp_path / "expected.jsonl", tiny_classifier)
    assert dst.read_bytes() == (tmp_path / "expected.jsonl").read_bytes()
    assert label_file(other, dst, tiny_classifier, resume=True).resumed == 0  # nothing to resume: a new run


def test_a_json_array_export_is_read_as_its_records(tmp_path, tiny_classifier):
    """Scrapers export one JSON array: it was read as lines, each a fragment: 'not valid JSON'."""
    records = [{"id": 1, "text": "where can I buy it?"}, {"id": 2, "text": None}, 5, {"id": 4, "text": "lol 😍"}]
    (tmp_path / "a.json").write_text("\ufeff  " + json.dumps(records, indent=2, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    seen = []
    summary = label_file(tmp_path / "a.json", tmp_path / "from_array.jsonl", tiny_classifier,
                         progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (4, 4)  # records, not the file's lines
    label_file(tmp_path / "a.jsonl", tmp_path / "from_lines.jsonl", tiny_classifier)
    got = [json.loads(line) for line in open(tmp_path / "from_array.jsonl")]
    lines = [json.loads(line) for line in open(tmp_path / "from_lines.jsonl")]
    assert (summary.total, summary.labeled, summary.errors) == (4, 2, 2)
    assert [r.get("error") for r in got] == [None, "item 2: 'text' is null, not a string",
                                             "item 3: not a JSON object (got int)", None]
    assert [{k: v for k, v in r.items() if k != "error"} for r in got] == \
        [{k: v for k, v in r.items() if k != "error"} for r in lines]
    # a JSON lines file whose first line is a bad one that opens with '[' is still JSON lines
    (tmp_path / "b.jsonl").write_text('[1, 2]\n{"text": "ok"}\n', encoding="utf-8")
    label_file(tmp_path / "b.jsonl", tmp_path / "b.out.jsonl", tiny_classifier)
    out = [json.loads(line) for line in open(tmp_path / "b.out.jsonl")]
    assert out[0]["error"] == "line 1: not a JSON object (got list)" and "labels" in out[1]


@pytest.mark.parametrize("workers", [0, 2])
def test_json_nested_too_deeply_is_an_error_line_not_a_crash(tmp_path, tiny_classifier, workers):
    """A line nested deeper than Python's JSON parser goes was a RecursionError traceback: nothing written."""
    deep = "[" * 100_000 + "]" * 100_000
    # read, but too deep to write back: a RecursionError once all was labelled
    written = '{"text": "hi", "x": ' + "[" * 900 + "]" * 900 + "}"
    for name, first in (("deep.jsonl", deep), ("deep_object.jsonl", '{"a":' * 5000 + "1" + "}" * 5000),
                        ("deep_written.jsonl", written)):
        (tmp_path / name).write_text(f'{first}\n{{"text": "where can I buy it"}}\n', encoding="utf-8")
        summary = label_file(tmp_path / name, tmp_path / "out.jsonl", tiny_classifier, workers=workers)
        out = [json.loads(line) for line in open(tmp_path / "out.jsonl", encoding="utf-8")]
        assert (summary.total, summary.errors) == (2, 1) and "labels" in out[1]
        assert out[0] == {"raw": first, "error": "line 1: not readable JSON (nested over 400 levels deep)"}
    # in a JSON array: read as JSON lines, each carried through as its text
    (tmp_path / "deep.json").write_text(f"[{written},\n{{\"text\": \"ok\"}}]\n", encoding="utf-8")
    assert label_file(tmp_path / "deep.json", tmp_path / "out.jsonl", tiny_classifier, workers=workers).errors == 2
    assert [json.loads(line)["raw"] for line in open(tmp_path / "out.jsonl", encoding="utf-8")] == \
        [f"[{written},", '{"text": "ok"}]']
    shallow = '{"text": "hi", "x": ' + "[" * 390 + "]" * 390 + "}"  # as deep as is written back: labelled
    (tmp_path / "shallow.jsonl").write_text(shallow + "\n", encoding="utf-8")
    assert label_file(tmp_path / "shallow.jsonl", tmp_path / "out.jsonl", tiny_classifier, workers=workers).labeled == 1


def _page(ids, after):
    """A page of Facebook's Graph API: its comments under 'data', then 'paging'."""
    return {"data": [{"id": f"1_{i}", "message": f"where can I buy it {i}?", "created_time": "2026-11-01T10:00:00+0000"}
                     for i in ids], "paging": {"cursors": {"after": after}}}


@pytest.mark.parametrize("data", [
    json.dumps(_page([1, 2, 3], "x")),                          # saved by curl: one line, no newline
    json.dumps(_page([1, 2, 3], "x"), indent=2) + "\n",          # pretty-printed
    json.dumps(_page([1, 2], "x")) + "\n" + json.dumps(_page([3], "y")) + "\n",  # one page per line
    json.dumps([_page([1], "x"), _page([2, 3], "y")], indent=1),                 # an array of pages
    json.dumps({"data": {"comments": [{"id": f"1_{i}", "text": f"where can I buy it {i}?"} for i in (1, 2, 3)],
                         "cursor": 3, "has_more": False}, "error": {"code": "ok"}}),  # TikTok's Research API
    json.dumps({"items": [{"kind": "youtube#commentThread", "snippet": {"topLevelComment": {"snippet": {
        "textOriginal": f"where can I buy it {i}?", "textDisplay": "<b>HTML</b>"}}}}
        for i in (1, 2, 3)], "nextPageToken": "z"}),                    # YouTube's Data API, text found nested
])
@pytest.mark.parametrize("workers", [0, 2])
def test_api_responses_are_read_as_the_records_they_list(tmp_path, tiny_classifier, data, workers):
    """A saved Graph API response was one record with 'no text field' (pretty-printed: every line
    'not valid JSON'), and the hint to use --text-field could not help."""
    (tmp_path / "page.json").write_text(data, encoding="utf-8")
    youtube = "youtube" in data
    summary = label_file(tmp_path / "page.json", tmp_path / "out.jsonl", tiny_classifier, workers=workers)
    out = [json.loads(line) for line in open(tmp_path / "out.jsonl")]
    assert (summary.total, summary.labeled, summary.errors) == (3, 3, 0)
    assert all("labels" in r and "paging" not in r for r in out)
    if not youtube:
        assert [r["id"] for r in out] == ["1_1", "1_2", "1_3"]
    pages = 2 if data.count("paging") == 2 else 1
    if "has_more" in data:
        assert summary.notes == ["read the records listed under 'data.comments' of 1 API response",
                                 "not written: the responses' data.cursor, data.has_more, error"]
    else:
        assert summary.notes == [f"read the records listed under {'items' if youtube else 'data'!r} of {pages} API "
                                 f"response{'s' if pages == 2 else ''}",
                                 f"not written: the responses' {'nextPageToken' if youtube else 'paging'}"]


def test_replies_nested_in_api_comments_are_labelled_as_records_of_their_own(tmp_path, tiny_classifier):
    """Graph API comments fetched with their replies (fields=comments{message}) hold them nested:
    only the top-level comments were labelled, the replies (where trolls and regulars talk) not."""
    page = {"data": [
        {"id": "p_1", "message": "where can I buy this?", "comments": {"data": [
            {"id": "p_1_r1", "message": "@Sam try Boots"}, {"id": "p_1_r2", "message": "lol", "parent": {"id": "x"}}]}},
        {"id": "p_2", "message": "love it"}]}
    youtube = {"items": [{"id": "t1", "snippet": {"topLevelComment": {"snippet": {"textOriginal": "where to buy?"}}},
                          "replies": {"comments": [{"id": "t1.r", "snippet": {"textOriginal": "amazon"}}]}}]}
    (tmp_path / "fb.json").write_text(json.dumps(page, indent=2), encoding="utf-8")
    (tmp_path / "yt.json").write_text(json.dumps(youtube), encoding="utf-8")
    summary = label_file(tmp_path / "fb.json", tmp_path / "fb.jsonl", tiny_classifier)
    out = [json.loads(line) for line in open(tmp_path / "fb.jsonl", encoding="utf-8")]
    assert [(r["id"], r.get("parent_id")) for r in out] == [("p_1", None), ("p_1_r1", "p_1"), ("p_1_r2", None), ("p_2", None)]
    assert out[0]["comments"] == page["data"][0]["comments"] and all("labels" in r for r in out)  # the comment keeps them
    assert out[2]["parent"] == {"id": "x"}  # a reply that names its parent is left as it is
    assert summary.notes[1] == ("labelled 2 replies nested in their comments (under 'comments.data') as records of "
                                "their own, each after its comment (which keeps them too)")
    label_file(tmp_path / "yt.json", tmp_path / "yt.jsonl", tiny_classifier)
    out = [json.loads(line) for line in open(tmp_path / "yt.jsonl", encoding="utf-8")]
    assert [(r["id"], r.get("parent_id"), "labels" in r) for r in out] == [("t1", None, True), ("t1.r", "t1", True)]


def test_a_pretty_printed_record_is_one_record_and_a_broken_one_is_reported_by_line(tmp_path, tiny_classifier):
    (tmp_path / "one.json").write_text(json.dumps({"id": 7, "text": "where can I buy it?"}, indent=2), encoding="utf-8")
    summary = label_file(tmp_path / "one.json", tmp_path / "one.out.jsonl", tiny_classifier)
    assert (summary.total, summary.labeled, summary.notes) == (1, 1, [])
    assert json.loads((tmp_path / "one.out.jsonl").read_text())["id"] == 7
    # not JSON documents after all: read as JSON lines, each bad line reported and kept
    (tmp_path / "bad.json").write_text('{\n  "id": 7,\n  "text": "cut here\n', encoding="utf-8")
    summary = label_file(tmp_path / "bad.json", tmp_path / "bad.out.jsonl", tiny_classifier)
    assert (summary.total, summary.errors) == (3, 3)
    assert json.loads(open(tmp_path / "bad.out.jsonl").readline())["error"].startswith("line 1: not valid JSON")


@pytest.mark.parametrize("data, ids", [
    # a crawl's last page lists nothing: every line became "no text field", the real comments lost with it
    (json.dumps(_page([1], "x")) + "\n" + json.dumps({"data": [], "paging": {}}) + "\n", ["1_1"]),
    (json.dumps([_page([1, 2], "x"), {"data": []}]), ["1_1", "1_2"]),  # in an array: one error record
    (json.dumps({"items": [], "nextPageToken": None}), []),  # alone: 1 error record and a --text-field hint
    (json.dumps({"data": {"comments": [], "has_more": False}}), []),
])
def test_an_api_page_listing_no_records_is_read_as_none(tmp_path, tiny_classifier, data, ids):
    (tmp_path / "pages.json").write_text(data, encoding="utf-8")
    summary = label_file(tmp_path / "pages.json", tmp_path / "out.jsonl", tiny_classifier)
    out = [json.loads(line) for line in open(tmp_path / "out.jsonl", encoding="utf-8")]
    assert [r["id"] for r in out] == ids and summary.errors == 0 and "API response" in summary.notes[0]


def test_a_crawl_whose_last_line_is_an_error_object_keeps_its_pages(tmp_path, tiny_classifier):
    # Facebook's rate-limit answer after two pages: every line became "no text field", the comments lost
    lines = [_page([1, 2], "x"), _page([3], "y"), {"error": {"message": "(#4) limit reached", "code": 4}}]
    (tmp_path / "crawl.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines), encoding="utf-8")
    summary = label_file(tmp_path / "crawl.jsonl", tmp_path / "out.jsonl", tiny_classifier)
    out = [json.loads(line) for line in open(tmp_path / "out.jsonl", encoding="utf-8")]
    assert [r.get("id") for r in out] == ["1_1", "1_2", "1_3", None] and (summary.labeled, summary.errors) == (3, 1)
    assert out[3]["error"].startswith("item 4: no text field") and out[3]["error"] != ""
    assert not any("jq" in note for note in summary.notes)


def test_a_record_holding_an_empty_list_under_an_api_key_is_a_record(tmp_path, tiny_classifier):
    # {"items": []} beside an id and a comment was read as an empty API page: the records vanished
    lines = [{"id": 1, "comment_body": "where can I buy this", "items": []},
             {"id": 2, "comment_body": "love it", "items": [{"sku": "A1"}]}, {"id": 3, "note": "x", "data": []}]
    (tmp_path / "items.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines), encoding="utf-8")
    summary = label_file(tmp_path / "items.jsonl", tmp_path / "out.jsonl", tiny_classifier, text_field="comment_body")
    out = [json.loads(line) for line in open(tmp_path / "out.jsonl", encoding="utf-8")]
    assert [r["id"] for r in out] == [1, 2, 3] and (summary.labeled, summary.errors) == (2, 1)
    assert out[2]["error"] == "line 3: no 'comment_body' field"


def test_json_lines_with_a_long_first_line_are_still_json_lines(tmp_path, tiny_classifier):
    # read whole (past the 64 KiB peek), they were taken for records pretty-printed one after another
    lines = [json.dumps({"id": "c1", "message": "where can I buy " + "x" * 70000}), "", json.dumps({"id": "c2", "message": None})]
    (tmp_path / "long.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary = label_file(tmp_path / "long.jsonl", tmp_path / "out.jsonl", tiny_classifier)
    out = [json.loads(line) for line in open(tmp_path / "out.jsonl", encoding="utf-8")]
    assert out[1]["error"] == "line 3: 'message' is null, not a string" and summary.blank_lines == 1
    assert summary.notes == []


def test_records_written_one_after_another_over_several_lines_are_each_a_record(tmp_path, tiny_classifier):
    # jq's default output (jq '.data[]' page.json): every line was "not valid JSON"
    records = [{"id": 1, "message": "where to buy"}, {"id": 2, "message": "second"}]
    (tmp_path / "jq.json").write_text("".join(json.dumps(r, indent=2) + "\n" for r in records), encoding="utf-8")
    summary = label_file(tmp_path / "jq.json", tmp_path / "out.jsonl", tiny_classifier)
    assert [json.loads(line)["id"] for line in open(tmp_path / "out.jsonl")] == [1, 2] and summary.labeled == 2
    assert summary.notes == ["read 2 JSON values written one after another (as jq writes them), not one per line"]


def test_a_binary_file_is_named_for_what_it_is_whatever_its_name(tmp_path, tiny_classifier, monkeypatch):
    """An Excel workbook saved as .csv was labelled line by line: every line 'invalid UTF-8'."""
    import zipfile

    with zipfile.ZipFile(tmp_path / "export.csv", "w") as z:  # what an .xlsx is
        z.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(InputError, match=r"export.csv: it is a zip archive \(an Excel workbook is one: name it .xlsx, or give --format xlsx\)"):
        label_file(tmp_path / "export.csv", tmp_path / "out.jsonl", tiny_classifier)
    (tmp_path / "export.jsonl").write_bytes(b"PAR1" + bytes(100))
    with pytest.raises(InputError, match=r"it is a Parquet file \(--engine spark reads Parquet\)"):
        label_file(tmp_path / "export.jsonl", tmp_path / "out.jsonl", tiny_classifier)
    assert not (tmp_path / "out.jsonl").exists()
    from commentnlp.exports import open_stdin  # piped in: the same

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO((tmp_path / "export.csv").read_bytes())))
    with pytest.raises(InputError, match=r"cannot read stdin: it is a zip archive"):
        open_stdin()


def test_missing_input(tmp_path, tiny_classifier):
    with pytest.raises(FileNotFoundError, match=r"input file not found: .*nope.jsonl$"):
        label_file(tmp_path / "nope.jsonl", None, tiny_classifier)
    for text in ("where can I buy this?", "love it. Thanks"):  # a comment given where the export belongs
        with pytest.raises(FileNotFoundError, match=r"\(a comment's text\? `commentnlp classify \"...\"` labels texts\)"):
            label_file(text, None, tiny_classifier)
    with pytest.raises(FileNotFoundError, match=r"my export.jsonl$"):
        label_file(tmp_path / "my export.jsonl", None, tiny_classifier)


def test_an_unreadable_input_is_reported_as_the_inputs(tmp_path, tiny_classifier):
    """A directory, a corrupt or truncated gzip: a clear error naming the input (it said 'cannot write output')."""
    data = gzip.compress(b"".join(b'{"text": "where to buy %d"}\n' % i for i in range(3000)))
    (tmp_path / "cut.jsonl.gz").write_bytes(data[: len(data) // 2])
    flipped = bytearray(data)
    flipped[-6] ^= 0xFF  # the CRC
    (tmp_path / "crc.jsonl.gz").write_bytes(bytes(flipped))
    (tmp_path / "not.jsonl.gz").write_bytes(b"plain text")
    (tmp_path / "dir").mkdir()
    for name, reason in [("cut.jsonl.gz", "ended before the end-of-stream marker"), ("crc.jsonl.gz", "CRC check failed"),
                         ("not.jsonl.gz", "Not a gzipped file"), ("dir", "input is a directory")]:
        with pytest.raises(InputError, match=reason) as err:
            label_file(tmp_path / name, tmp_path / "out.jsonl", tiny_classifier)
        assert name == "dir" or str(err.value).startswith(f"cannot read input {tmp_path / name}: ")
    assert not (tmp_path / "out.jsonl").exists()


def test_an_output_directory_gets_the_default_name_in_it(tmp_path, tiny_classifier):
    """As `cp file dir/` does (an output directory was an error)."""
    src = tmp_path / "e.jsonl"
    src.write_text('{"text": "hi"}\n')
    (tmp_path / "out").mkdir()
    summary = label_file(src, tmp_path / "out", tiny_classifier)
    assert summary.output == str(tmp_path / "out" / "e.labeled.jsonl") and summary.labeled == 1
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["e.labeled.jsonl"]  # no .part, no checkpoint
    label_file(src, tmp_path / "out", tiny_classifier, output_format="csv.gz")
    assert (tmp_path / "out" / "e.labeled.csv.gz").is_file()
    label_file(src, f"{tmp_path / 'new'}/", tiny_classifier)  # a name ending in "/": a directory, made
    assert (tmp_path / "new" / "e.labeled.jsonl").is_file()


def test_blank_lines_hold_no_record_and_are_counted(tmp_path, tiny_classifier):
    src = tmp_path / "e.jsonl"
    src.write_bytes(b'{"text": "hi"}\n\n  \t \r\n{"text": "where to buy"}\n')
    summary = label_file(src, tmp_path / "o.jsonl", tiny_classifier)
    assert (summary.total, summary.blank_lines) == (2, 2)
    assert [json.loads(l)["text"] for l in open(tmp_path / "o.jsonl")] == ["hi", "where to buy"]
    seen = []
    assert [i.line for i in read_jsonl(io.BytesIO(src.read_bytes()), on_blank=seen.append)] == [1, 4]
    assert seen == [2, 3]


@pytest.mark.parametrize("record, expected", [
    ({"text": "x"}, None),
    ({"is_reply": True}, True), ({"is_reply": False}, False), ({"is_reply": "True"}, True), ({"is_reply": "0"}, False),
    ({"is_reply": ""}, None), ({"is_reply": "maybe"}, None), ({"is_reply": 1}, True), ({"is_reply": 0}, False),
    ({"is_reply": 2}, None), ({"is_reply": 1.0}, True), ({"is_reply": 0.0}, False), ({"is_reply": 0.5}, None),
    ({"is_reply": float("nan")}, None), ({"is_reply": "1.0"}, True), ({"is_reply": " 0.0"}, False),
    ({"is_reply": "nan"}, None), ({"is_reply": "2"}, None),
    ({"comment_type": "reply"}, True), ({"comment_type": "Initial"}, False), ({"comment_type": "post"}, None),
    ({"comment_type": None}, None),
    ({"parent_id": "Y29tbWVudDox"}, True), ({"parent_id": ""}, False), ({"parent_id": None}, False),
    ({"parent_id": 1234}, True), ({"parent_id": 0}, False), ({"parent_id": 1234.0}, True), ({"parent_id": 0.0}, False),
    ({"parent_id": float("nan")}, False), ({"parent_id": "0.0"}, False), ({"parent_id": "1e3"}, True),
    ({"parent_id": " "}, False), ({"parent_id": " 0"}, False), ({"parent_id": "01"}, True),
    ({"parentId": "Ugx"}, True), ({"in_reply_to_status_id": None}, False),
    ({"in_reply_to_status_id_str": "1"}, True),
    ({"parent": {"id": "123_456", "message": "the comment replied to"}}, True), ({"parent": None}, False),
    ({"parent": {}}, False), ({"parent": "Unilever"}, None), ({"parent": 12}, None),  # not a comment's parent
    ({"is_reply": False, "parent_id": "abc"}, False),  # the first field present decides
    # as a sheet names them (they were not read: a CSV's "Is Reply" column left every position unknown)
    ({"Is Reply": "TRUE"}, True), ({"Parent ID": ""}, False), ({"Parent ID": "123"}, True),
    ({"Comment Type": "reply"}, True), ({"isReply": 0}, False), ({"Parent": "Unilever"}, None),
    ({"is_reply": False, "Is Reply": "true"}, False),  # a field spelt as listed comes first
    # a database export's "no parent" (SQL NULL, psql's \\N): each top-level comment was a reply, +4.6 to community
    *(({"parent_id": v}, False) for v in ("NULL", "null", "\\N", "N/A", "None", "-", "undefined")),
    ({"is_reply": "t"}, True), ({"is_reply": "f"}, False),  # psql's booleans were unknown
    # numpy's and pandas' values, as in a DataFrame's records: np.int64(0) was a parent, np.bool_ unknown
    ({"parent_id": np.int64(0)}, False), ({"parent_id": np.int64(7)}, True), ({"is_reply": np.bool_(True)}, True),
    ({"is_reply": np.int64(1)}, True), ({"parent_id": pd.NA}, False), ({"is_reply": pd.NA}, None),
])
def test_reply_of_reads_the_usual_export_fields(record, expected):
    assert reply_of(record) is expected


def test_label_file_gives_the_model_the_thread_position_of_each_record(tmp_path, tiny_classifier, monkeypatch):
    monkeypatch.setattr(tiny_classifier.config, "position_offsets",
                        {"style": {"reply": [0.0, 50.0], "initial": [0.0, -50.0]}})
    rows = [{"text": "same text", "parent_id": "p1"}, {"text": "same text", "parent_id": ""}, {"text": "same text"},
            {"text": "same text", "comment_type": "reply"}]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    label_file(src, tmp_path / "out.jsonl", tiny_classifier)
    out = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [o["labels"]["style"] for o in out[:2]] + [out[3]["labels"]["style"]] == ["community", "audience", "community"]
    assert out[2]["labels"]["style"] == tiny_classifier.predict("same text").style
    assert [{k: o[k] for k in r} for o, r in zip(out, rows)] == rows  # records unchanged


def test_labelling_an_earlier_output_again_replaces_its_fields(tmp_path, tiny_classifier):
    """A record left in error, labelled again with the right --text-field, kept its old error beside
    its new labels (and the report counted it as an error)."""
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": 1, "msg": "where can i buy it"}) + "\n")
    label_file(src, tmp_path / "first.jsonl", tiny_classifier)
    assert "error" in json.loads((tmp_path / "first.jsonl").read_text())
    label_file(tmp_path / "first.jsonl", tmp_path / "second.jsonl", tiny_classifier, text_field="msg")
    second = json.loads((tmp_path / "second.jsonl").read_text())
    assert "error" not in second and second["labels"]["intent"] and set(second) == {"id", "msg", "labels", "scores", "action"}
    label_file(tmp_path / "second.jsonl", tmp_path / "third.jsonl", tiny_classifier, text_field="nope")
    assert json.loads((tmp_path / "third.jsonl").read_text()) == {"id": 1, "msg": "where can i buy it",
                                                                  "error": "line 1: no 'nope' field"}


def test_input_fields_named_like_the_output_are_kept_as_dot_input(tmp_path, tiny_classifier):
    """A CRM's own 'action', 'labels' or 'error' field was overwritten (or, for 'error', made the
    labelled record count as an error)."""
    record = {"id": 1, "text": "where can i buy it", "action": "comment_added", "labels": ["vip"], "error": "api timeout"}
    (out,) = label_records([record], tiny_classifier)
    assert (out["action.input"], out["labels.input"], out["error.input"]) == ("comment_added", ["vip"], "api timeout")
    assert "error" not in out and set(out["labels"]) == {"style", "intent", "sentiment", "troll"}
    assert list(out)[:5] == ["id", "text", "action.input", "labels.input", "error.input"]


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_labelling_its_own_output_again_gives_the_same_bytes(tmp_path, tiny_classifier, suffix):
    src = tmp_path / f"in{suffix}"
    if suffix == ".csv":
        src.write_text('id,message,likes,labels\n1,"where can i buy it, pls",3,vip\n2,,0,\n3,love it 😍,5,\n',
                       encoding="utf-8")
    else:
        src.write_text("".join(json.dumps(r) + "\n" for r in [
            {"id": 1, "message": "where can i buy it", "labels": "vip"}, {"id": 2, "message": None}, {"id": 3, "text": "hi"}]))
    label_file(src, tmp_path / f"once{suffix}", tiny_classifier)
    label_file(tmp_path / f"once{suffix}", tmp_path / f"twice{suffix}", tiny_classifier)
    once = (tmp_path / f"once{suffix}").read_text(encoding="utf-8")
    assert "labels.input" in once and once == (tmp_path / f"twice{suffix}").read_text(encoding="utf-8")


def test_the_output_lock_is_closed_before_it_is_deleted_on_windows(tmp_path, monkeypatch):
    """Windows deletes no file its own process holds open (WinError 32): every label to a file exited 1."""
    from commentnlp.exports import checkpoints

    held, real_close, real_unlink = [], os.close, Path.unlink

    def close_it(fd):
        held.clear()
        real_close(fd)

    def unlink(self, missing_ok=False):  # as Windows does
        if held:
            raise PermissionError(13, "The process cannot access the file because it is being used by another process")
        real_unlink(self, missing_ok)

    def open_it(*args, **kwargs):
        held.append(True)
        return os.open(*args, **kwargs)

    monkeypatch.setattr(checkpoints, "os", os_as(open=open_it, close=close_it))
    monkeypatch.setattr(Path, "unlink", unlink)
    with checkpoints.output_lock(tmp_path / "out.jsonl"):
        assert held
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []


def test_an_output_windows_will_not_replace_says_to_close_it_and_resume(tmp_path, tiny_classifier, monkeypatch):
    """An earlier output open in Excel: the last step, the rename, failed with a bare '[WinError 5] Access is
    denied' after every record was labelled; the labels are kept and --resume finishes."""
    from commentnlp.exports import file_labelling

    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"text": f"where can I buy it {i}"}) + "\n" for i in range(20)))
    out = tmp_path / "out.jsonl"
    real_replace = os.replace

    def held_open(a, b):
        if Path(b) == out:
            raise PermissionError(13, "Access is denied")
        return real_replace(a, b)

    monkeypatch.setattr(file_labelling, "os", os_as(name="nt", replace=held_open))
    with pytest.raises(OSError, match=r"cannot replace .*out.jsonl \(Access is denied: open in another program, "
                                      r"such as Excel\?\): close it, then run the same command with --resume to "
                                      r"finish: the labels are in .out.jsonl.part$"):
        label_file(src, out, tiny_classifier)
    monkeypatch.undo()
    assert label_file(src, out, tiny_classifier, resume=True).resumed == 20
    label_file(src, tmp_path / "again.jsonl", tiny_classifier)
    assert out.read_bytes() == (tmp_path / "again.jsonl").read_bytes()


def test_a_pipe_given_as_the_input_is_told_to_go_to_stdin(tmp_path):
    """`label <(cat x.jsonl)` or a named pipe: 'input file not found: /dev/fd/63'."""
    from commentnlp.data import DataError, read_labeled
    from commentnlp.exports import check_input_file

    fifo = tmp_path / "export.jsonl"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match=r"is a pipe or a device, not a file: give it on stdin instead, as '-'"):
        check_input_file(fifo)
    with pytest.raises(DataError, match=r"is a pipe or a device, not a file: give it on stdin as '-'"):
        read_labeled(fifo)


def test_an_output_name_too_long_for_the_files_beside_it_is_refused_before_labelling(tmp_path, tiny_classifier):
    """A legal 248-character output name failed after the first chunk: 'File name too long' for the
    checkpoint's scratch file, a part file left behind."""
    src = tmp_path / ("a" * 234 + ".jsonl")
    src.write_text('{"text": "where can I buy it"}\n')
    with pytest.raises(ValueError, match=r"^the output name is too long \(248 characters\): label keeps files beside "
                                         r"it while it writes whose names are 15 longer, over the 255 bytes"):
        label_file(src, None, tiny_classifier)
    assert [p.name for p in tmp_path.iterdir()] == [src.name]


def test_the_lock_of_a_run_that_ended_meanwhile_is_not_taken(tmp_path, monkeypatch):
    """A run that opened the lock file just before the run holding it deleted it locked the deleted file,
    while a third run locked the new one: two runs wrote the same part file."""
    from commentnlp.exports import checkpoints

    out = tmp_path / "out.jsonl"
    lock = tmp_path / ".out.jsonl.lock"
    real_locked, calls = checkpoints._locked, []

    def deleted_meanwhile(fd):  # the first lock file opened is deleted (its run ended) before it is locked
        calls.append(fd)
        if len(calls) == 1:
            lock.unlink()
        return real_locked(fd)

    lock.write_text("")
    monkeypatch.setattr(checkpoints, "_locked", deleted_meanwhile)
    with checkpoints.output_lock(out):
        assert len(calls) == 2 and lock.exists()  # the lock now at the name is the one held
        monkeypatch.setattr(checkpoints, "_locked", real_locked)
        with pytest.raises(OSError, match="another run is writing"):
            with checkpoints.output_lock(out):
                pass


def test_an_output_name_is_measured_as_windows_does_there(tmp_path, monkeypatch):
    """Windows allows 255 UTF-16 units a name, not 255 UTF-8 bytes: a 102-character Japanese name was refused."""
    from commentnlp.exports import checkpoints

    monkeypatch.setattr(checkpoints, "os", os_as(pathconf=None))
    checkpoints._check_name_length(tmp_path / ("日本語" * 34 + ".jsonl"))  # 108 characters, 318 UTF-8 bytes
    with pytest.raises(ValueError, match=r"over the 255 characters a name may have there"):
        checkpoints._check_name_length(tmp_path / ("日" * 240 + ".jsonl"))


def test_a_file_system_without_locks_still_labels(tmp_path, tiny_classifier, monkeypatch):
    """flock on some network mounts is ENOLCK: the lock must not stop every run there."""
    import fcntl

    def no_locks(fd, operation):
        raise OSError(37, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "where can I buy it"}\n')
    assert label_file(src, tmp_path / "out.jsonl", tiny_classifier).labeled == 1
