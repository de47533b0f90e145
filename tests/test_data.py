import gzip
import json
import re
import warnings

import pytest

from commentnlp.corpora import CORPORA, iter_corpus, join_corpus_labels, read_corpus_labels, text_key
from commentnlp.data import DataError, dedupe_key, encode_labels, gather, read_labeled
from commentnlp.schema import HEAD_NAMES

from conftest import REPO, SHARED


@pytest.mark.parametrize("lines, error", [
    ('{"text": "ok", "intent": "spam", "troll": false}\n{"text": "bad", "intent": "question"}\n',
     r"d.jsonl:2: 'question' is not a valid 'intent'"),
    ('{"text": "ok"}\n{broken\n', r"d.jsonl:2: not valid JSON"),
    ('{"message": 5, "intent": "spam"}\n', r"d.jsonl:1: a record needs a string 'text' \(or an export's 'message', 'comment', \.\.\. as `label` finds it\)$"),
    ('{"text": null, "message": "ok", "intent": "spam"}\n', r"d.jsonl:1: a record needs a string 'text' .*\), not null$"),
    ('"ok"\n', r"d.jsonl:1: a record needs a string 'text' .*: this line is a string, not an object$"),
    ('[{"text": "ok", "intent": "spam"}, ["ok"]]', r"d.jsonl, item 2: not a JSON object \(got list\)$"),  # one array
    ('{"text": "ok", "intent": "spam"}\n' + "[" * 100_000 + "]" * 100_000 + "\n",
     r"d.jsonl:2: not readable JSON \(nested over 400 levels deep\)$"),  # was a RecursionError traceback
    # evaluating on these would report nothing; a labelled export's 'labels' are predictions, not gold
    ('{"text": "ok", "labels": {"intent": "spam"}}\n{"text": "no", "labels": {"troll": true}}\n',
     r"d.jsonl: no record labels any head: .*holds predictions, not gold"),
    ('{"text": "ok"}\n{"text": "no"}\n', r"d.jsonl: no record labels any head: give style, intent, sentiment, troll as top-level fields"),
])
def test_read_labeled_names_file_and_line(tmp_path, lines, error):
    (tmp_path / "d.jsonl").write_text(lines, encoding="utf-8")
    with pytest.raises(DataError, match=error):
        read_labeled(tmp_path / "d.jsonl")


def test_read_labeled_finds_an_exports_text_field_as_label_does(tmp_path):
    """Labelled data with a 'message' or 'comment' column (as exports name it) was refused; an
    annotation sheet's 'Intent' column was taken for no labels at all."""
    (tmp_path / "d.csv").write_text("id,Comment,Intent\n1,where can i buy it,Where to buy\n", encoding="utf-8")
    (tmp_path / "d.jsonl").write_text('{"Message": "love it", "sentiment": "positive"}\n', encoding="utf-8")
    assert [(r["text"], r["intent"]) for r in read_labeled(tmp_path / "d.csv")] == [("where can i buy it", "where_to_buy")]
    assert read_labeled(tmp_path / "d.jsonl")[0]["text"] == "love it"
    # a sheet's yes/no question column, 'Troll?', was no troll label at all (training refused the file)
    (tmp_path / "q.csv").write_text("Comment,Troll?,Style \nwake up sheeple,yes,community\n", encoding="utf-8")
    assert [(r["troll"], r["style"]) for r in read_labeled(tmp_path / "q.csv")] == [("true", "community")]
    # the exact name first; a figure named after a head ('Sentiment %') is no label column
    from commentnlp.data import head_column

    assert head_column(["text", "Troll?", "TROLL"], "troll") == "TROLL"
    assert head_column(["Sentiment %", "Troll:"], "sentiment") is None and head_column(["Troll:"], "troll") == "Troll:"
    (tmp_path / "p.csv").write_text("text,intent,Sentiment %\nhi,social,87\n", encoding="utf-8")
    assert [(r["intent"], r["sentiment"]) for r in read_labeled(tmp_path / "p.csv")] == [("social", None)]


def test_read_labeled_reads_a_json_array_as_label_studio_exports_it(tmp_path):
    """Label Studio's JSON-MIN export (one array of flat records) was 'not valid JSON' at line 1."""
    rows = [{"id": 1, "text": "where can i buy it", "intent": "Where to buy", "annotator": 3},
            {"id": 2, "text": "lol", "sentiment": "positive", "troll": 0}]
    (tmp_path / "ls.json").write_text(json.dumps(rows, indent=2), encoding="utf-8")
    got = read_labeled(tmp_path / "ls.json")
    assert [(r["id"], r["intent"], r["troll"]) for r in got] == [(1, "where_to_buy", None), (2, None, "false")]


def test_evaluation_texts_are_read_from_any_data_file_format(tmp_path):
    """An evaluation set given as CSV broke training (its texts were read as JSON lines)."""
    from commentnlp.data import EvaluationTexts

    (tmp_path / "eval.csv").write_text("comment,intent\nWhere can I buy the serum in Leeds?,where_to_buy\n", encoding="utf-8")
    (tmp_path / "eval.json").write_text(json.dumps([{"text": "my order never came"}]), encoding="utf-8")
    texts = EvaluationTexts([tmp_path / "eval.csv", tmp_path / "eval.json"])
    assert texts.why_banned(dedupe_key("where can i buy the serum in leeds")) == "in evaluation set"
    assert texts.why_banned(dedupe_key("ugh my order never came!! help")) == "contains an evaluation text"


def test_read_labeled_reads_gzip_and_a_bom_and_names_unreadable_bytes(tmp_path):
    lines = b'{"text": "where can I buy it", "intent": "where_to_buy"}\n\n{"text": "lol", "troll": false}\n'
    (tmp_path / "d.jsonl.gz").write_bytes(gzip.compress(lines))
    (tmp_path / "bom.jsonl").write_bytes(b"\xef\xbb\xbf" + lines)
    expected = read_labeled(_write(tmp_path / "d.jsonl", lines))
    assert read_labeled(tmp_path / "d.jsonl.gz") == read_labeled(tmp_path / "bom.jsonl") == expected
    assert [(r["intent"], r["troll"]) for r in expected] == [("where_to_buy", None), (None, "false")]
    with pytest.raises(DataError, match=r"d.jsonl:2: not UTF-8 \(invalid start byte at byte 9 of the line\); save the file as UTF-8$"):
        read_labeled(_write(tmp_path / "d.jsonl", lines.replace(b"\n\n", b'\n{"text":\xff}\n')))
    (tmp_path / "cut.jsonl.gz").write_bytes(gzip.compress(lines * 500)[:200])
    with pytest.raises(DataError, match=r"cut.jsonl.gz: (cannot read it after line \d+: )?Compressed file ended"):
        read_labeled(tmp_path / "cut.jsonl.gz")
    with pytest.raises(DataError, match="data file is a directory"):
        read_labeled(tmp_path)


def test_labelled_sheets_from_excel_are_read_or_named_with_what_to_do(tmp_path):
    """Labels kept in a spreadsheet: Excel's "Unicode Text" (UTF-16, tab-separated, a .txt) was read
    one line per text, labels none; its "CSV" (cp1252) failed with 'invalid UTF-8' and nothing to do."""
    sheet = "text,intent,troll\r\nwhere can I buy it in Köln?,where_to_buy,false\r\ncafé is meh,feedback,\r\n"
    expected = read_labeled(_write(tmp_path / "utf8.csv", sheet.encode()))
    assert [(r["intent"], r["troll"]) for r in expected] == [("where_to_buy", "false"), ("feedback", None)]
    for name in ("unicode.txt", "unicode.csv"):
        assert read_labeled(_write(tmp_path / name, sheet.replace(",", "\t").encode("utf-16"))) == expected
    ps = "\r\n".join(json.dumps(r, ensure_ascii=False) for r in expected)  # PowerShell's > writes UTF-16
    assert read_labeled(_write(tmp_path / "ps.jsonl", ps.encode("utf-16"))) == expected
    with pytest.raises(DataError, match=r'windows.csv:2: invalid UTF-8; save the file as UTF-8 \(in Excel: "CSV UTF-8"\)'):
        read_labeled(_write(tmp_path / "windows.csv", sheet.encode("cp1252")))
    import openpyxl  # and the workbook itself, its labels on a sheet after a cover sheet

    book = openpyxl.Workbook()
    book.active.append(["How to label: see LABELING.md"])
    labels = book.create_sheet("Labels")
    for line in sheet.strip().split("\r\n"):
        labels.append([cell or None for cell in line.split(",")])
    book.save(tmp_path / "labels.xlsx")
    assert read_labeled(tmp_path / "labels.xlsx") == expected


def test_a_csv_that_label_wrote_is_read_with_a_warning_that_its_labels_are_predictions(tmp_path, tiny_classifier):
    """Evaluated on the CSV `label` wrote, a model scored 1.000: its own predictions, flattened into
    head columns, read as gold labels without a word (corrected by hand, they are gold: still read)."""
    from commentnlp.exports import label_file

    (tmp_path / "export.jsonl").write_text('{"message": "where can I buy it"}\n{"message": "lol"}\n', encoding="utf-8")
    label_file(tmp_path / "export.jsonl", tmp_path / "labeled.csv", tiny_classifier)
    with pytest.warns(UserWarning, match=r"labeled.csv holds the columns `commentnlp label` writes: its labels are a "
                                         r"model's predictions unless corrected by hand"):
        records = read_labeled(tmp_path / "labeled.csv")
    assert [r["text"] for r in records] == ["where can I buy it", "lol"] and all(r["intent"] for r in records)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a labelled file of its own: no warning
        read_labeled(_write(tmp_path / "gold.csv", b"text,intent\nwhere can I buy it,where_to_buy\n"))


def test_read_labeled_reads_csv_as_jsonl(tmp_path):
    """A spreadsheet of labels: a text column and a column per head, an empty cell not labelled."""
    jsonl = b'{"text": "where can I buy it", "intent": "where_to_buy", "troll": false}\n{"text": "lol, ok", "style": "community"}\n'
    csv_text = 'id;text;intent;troll;style\n1;where can I buy it;where_to_buy;false;\n2;"lol, ok";;;community\n'
    expected = read_labeled(_write(tmp_path / "d.jsonl", jsonl))
    (tmp_path / "d.csv.gz").write_bytes(gzip.compress(csv_text.encode()))
    got = read_labeled(tmp_path / "d.csv.gz")
    assert [r.pop("id") for r in got] == ["1", "2"] and got == expected
    with pytest.raises(DataError, match=r"d.csv:3: 'maybe' is not a valid 'troll'"):
        read_labeled(_write(tmp_path / "d.csv", b"text,troll\nok,true\nhm,maybe\n"))
    with pytest.raises(DataError, match=r"d.csv:2: row has 1 fields, the header has 2"):
        read_labeled(_write(tmp_path / "d.csv", b"text,troll\nok\n"))


@pytest.mark.parametrize("gz", [False, True])
def test_read_labeled_reads_stdin_in_either_format(monkeypatch, gz):
    """`evaluate --data -` said 'data file not found: -'."""
    import io
    import sys

    jsonl = b'\xef\xbb\xbf{"text": "where can I buy it", "intent": "where_to_buy", "troll": false}\n'
    csv_text = b"text,intent,troll\nwhere can I buy it,where_to_buy,false\n"
    got = []
    for data in (jsonl, csv_text):
        data = gzip.compress(data) if gz else data
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
        got.append(read_labeled("-"))
    assert got[0] == got[1] and got[0][0]["intent"] == "where_to_buy" and got[0][0]["troll"] == "false"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b'{"text": 5}\n')))
    with pytest.raises(DataError, match="<stdin>:1: a record needs a string 'text'"):
        read_labeled("-")


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


def test_a_record_may_label_some_heads_only(tmp_path):
    p = tmp_path / "d.jsonl"
    p.write_text('{"text": "ok"}\n{"text": "no", "troll": false}\n')
    assert [r["troll"] for r in read_labeled(p)] == [None, "false"]


def test_partial_labels_are_masked():
    assert encode_labels({"text": "x", "sentiment": "positive", "troll": "true"}) == {
        "style": -100, "intent": -100, "sentiment": 2, "troll": 1}


def test_gather_dedupes_and_excludes_evaluation_texts(tmp_path):
    a = tmp_path / "a.jsonl"
    a.write_text("".join(json.dumps({"text": t, "intent": "social"}) + "\n" for t in ["Hello!", "hello", "keep me", "secret eval text"]))
    ev = tmp_path / "eval.jsonl"
    ev.write_text(json.dumps({"text": "Secret eval text."}) + "\n")
    texts = [r["text"] for r in gather([a], exclude=[ev])]
    assert texts == ["Hello!", "keep me"]


def test_project_data_is_valid_and_never_contains_the_yardstick():
    dev_set = SHARED / "evalsets" / "real_dev.jsonl"
    from commentnlp.data import dedupe_key

    files = [REPO / "data" / f"{s}.jsonl" for s in ("train", "dev", "test")]
    records = [r for f in files for r in read_labeled(f)]
    assert len(records) >= 2000
    assert all(all(r[h] is not None for h in ("style", "intent", "sentiment", "troll")) for r in records)
    keys = [dedupe_key(r["text"]) for r in records]
    assert len(set(keys)) == len(keys), "a text occurs in two splits"
    if dev_set.is_file():
        banned = {dedupe_key(json.loads(l)["text"]) for l in dev_set.open(encoding="utf-8")}
        assert not banned & set(keys)


def test_corpus_labels_hold_no_text():
    for path in (REPO / "data" / "corpus_labels").glob("*.jsonl"):
        for line in path.open(encoding="utf-8"):
            row = json.loads(line)
            assert set(row) == {"corpus", "key", "style", "intent", "sentiment", "troll"}
            assert row["corpus"] in CORPORA


def test_corpus_readers_and_join(tmp_path):
    root = tmp_path / "youtube_spam_collection"
    root.mkdir()
    (root / "Youtube01-X.csv").write_text(
        "COMMENT_ID,AUTHOR,DATE,CONTENT,CLASS\n1,a,,\"check my channel&amp;sub<br />now\ufeff\",1\n2,b,,love this song,0\n",
        encoding="utf-8")
    rows = list(iter_corpus(tmp_path, "youtube_spam_collection"))
    assert rows[0]["text"] == "check my channel&sub\nnow" and rows[0]["intent"] == "spam"
    assert rows[1]["intent"] is None and rows[1]["key"] == text_key("love this song")
    labels = tmp_path / "labels.jsonl"
    labels.write_text(json.dumps({"corpus": "youtube_spam_collection", "key": text_key("love this song"),
                                  "style": "audience", "intent": "feedback", "sentiment": "positive", "troll": False}) + "\n")
    joined = join_corpus_labels(tmp_path, [labels])
    assert len(joined) == 1 and joined[0]["text"] == "love this song" and joined[0]["intent"] == "feedback"
    # ignore_heads: {label-file glob: heads} leaves those heads unlabelled (not trained on), in those files only
    other = tmp_path / "other.jsonl"
    other.write_text(json.dumps({"corpus": "youtube_spam_collection", "key": text_key("check my channel&sub\nnow"),
                                 "style": "audience", "intent": "spam", "sentiment": "neutral", "troll": True}) + "\n")
    masked = gather([], datasets_dir=tmp_path, corpus_labels=[labels, other],
                    ignore_heads={str(tmp_path / "lab*.jsonl"): ["troll", "sentiment"]})
    by_text = {r["text"]: r for r in masked}
    assert by_text["love this song"]["troll"] is None and by_text["love this song"]["sentiment"] is None
    assert by_text["love this song"]["intent"] == "feedback" and by_text["check my channel&sub\nnow"]["troll"] == "true"
    with pytest.raises(ValueError, match="unknown heads"):
        gather([], datasets_dir=tmp_path, corpus_labels=[labels], ignore_heads={str(labels): ["trol"]})
    with pytest.raises(KeyError, match="unknown corpus"):
        list(iter_corpus(tmp_path, "nope"))


def test_unlabeled_corpus_texts_carry_no_label_and_skip_evaluation_texts(tmp_path):
    root = tmp_path / "youtube_spam_collection"
    root.mkdir()
    texts = ["check my channel", "love this song", "an eval comment", "third one", "fourth one"]
    (root / "Youtube01-X.csv").write_text("COMMENT_ID,AUTHOR,DATE,CONTENT,CLASS\n" + "".join(
        f"{i},a,,{t},1\n" for i, t in enumerate(texts)), encoding="utf-8")  # CLASS 1 = spam, a native label
    evalset = tmp_path / "eval.jsonl"
    evalset.write_text(json.dumps({"text": "an eval comment"}) + "\n")
    rows = gather([], datasets_dir=tmp_path, corpus_unlabeled={"youtube_spam_collection": 3}, exclude=[evalset])
    assert 2 <= len(rows) <= 3 and "an eval comment" not in {r["text"] for r in rows}
    assert all(r[h] is None for r in rows for h in HEAD_NAMES)  # the corpus's own spam label is not kept
    assert {r["source"] for r in rows} == {"corpus:youtube_spam_collection:unlabeled"}
    everything = gather([], datasets_dir=tmp_path, corpus_unlabeled={"youtube_spam_collection": 99})
    assert sorted(r["text"] for r in everything) == sorted(texts)


def test_split_data_adds_unlabeled_texts_to_train_only(tmp_path):
    from commentnlp.data import split_data
    from commentnlp.training_args import TrainingConfig

    root = tmp_path / "youtube_spam_collection"
    root.mkdir()
    texts = ["love this song", "a dev comment", "new text one", "new text two"]
    (root / "Youtube01-X.csv").write_text("COMMENT_ID,AUTHOR,DATE,CONTENT,CLASS\n" + "".join(
        f"{i},a,,{t},0\n" for i, t in enumerate(texts)), encoding="utf-8")
    for name, text in (("train", "love this song"), ("dev", "a dev comment")):
        (tmp_path / f"{name}.jsonl").write_text(json.dumps({"text": text, "intent": "feedback"}) + "\n")
    cfg = TrainingConfig.from_dict({"data": {
        "train": [str(tmp_path / "train.jsonl")], "dev": [str(tmp_path / "dev.jsonl")], "test": [],
        "datasets_dir": str(tmp_path), "corpus_unlabeled": {"youtube_spam_collection": 10}}})
    train, dev, _ = split_data(cfg)
    assert [r["text"] for r in dev] == ["a dev comment"]
    assert (train[0]["text"], train[0]["intent"]) == ("love this song", "feedback")
    assert sorted(r["text"] for r in train[1:]) == ["new text one", "new text two"]  # no copy of a train or dev text
    assert all(r[h] is None for r in train[1:] for h in HEAD_NAMES)


def test_corpus_labels_label_each_comment_once():
    seen: dict[tuple[str, str], str] = {}
    for path in sorted((REPO / "data" / "corpus_labels").glob("*.jsonl")):
        for line in path.open(encoding="utf-8"):
            row = json.loads(line)
            key = (row["corpus"], row["key"])
            assert key not in seen, f"{key} is labelled in {seen[key]} and {path.name}"
            seen[key] = path.name


def test_sample_corpus_skips_labelled_evaluation_and_duplicate_texts(tmp_path):
    import subprocess, sys
    root = tmp_path / "datasets" / "youtube_spam_collection"
    root.mkdir(parents=True)
    texts = ["where can I buy this", "Where can I buy this!!", "already labelled", "an eval comment here",
             "an eval comment here, and more", "love this song", "buy my mixtape"]
    (root / "Youtube01-X.csv").write_text("COMMENT_ID,AUTHOR,DATE,CONTENT,CLASS\n" + "".join(
        f"{i},a,,{t!r},0\n".replace("'", '"') for i, t in enumerate(texts)), encoding="utf-8")
    labels = tmp_path / "labels.jsonl"
    labels.write_text(json.dumps({"corpus": "youtube_spam_collection", "key": text_key("already labelled")}) + "\n")
    evalset = tmp_path / "eval.jsonl"
    evalset.write_text(json.dumps({"text": "An eval comment here."}) + "\n")
    out = tmp_path / "job.jsonl"

    def sample(*extra):
        run = subprocess.run([sys.executable, str(REPO / "training" / "sample_corpus.py"), "--out", str(out),
                              "--corpus", "youtube_spam_collection", "--datasets-dir", str(tmp_path / "datasets"),
                              "--exclude", str(labels), "--eval-set", str(evalset), *extra],
                             capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        return [json.loads(line) for line in out.open()]

    rows = sample("--n", "10")
    assert sorted(r["text"] for r in rows) == ["buy my mixtape", "love this song", "where can I buy this"]
    assert all(r["key"] == text_key(r["text"]) and r["corpus"] == "youtube_spam_collection" for r in rows)
    assert sorted(r["text"] for r in sample("--match", "\\bbuy\\b")) == ["buy my mixtape", "where can I buy this"]


@pytest.mark.skipif(not (SHARED / "datasets").is_dir(), reason="../shared/datasets is not beside the repository")
def test_project_corpus_labels_all_match_the_shared_corpora():
    files = sorted((REPO / "data" / "corpus_labels").glob("*.jsonl"))
    n_rows = sum(1 for f in files for _ in f.open())
    joined = join_corpus_labels(SHARED / "datasets", files)
    assert len(joined) == n_rows


def _build(raw, out, *extra, evalset=None):
    import subprocess, sys
    subprocess.run([sys.executable, str(REPO / "training" / "build_data.py"), "--raw", str(raw), "--out", str(out),
                    "--evalset", str(evalset or out / "none.jsonl"), *extra], check=True, capture_output=True)
    return {name: [json.loads(l)["text"] for l in open(out / f"{name}.jsonl")] for name in ("train", "dev", "test")}


def test_build_data_splits_are_append_only(tmp_path):
    from toydata import toy_records
    raw, out = tmp_path / "raw", tmp_path / "out"
    raw.mkdir(), out.mkdir()
    full = {"sentiment": "neutral", "troll": False}
    records = [{**full, **r} for r in toy_records(n_per_class=40, seed=1)]
    (raw / "a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records[:100]))
    first = _build(raw, out)
    assert sum(map(len, first.values())) == 100 and len(first["test"]) == 10
    (raw / "b.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records[100:]))
    second = _build(raw, out)
    for name in first:  # old records keep their split and order; new ones are appended
        assert second[name][: len(first[name])] == first[name]
    assert sum(map(len, second.values())) == 160
    assert _build(raw, out) == second  # idempotent
    assert _build(raw, out, "--resplit")["test"] != second["test"]


def test_build_data_finds_duplicates_by_the_datas_key_and_splits_a_handful_of_new_records(tmp_path):
    """With the emoji-keeping key, texts the last build had dropped as duplicates ('first 🔥' beside 'first 😂')
    were new, one of an intent: `python training/build_data.py` crashed in sklearn's stratified split."""
    from toydata import toy_records
    raw, out = tmp_path / "raw", tmp_path / "out"
    raw.mkdir(), out.mkdir()
    full = {"sentiment": "neutral", "troll": False}
    records = [{**full, **r} for r in toy_records(n_per_class=20, seed=3)]
    emoji = [{**records[0], "text": "first 🔥"}, {**records[1], "text": "first 😂"}]
    (raw / "a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records + emoji))
    first = _build(raw, out)  # key 1: one of the two
    assert sum(map(len, first.values())) == len(records) + 1
    assert _build(raw, out) == first  # the same data again
    second = _build(raw, out, "--dedupe-key", "2")  # the other is new: one record, split without a crash
    assert sum(map(len, second.values())) == len(records) + 2
    assert all(second[name][: len(first[name])] == first[name] for name in first)


def test_build_data_drops_texts_equal_to_or_containing_an_evaluation_text(tmp_path):
    from toydata import toy_records
    raw, out = tmp_path / "raw", tmp_path / "out"
    raw.mkdir(), out.mkdir()
    full = {"sentiment": "neutral", "troll": False}
    records = [{**full, **r} for r in toy_records(n_per_class=30, seed=2)]
    leaks = [{**records[0], "text": "Made in china...."}, {**records[1], "text": "made in china.... for $1200 lmao"},
             {**records[2], "text": "price?"}]
    (raw / "a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records + leaks))
    evalset = tmp_path / "eval.jsonl"
    evalset.write_text("".join(json.dumps({"text": t}) + "\n" for t in ["MADE IN CHINA....\ufeff", "Price?"]))
    texts = [t for split in _build(raw, out, evalset=evalset).values() for t in split]
    assert len(texts) == len(records) and not any("china" in t.lower() or t == "price?" for t in texts)


def test_threshold_records_are_held_out_real_comments(tmp_path):
    from commentnlp.data import threshold_records
    from commentnlp.training_args import TrainingConfig

    root = tmp_path / "youtube_spam_collection"
    root.mkdir()
    texts = ["where can I buy this", "in stock in leeds?", "a train text", "an eval comment", "trained file text"]
    (root / "Youtube01-X.csv").write_text("COMMENT_ID,AUTHOR,DATE,CONTENT,CLASS\n" + "".join(
        f"{i},a,,{t},0\n" for i, t in enumerate(texts)), encoding="utf-8")

    def label_file(name, rows):
        path = tmp_path / name
        path.write_text("".join(json.dumps({"corpus": "youtube_spam_collection", "key": text_key(t), "style": "audience",
                                            "intent": "where_to_buy", "sentiment": "neutral", "troll": False}) + "\n"
                                for t in rows))
        return str(path)

    label_file("held.jsonl", texts[:4])  # matched by the *d.jsonl glob, never trained on
    trained = label_file("trained.jsonl", texts[4:])
    (tmp_path / "eval.jsonl").write_text(json.dumps({"text": "an eval comment"}) + "\n")
    cfg = TrainingConfig.from_dict({"data": {"datasets_dir": str(tmp_path), "corpus_labels": [trained],
                                             "threshold_labels": {str(tmp_path / "*d.jsonl"): ["intent"]},
                                             "evaluate": [str(tmp_path / "eval.jsonl")]}})
    logged = []
    rows = threshold_records(cfg, [{"text": "A train text!"}], logged.append)
    assert [r["text"] for r in rows] == ["where can I buy this", "in stock in leeds?"]
    assert all(r["intent"] == "where_to_buy" and r["troll"] is None and r["style"] is None for r in rows)
    assert "1 of 2 files are also trained on" in logged[0] and "2 real comments from 1 files (1 also in train" in logged[1]
    cfg.data.threshold_labels = {str(tmp_path / "held.jsonl"): ["troll", "intnt"]}
    with pytest.raises(ValueError, match=r"threshold_labels\[.*unknown heads \['intnt'\]"):
        threshold_records(cfg, [])
    cfg.data.datasets_dir = ""
    with pytest.raises(ValueError, match="needs datasets_dir"):
        threshold_records(cfg, [])
    cfg.data.threshold_labels = {}
    assert threshold_records(cfg, []) == []


def test_the_dedupe_key_keeps_emoji_and_symbols():
    """'this is 🔥' (positive) and 'this is 💩' (a troll) were one text, and training kept only the first."""
    assert dedupe_key("this is 🔥") != dedupe_key("this is 💩")
    assert dedupe_key("This is🔥!!") == dedupe_key("this is 🔥") == "this is 🔥"
    assert dedupe_key("❤️ it") == dedupe_key("❤ it")  # a variation selector is no symbol of its own
    assert dedupe_key("Earn $500/day") != dedupe_key("Earn 500/day")
    assert dedupe_key("Hello,   World!") == dedupe_key("hello world") == "hello world"  # as before
    assert dedupe_key("???") == "???"


def test_corpus_label_rows_are_validated_like_labeled_files(tmp_path):
    """A corpus label file's labels were taken raw: "Where to buy" failed at encoding without a file or line,
    a bool troll never equalled a labeled file's "true" (gather counted such duplicates as labelled otherwise),
    and a broken line was a bare JSONDecodeError or KeyError."""
    key = text_key("love this song")
    good = {"corpus": "youtube_spam_collection", "key": key, "intent": "Where to buy", "troll": 1}
    labels = tmp_path / "labels.jsonl"
    labels.write_text(json.dumps(good) + "\n\n")
    assert list(read_corpus_labels(labels)) == [{**good, "style": None, "intent": "where_to_buy", "sentiment": None,
                                                 "troll": "true"}]
    for line, reason in [('{"corpus": "youtube_spam_collection", "key": "%s", "intent": "wtb"}' % key,
                          "'wtb' is not a valid 'intent' label"),
                         ("{not json", "not valid JSON"),
                         ('{"key": "%s", "intent": "social"}' % key, 'a corpus label row is an object with "corpus" and "key" strings'),
                         ("[1, 2]", 'a corpus label row is an object with "corpus" and "key" strings')]:
        labels.write_text(json.dumps(good) + "\n" + line + "\n")
        with pytest.raises(ValueError, match=re.escape(f"{labels}:2: {reason}")):
            list(read_corpus_labels(labels))


def test_gather_says_what_it_leaves_out(tmp_path):
    """Duplicates, even labelled otherwise, and evaluation texts were dropped without a word."""
    a = tmp_path / "a.jsonl"
    rows = [("this is 🔥", "positive"), ("this is 💩", "negative"), ("This is 🔥!", "positive"), ("THIS IS 🔥", "negative"),
            ("an eval text here", "neutral")]
    a.write_text("".join(json.dumps({"text": t, "sentiment": s}) + "\n" for t, s in rows))
    ev = tmp_path / "eval.jsonl"
    ev.write_text(json.dumps({"text": "An eval text, here"}) + "\n")
    logged = []
    kept = gather([a], exclude=[ev], log=logged.append, what="train")
    assert [(r["text"], r["sentiment"]) for r in kept] == rows[:2]
    assert logged == ["train: left out 2 duplicate texts (case, punctuation and spacing aside), 1 of them labelled "
                      f"otherwise than the first, which is kept ({a}:4 sentiment=negative vs {a}:1 sentiment=positive)",
                      "train: left out 1 text of the evaluation files"]  # where annotators find the conflict


def test_records_with_an_empty_text_are_left_out_with_a_warning(tmp_path, tiny_classifier):
    """They were trained on and scored by evaluate (n counted them), while label refuses an empty text."""
    from commentnlp.evaluation import evaluate

    p = tmp_path / "d.jsonl"
    texts = ["ok", "", "  \n", "fine", "\u200b", "&nbsp;"]  # as label reads them: invisible characters only are empty
    p.write_text("".join(json.dumps({"text": t, "intent": "social"}) + "\n" for t in texts))
    with pytest.warns(UserWarning, match=re.escape(f"4 records with an empty text left out ({p}:2, {p}:3, {p}:5, ...)")):
        assert [r["text"] for r in read_labeled(p)] == ["ok", "fine"]
    with pytest.warns(UserWarning, match="4 records with an empty text left out"):
        assert evaluate(tiny_classifier, p)["n"] == 2
    with pytest.warns(UserWarning, match="4 records with an empty text left out"):
        assert len(gather([p])) == 2


def test_seen_in_training_hashes_with_the_key_the_model_was_saved_with(tmp_path, tiny_model_dir):
    import shutil

    import numpy as np
    from safetensors.numpy import save_file

    from commentnlp.data import text_hashes
    from commentnlp.evaluation import seen_in_training
    from commentnlp.serialization import write_training_texts

    model = tmp_path / "m"
    shutil.copytree(tiny_model_dir, model)
    write_training_texts(model, {"train": text_hashes(["this is 🔥"]), "dev": text_hashes([])})
    assert seen_in_training(model, ["this is 💩"])["either"] == 0
    with pytest.warns(UserWarning):
        assert seen_in_training(model, ["This is 🔥!"])["either"] == 1
    # a model saved before the key kept emoji (the bundled ones): its hashes are of the old key
    save_file({"train": np.unique(text_hashes(["where can I buy it 😍"], key_version=1)), "dev": text_hashes([])},
              str(model / "training_texts.safetensors"))
    with pytest.warns(UserWarning):
        assert seen_in_training(model, ["Where can I buy it?"])["either"] == 1


def test_a_model_saved_before_the_key_kept_emoji_splits_its_data_as_it_was_trained(tmp_path):
    """Its recorded train/dev counts (which finalize.py checks) and its baselines' training data."""
    from commentnlp.baselines import baseline_training_records
    from commentnlp.data import dedupe_key_version
    from commentnlp.serialization import ModelConfig

    a = tmp_path / "a.jsonl"
    a.write_text("".join(json.dumps({"text": t, "intent": "social"}) + "\n"
                         for t in ["this is 🔥", "this is 💩", *(f"text {i}" for i in range(20))]))
    with dedupe_key_version(1):
        assert len(gather([a])) == 21
    assert len(gather([a])) == 22
    recorded = {"data": {"train": [str(a)]}}
    old = ModelConfig(training={"config": recorded})  # no "dedupe_key": saved before it was recorded
    assert len(baseline_training_records(old)) == 21 - 2  # 10% held out as dev
    assert len(baseline_training_records(ModelConfig(training={"config": recorded, "dedupe_key": 2}))) == 22 - 2
