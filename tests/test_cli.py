import gzip
import json
import os
import re
import shutil
import sys
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from commentnlp.cli import app

from conftest import os_as

runner = CliRunner()


def test_help_for_every_command():
    for cmd in ([], ["label"], ["classify"], ["train"], ["evaluate"], ["find-threshold"], ["report"], ["info"]):
        result = runner.invoke(app, [*cmd, "--help"])
        assert result.exit_code == 0, result.output
        assert "Usage" in result.output


def test_help_wraps_each_paragraph_once_at_the_terminals_width():
    # the docstring's own line breaks are gone: a sentence split across its lines reads on one
    result = runner.invoke(app, ["label", "--help"], env={"COLUMNS": "200"})
    assert "carry an 'error' field with the line number and reason" in result.output
    result = runner.invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert "Write one HTML report of a labeled export (or several): the label mix, trends and work queues." in result.output


def test_label_hints_at_text_field_when_no_record_has_a_known_one(tmp_path, tiny_model_dir):
    src = tmp_path / "export.csv"
    src.write_text("id,msg\n1,where can I buy it\n", encoding="utf-8")
    result = runner.invoke(app, ["label", str(src), "--model", str(tiny_model_dir)])
    assert result.exit_code == 0 and "0 labeled, 1 with errors" in result.output
    assert "--text-field" in result.output
    result = runner.invoke(app, ["label", str(src), "--model", str(tiny_model_dir), "--text-field", "msg"])
    assert "1 labeled, 0 with errors" in result.output and "hint:" not in result.output
    result = runner.invoke(app, ["label", str(src), "--model", str(tiny_model_dir), "--text-field", " "])
    assert result.exit_code == 2 and "error: --text-field is empty" in result.output


def test_batch_size_help_gives_the_classifiers_defaults():
    from commentnlp.classifier import DEFAULT_BATCH_SIZE, GPU_BATCH_SIZE
    from commentnlp.cli._util import BATCH_SIZE_HELP

    assert f"{DEFAULT_BATCH_SIZE} on the CPU, {GPU_BATCH_SIZE} on a GPU" in BATCH_SIZE_HELP
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert f"batch_size: {DEFAULT_BATCH_SIZE} on CPU, {GPU_BATCH_SIZE} on GPU" in readme


def test_label_writes_every_record(tmp_path, tiny_model_dir):
    src = tmp_path / "export.jsonl"
    src.write_text(json.dumps({"id": 1, "message": "do you ship to PR?"}) + "\n"
                   + json.dumps({"id": 2, "message": None}) + "\n"
                   + json.dumps({"id": 3, "body": "ok 👍"}) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["label", str(src), "--model", str(tiny_model_dir)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(l) for l in (tmp_path / "export.labeled.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == [1, 2, 3]
    assert "labels" in rows[0] and "action" in rows[0] and "scores" in rows[0]
    assert rows[1]["error"] == "line 2: 'message' is null, not a string"
    assert "3 records" in result.output and "1 with errors" in result.output
    # what the CM has to do, counted by playbook action
    from commentnlp import Classifier

    actions = Counter(p.action_id for p in Classifier.load(tiny_model_dir).predict(["do you ship to PR?", "ok 👍"]))
    line = next(l for l in result.output.splitlines() if l.startswith("  actions: "))
    assert line == "  actions: " + ", ".join(f"{n} {a}" for a, n in actions.most_common())


def test_label_to_stdout_with_text_field(tmp_path, tiny_model_dir):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"msg": "hello"}) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["label", str(src), "-o", "-", "--text-field", "msg", "--model", str(tiny_model_dir), "-q"])
    assert result.exit_code == 0
    row = json.loads(result.stdout.strip())
    assert row["msg"] == "hello" and set(row["labels"]) == {"style", "intent", "sentiment", "troll"}


@pytest.mark.parametrize("option, message", [
    (["--format", "xml"], "--format: label reads jsonl, csv (tsv), txt or xlsx (optionally .gz), not 'xml'"),
    (["--output-format", "xml"], "--output-format: label writes jsonl, csv, tsv or xlsx (optionally .gz), not 'xml'"),
    (["--output-format", "txt"], "label writes jsonl, csv, tsv or xlsx"), (["--device", "tpu"], "--device must be"),
    (["--backend", "foo"], "--backend must be one of"), (["--encoding", "nope"], "unknown encoding 'nope'"),
])
def test_wrong_option_values_are_usage_errors(tmp_path, tiny_model_dir, option, message):
    # exit code 1 (a fatal error) though the README and --help say 2 is wrong usage
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "x"}\n')
    result = runner.invoke(app, ["label", str(src), "--model", str(tiny_model_dir), *option])
    assert result.exit_code == 2 and message in result.output, result.output


def test_format_names_are_read_in_any_case_and_tsv_json_are_formats(tmp_path, tiny_model_dir):
    """--output-format tsv was 'unknown format', --format JSONL refused, and the message listed txt as one label writes."""
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "where can i buy it"}\n')
    args = ["label", str(src), "--model", str(tiny_model_dir), "-q"]
    assert runner.invoke(app, [*args, "--output-format", "tsv"]).exit_code == 0
    assert (tmp_path / "in.labeled.tsv").read_text().startswith("text\tstyle\tintent\t")
    tabbed = runner.invoke(app, [*args, "--output-format", "TSV", "-o", "-"])
    assert tabbed.exit_code == 0 and tabbed.stdout.startswith("text\tstyle\t")
    as_json = runner.invoke(app, [*args, "--format", "JSONL", "--output-format", "json", "-o", "-"])
    assert as_json.exit_code == 0 and json.loads(as_json.stdout)["labels"]


def test_fatal_errors_are_one_line_and_nonzero(tmp_path, tiny_model_dir):
    result = runner.invoke(app, ["label", str(tmp_path / "missing.jsonl"), "--model", str(tiny_model_dir)])
    assert result.exit_code == 1 and "input file not found" in result.output and "Traceback" not in result.output
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "x"}\n')
    result = runner.invoke(app, ["label", str(src), "--model", str(tmp_path / "nomodel")])
    assert result.exit_code == 1 and "model directory not found" in result.output
    # a truncated gzip said only "Aborted." (click's answer to an EOFError); a bad one, "cannot write output"
    data = gzip.compress(b'{"text": "where to buy"}\n' * 2000)
    (tmp_path / "cut.jsonl.gz").write_bytes(data[: len(data) // 2])
    result = runner.invoke(app, ["label", str(tmp_path / "cut.jsonl.gz"), "--model", str(tiny_model_dir)])
    assert result.exit_code == 1 and result.output.startswith(f"error: cannot read input {tmp_path / 'cut.jsonl.gz'}: ")
    result = runner.invoke(app, ["label", str(tmp_path), "--model", str(tiny_model_dir)])
    assert result.exit_code == 1 and "input is a directory" in result.output and "--engine spark" in result.output


def test_classify_json(tiny_model_dir):
    result = runner.invoke(app, ["classify", "--model", str(tiny_model_dir), "--json", "where to buy?", "lol"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(l) for l in result.stdout.splitlines()]
    assert [r["text"] for r in rows] == ["where to buy?", "lol"] and all("action" in r for r in rows)
    piped = runner.invoke(app, ["classify", "--model", str(tiny_model_dir), "--json", "-"], input="where to buy?\r\n\nlol\n")
    assert piped.exit_code == 0, piped.output
    assert [json.loads(l) for l in piped.stdout.splitlines()] == rows  # one text per line, the blank one skipped
    piped = runner.invoke(app, ["classify", "--model", str(tiny_model_dir), "--json", "-"],
                          input="\ufeffwhere to buy?\n lol\n".encode("utf-8"))
    assert [json.loads(l)["text"] for l in piped.stdout.splitlines()] == ["where to buy?", " lol"]  # BOM dropped


def test_label_takes_several_inputs(tiny_model_dir, tmp_path, monkeypatch):
    """`commentnlp label exports/*.csv` was "Got unexpected extra argument(s)"."""
    monkeypatch.chdir(tmp_path)
    for name, line in (("a.jsonl", '{"text": "where can I buy it"}\n'), ("b.jsonl", '{"text": "lol"}\n{"text": ""}\n')):
        (tmp_path / name).write_text(line, encoding="utf-8")
    (tmp_path / "c.csv").write_text("id,message\n1,love it\n", encoding="utf-8")
    args = ["label", "--model", str(tiny_model_dir)]
    result = runner.invoke(app, [*args, "a.jsonl", "b.jsonl", "c.csv"])
    assert result.exit_code == 0, result.output
    assert "3 files, 4 records: 3 labeled, 1 with errors" in result.stderr
    assert {p.name for p in tmp_path.glob("*.labeled.*")} == {"a.labeled.jsonl", "b.labeled.jsonl", "c.labeled.csv"}
    # a glob run again leaves the outputs of the first run out; -o names a directory
    (tmp_path / "out").mkdir()
    result = runner.invoke(app, [*args, *sorted(p.name for p in tmp_path.iterdir() if p.is_file()), "-o", "out"])
    assert result.exit_code == 0, result.output
    assert "note: left out 3 labelled output(s) of an earlier run" in result.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.labeled.jsonl", "b.labeled.jsonl", "c.labeled.csv"]
    assert (tmp_path / "out" / "a.labeled.jsonl").read_bytes() == (tmp_path / "a.labeled.jsonl").read_bytes()
    result = runner.invoke(app, [*args, "a.jsonl", "c.csv", "-o", "new/dir"])  # made, as the README's example needs
    assert result.exit_code == 0 and sorted(p.name for p in (tmp_path / "new" / "dir").iterdir()) == \
        ["a.labeled.jsonl", "c.labeled.csv"]
    # one that cannot be read: the others are labelled, the end says which was not, and the exit code is 1
    (tmp_path / "bad.jsonl.gz").write_bytes(b"not gzip")
    result = runner.invoke(app, [*args, "a.jsonl", "bad.jsonl.gz", "c.csv", "-o", "out2"])
    assert result.exit_code == 1 and "error: cannot read input bad.jsonl.gz: Not a gzipped file" in result.stderr
    assert "2 files, 2 records: 2 labeled, 0 with errors; 1 not labelled: bad.jsonl.gz" in result.stderr
    assert sorted(p.name for p in (tmp_path / "out2").iterdir()) == ["a.labeled.jsonl", "c.labeled.csv"]
    # a missing file or a folder among them (exports/* matching a subfolder) stopped the whole run, none labelled
    (tmp_path / "old").mkdir()
    result = runner.invoke(app, [*args, "a.jsonl", "nope.jsonl", "old", "c.csv", "-o", "out3"])
    assert result.exit_code == 1 and "error: input file not found: nope.jsonl" in result.stderr
    assert "error: input is a directory, not an export file: old" in result.stderr
    assert "2 files, 2 records: 2 labeled, 0 with errors; 2 not labelled: nope.jsonl, old" in result.stderr
    assert sorted(p.name for p in (tmp_path / "out3").iterdir()) == ["a.labeled.jsonl", "c.labeled.csv"]
    for bad, error in ((["a.jsonl", "b.jsonl", "-o", "x.jsonl"], "with several inputs, -o names a directory"),
                       (["a.jsonl", "-"], "not with '-' (stdin)"), (["a.jsonl", "nope.jsonl"], "input file not found")):
        result = runner.invoke(app, [*args, *bad])
        assert result.exit_code in (1, 2) and error in result.output
    # a pattern as cmd.exe and PowerShell pass it (unexpanded) was "input file not found: *.jsonl"
    result = runner.invoke(app, [*args, "[ab].jsonl", "-o", "out4"])
    assert result.exit_code == 0 and sorted(p.name for p in (tmp_path / "out4").iterdir()) == \
        ["a.labeled.jsonl", "b.labeled.jsonl"]
    result = runner.invoke(app, ["report", "out4/*.labeled.jsonl", "-o", "month.html"])
    assert result.exit_code == 0 and "3 records -> month.html" in result.stderr
    # two names one file on a case-insensitive disk (Windows, macOS): the second output replaced the first
    import types

    from commentnlp.cli import label as label_command

    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "A.jsonl").write_text('{"text": "hi"}\n', encoding="utf-8")
    result = runner.invoke(app, [*args, "x/A.jsonl", "a.jsonl", "-o", "out5"])  # two files on Linux's disks
    assert result.exit_code == 0 and sorted(p.name for p in (tmp_path / "out5").iterdir()) == \
        ["A.labeled.jsonl", "a.labeled.jsonl"]
    monkeypatch.setattr(label_command, "sys", types.SimpleNamespace(platform="darwin"))
    result = runner.invoke(app, [*args, "x/A.jsonl", "a.jsonl", "-o", "out6"])
    assert result.exit_code == 2 and "two inputs are named A.jsonl: their outputs in out6/ would have the same name" \
        in result.output


def test_label_names_the_likely_text_field_when_none_has_a_known_name(tiny_model_dir, tmp_path):
    """A Meltwater export keeps its comments under "Hit Sentence": the hint only said to use --text-field."""
    src = tmp_path / "melt.csv"
    src.write_text("ID,Hit Sentence,Source Name,Comment Count\n1,where can i buy it,Twitter,3\n", encoding="utf-8")
    result = runner.invoke(app, ["label", str(src), "--model", str(tiny_model_dir)])
    assert result.exit_code == 0 and "1 x no text field" in result.stderr
    assert ("hint: name the field that holds the comment with --text-field, e.g. --text-field 'Hit Sentence' "
            "(its fields: ID, Hit Sentence, Source Name, Comment Count)") in result.stderr
    again = runner.invoke(app, ["label", str(src), "--model", str(tiny_model_dir), "--text-field", "Hit Sentence"])
    assert again.exit_code == 0 and "1 labeled, 0 with errors" in again.stderr
    # with a title above the header (Brandwatch), the hint named the title as the only field
    src.write_text("Brandwatch export\nDate range: Nov\n\nid,Hit Sentence,Date\n1,where can i buy it,2026-11-03\n",
                   encoding="utf-8")
    result = runner.invoke(app, ["label", str(src), "--model", str(tiny_model_dir)])
    assert ("e.g. --text-field 'Hit Sentence' (its fields: id, Hit Sentence, Date)") in result.stderr, result.stderr
    again = runner.invoke(app, ["label", str(src), "--model", str(tiny_model_dir), "--text-field", "Hit Sentence"])
    assert again.exit_code == 0 and "1 labeled, 0 with errors" in again.stderr


def test_classify_reads_piped_stdin_without_a_dash(tiny_model_dir, monkeypatch):
    """`echo "where to buy?" | commentnlp classify` was "Missing argument 'texts'"."""
    args = ["classify", "--model", str(tiny_model_dir), "--json"]
    piped = runner.invoke(app, args, input="where to buy?\nlol\n")
    assert piped.exit_code == 0, piped.output
    assert piped.stdout == runner.invoke(app, [*args, "-"], input="where to buy?\nlol\n").stdout
    assert [json.loads(l)["text"] for l in piped.stdout.splitlines()] == ["where to buy?", "lol"]
    monkeypatch.setattr("commentnlp.cli.classify._stdin_piped", lambda: False)  # nothing given, nothing piped
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and "error: give one or more texts" in result.output


def test_classify_refuses_an_empty_text(tiny_model_dir):
    result = runner.invoke(app, ["classify", "--model", str(tiny_model_dir), "fine", "  "])
    assert result.exit_code == 2 and "error: text 2 is empty" in result.output
    # invisible characters only: label calls it empty, classify labelled it (community/social)
    result = runner.invoke(app, ["classify", "--model", str(tiny_model_dir), "\u200b\u200d"])
    assert result.exit_code == 2 and "error: text 1 holds only invisible characters" in result.output
    result = runner.invoke(app, ["classify", "--model", str(tiny_model_dir), "--json", "-"], input="\u200b\nok\n \n")
    assert result.exit_code == 0 and [json.loads(l)["text"] for l in result.stdout.splitlines()] == ["ok"]


def test_classify_reads_stdin_as_label_reads_a_text_file(tiny_model_dir):
    """UTF-16 from PowerShell was 'not UTF-8' with iconv-from-latin1 advice; lines ending in a CR alone were one text."""
    args = ["classify", "--model", str(tiny_model_dir), "--json", "-"]
    expected = runner.invoke(app, args, input="hello\nwhere can I buy it\n").stdout
    assert [json.loads(l)["text"] for l in expected.splitlines()] == ["hello", "where can I buy it"]
    for piped in ("hello\r\nwhere can I buy it\r\n".encode("utf-16"), b"hello\rwhere can I buy it\r"):
        result = runner.invoke(app, args, input=piped)
        assert result.exit_code == 0 and result.stdout == expected, result.output


def test_classify_refuses_a_dash_among_texts_and_a_text_that_is_not_utf8(tiny_model_dir):
    # "-" was labelled as a comment and stdin never read; a Latin-1 argument's raw byte went into --json's output
    result = runner.invoke(app, ["classify", "--model", str(tiny_model_dir), "-", "and a text"], input="from stdin\n")
    assert result.exit_code == 2 and "'-' reads the texts from stdin" in result.output
    result = runner.invoke(app, ["classify", "--model", str(tiny_model_dir), "--json", "caf\udce9 is great"])
    assert result.exit_code == 2 and "text 1 is not UTF-8" in result.output


def test_classify_warns_when_a_text_is_a_file_name(tiny_model_dir, tmp_path, monkeypatch):
    """`commentnlp classify comments.txt` labelled the file's name as a comment, silently."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "comments.txt").write_text("where can i buy it\n")
    result = runner.invoke(app, ["classify", "--model", str(tiny_model_dir), "comments.txt"])
    assert result.exit_code == 0 and result.stdout.startswith("comments.txt\n")  # still labelled, as asked
    assert "warning: 'comments.txt' is a file: this labels its name; label the file with " \
           "`commentnlp label comments.txt`, or its lines with `commentnlp classify - < comments.txt`" in result.stderr
    result = runner.invoke(app, ["classify", "--model", str(tiny_model_dir), "-"], input="comments.txt\n")
    assert result.exit_code == 0 and "warning" not in result.stderr  # a comment read from stdin is a comment
    result = runner.invoke(app, ["classify", "--model", str(tiny_model_dir), "where can i buy it"])
    assert "warning" not in result.stderr


def test_classify_stdin_that_is_not_utf8_names_the_line(tiny_model_dir):
    result = runner.invoke(app, ["classify", "--model", str(tiny_model_dir), "-"], input=b"ok\ncaf\xe9 au lait\n")
    assert result.exit_code == 1 and "Traceback" not in result.output  # was a UnicodeDecodeError traceback
    assert "error: stdin line 2 is not UTF-8 text (byte 3: b'\\xe9')" in result.output


def test_evaluate_report_and_json(tmp_path, tiny_model_dir):
    data = tmp_path / "gold.jsonl"
    data.write_text("".join(json.dumps({"text": t, "style": "audience", "intent": i, "sentiment": "neutral", "troll": False}) + "\n"
                            for t, i in [("where can I buy it", "where_to_buy"), ("lol", "social"), ("refund pls", "support_request")]))
    result = runner.invoke(app, ["evaluate", "--model", str(tiny_model_dir), "--data", str(data)])
    assert result.exit_code == 0, result.output
    assert "== intent: macro-F1" in result.output and "confusion" in result.output
    result = runner.invoke(app, ["evaluate", "--model", str(tiny_model_dir), "--data", str(data), "--json"])
    report = json.loads(result.stdout)
    assert report["n"] == 3 and set(report["heads"]) == {"style", "intent", "sentiment", "troll"}
    # the data as an argument, as label and report take theirs ("Missing option '--data'")
    assert runner.invoke(app, ["evaluate", str(data), "--model", str(tiny_model_dir), "--json"]).stdout == result.stdout
    for args, error in (([], "error: give the labeled records: commentnlp evaluate my_test.csv"),
                        ([str(data), "--data", "other.csv"], "error: two data files:")):
        bad = runner.invoke(app, ["evaluate", *args, "--model", str(tiny_model_dir)])
        assert bad.exit_code == 2 and error in bad.output
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "x", "intent": "nope"}\n')
    result = runner.invoke(app, ["evaluate", "--model", str(tiny_model_dir), "--data", str(bad)])
    assert result.exit_code == 1 and "bad.jsonl:1" in result.output
    piped = runner.invoke(app, ["evaluate", "--model", str(tiny_model_dir), "--data", "-", "--json"],
                          input=data.read_bytes())
    assert piped.exit_code == 0, piped.output
    assert json.loads(piped.stdout) == report
    assert "seen_in_training" not in report  # a model saved without its training texts' hashes
    # one that has them says how many of the records it was trained on
    from commentnlp.data import text_hashes
    from commentnlp.serialization import write_training_texts

    shutil.copytree(tiny_model_dir, tmp_path / "model")
    write_training_texts(tmp_path / "model", {"train": text_hashes(["Where can I buy it?"]), "dev": text_hashes([])})
    with pytest.warns(UserWarning, match=r"^1 of the 3 records were in the training data of model \(1 in train;"):
        result = runner.invoke(app, ["evaluate", "--model", str(tmp_path / "model"), "--data", str(data), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["seen_in_training"] == {"train": 1, "dev": 0, "either": 1}
    # so does a model it is compared with
    with pytest.warns(UserWarning, match=r"^1 of the 3 records were in the training data of model \("):
        result = runner.invoke(app, ["evaluate", "--model", str(tiny_model_dir), "--data", str(data),
                                     "--compare", str(tmp_path / "model")])
    assert result.exit_code == 0, result.output


def test_evaluate_on_no_records_is_an_error(tmp_path, tiny_model_dir):
    """It printed '0 records' with exit code 0; with --baselines, a raw scikit-learn message."""
    empty, gold = tmp_path / "empty.jsonl", tmp_path / "gold.jsonl"
    empty.write_text("")
    gold.write_text(json.dumps({"text": "where can i buy it", "intent": "where_to_buy"}) + "\n")
    for extra in ([], ["--baselines", "--train-data", str(gold)]):
        result = runner.invoke(app, ["evaluate", str(empty), "-m", str(tiny_model_dir), *extra])
        assert result.exit_code == 1 and result.output.strip() == f"error: {empty} holds no records to evaluate"
    result = runner.invoke(app, ["evaluate", "-", "-m", str(tiny_model_dir)], input=b"")
    assert result.exit_code == 1 and "error: stdin holds no records to evaluate" in result.output
    result = runner.invoke(app, ["evaluate", str(gold), "-m", str(tiny_model_dir), "--baselines", "--train-data", str(empty)])
    assert result.exit_code == 1 and result.output.strip().splitlines()[-1] == (
        f"error: no training records for the baselines in {empty}")


def test_train_with_overrides(tmp_path, tiny_base):
    from toydata import toy_records

    records = toy_records(10)
    for name, part in (("train", records[:30]), ("dev", records[30:])):
        (tmp_path / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in part))
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[model]\nbase_model = "{tiny_base}"\nmax_length = 32\n'
                   f'[data]\ntrain = ["{tmp_path / "train.jsonl"}"]\ndev = ["{tmp_path / "dev.jsonl"}"]\ntest = []\n')
    out = tmp_path / "m"
    result = runner.invoke(app, ["train", str(cfg), "--training.epochs", "1", "--training.max_steps=2", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.strip().splitlines()[-1])["output_dir"] == str(out)
    assert (out / "config.json").is_file()
    result = runner.invoke(app, ["train", str(cfg), "--training.nope", "1"])
    assert result.exit_code == 1 and "unknown setting training.nope" in result.output
    result = runner.invoke(app, ["train", "--training.epochs", "1", str(cfg)])  # config forgotten in front
    assert result.exit_code == 2 and "the TOML config comes first" in result.output and "'--training.epochs'" in result.output
    # no config: the shipped settings, on the data --data.train names (a TOML was needed for that)
    result = runner.invoke(app, ["train", "--data.train", str(tmp_path / "train.jsonl"), f"--model.base_model={tiny_base}",
                                 "--model.max_length", "32", "--training.epochs", "1", "--training.max_steps=2",
                                 "-o", str(tmp_path / "m2")])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "m2" / "config.json").read_text())["training"]["config"]["data"]["train"] == \
        [str(tmp_path / "train.jsonl")]
    result = runner.invoke(app, ["train", "--training.epochs", "1"])  # and no data: what to give
    assert result.exit_code == 2 and "give a TOML config, or the labelled data to train on" in result.output


@pytest.mark.parametrize("name", ["train.csv", "labels.jsonl.gz", "sheet.XLSX"])
def test_train_given_a_data_file_for_its_config_says_how_to_name_it(tmp_path, name):
    """It said 'train.csv is not valid TOML'."""
    (tmp_path / name).write_text("text,intent\nhi,social\n")
    result = runner.invoke(app, ["train", str(tmp_path / name)])
    assert result.exit_code == 2 and result.output.strip() == (
        f"error: {tmp_path / name} is labelled data, not a TOML config: commentnlp train --data.train "
        f"{tmp_path / name} -o models/mine")


def test_train_refuses_a_setting_given_twice(tmp_path):
    """--data.train a.jsonl --data.train b.jsonl trained on b.jsonl alone."""
    result = runner.invoke(app, ["train", "--data.train", "a.jsonl", "--data.train=b.jsonl", "-o", str(tmp_path / "m")])
    assert result.exit_code == 2 and result.output.strip() == (
        "error: --data.train is given twice ('a.jsonl', then 'b.jsonl'); give it once (several values as a TOML list: "
        "--data.train '[\"a.jsonl\", \"b.jsonl\"]')")
    result = runner.invoke(app, ["train", "--data.train", "a.jsonl", "--training.output_dir", "x", "-o", "y"])
    assert result.exit_code == 2 and "error: two output directories: -o y and --training.output_dir x; give one" in result.output
    assert not (tmp_path / "m").exists()


def test_train_says_several_files_after_one_setting_are_an_unquoted_glob(tmp_path, monkeypatch):
    """--data.train data/agency_*.csv unquoted (the shell expands it) failed with "unexpected argument
    'data/agency_dev_semi.csv'", though the README says --data.train takes a glob."""
    monkeypatch.chdir(tmp_path)
    files = ["data/agency_dev.csv", "data/agency_dev_semi.csv", "data/agency_train.csv"]
    (tmp_path / "data").mkdir()
    for name in [*files, *(f"x{i}.jsonl" for i in range(6)), "b.csv"]:
        (tmp_path / name).write_text("text,intent\nhi,social\n")
    result = runner.invoke(app, ["train", "--data.train", *files, "-o", str(tmp_path / "m")])
    assert result.exit_code == 2 and result.output.strip() == (
        "error: --data.train is followed by 3 values ('data/agency_dev.csv', 'data/agency_dev_semi.csv', "
        "'data/agency_train.csv'): several files after one --section.key are what the shell makes of an unquoted "
        "glob; quote the pattern (--data.train 'data/agency_*.csv'), or give a TOML list (--data.train "
        "'[\"data/agency_dev.csv\", \"data/agency_dev_semi.csv\", \"data/agency_train.csv\"]')")
    many = [f"x{i}.jsonl" for i in range(6)]  # after other overrides too; a long list is not written out
    result = runner.invoke(app, ["train", "--training.epochs", "1", "--data.dev", *many, "-o", str(tmp_path / "m")])
    assert result.exit_code == 2 and "--data.dev is followed by 6 values ('x0.jsonl', 'x1.jsonl', 'x2.jsonl' and 3 more)" \
        in result.output and "(--data.dev 'x*.jsonl')" in result.output
    assert "'[\"x0.jsonl\", \"x1.jsonl\", \"x2.jsonl\", \"x3.jsonl\", ...]'" in result.output
    assert not (tmp_path / "m").exists()
    # files of two folders get no pattern that would match neither; other stray values are not called a glob
    result = runner.invoke(app, ["train", "--data.train", "data/agency_dev.csv", "b.csv"])
    assert result.exit_code == 2 and "unquoted glob; quote a pattern that matches them, or give a TOML list" in result.output
    for args in (["--training.lr", "1e-4", "training.epochs", "3"], ["--data.train", "b.csv", "nope.csv"]):
        result = runner.invoke(app, ["train", *args])
        assert result.exit_code == 2 and "unexpected argument" in result.output and "glob" not in result.output


def test_train_names_the_file_an_os_error_came_from(tmp_path, tiny_base, monkeypatch):
    """A data file that is a directory was "cannot save the model to m: Is a directory"."""
    (tmp_path / "data.jsonl").mkdir()
    result = runner.invoke(app, ["train", "--data.train", str(tmp_path / "data.jsonl"), "--model.base_model", str(tiny_base),
                                 "-o", str(tmp_path / "m")])
    assert result.exit_code == 1 and "data.jsonl" in result.output and "cannot save" not in result.output, result.output
    # an error that names no file (a full disk while saving) still says what it stopped: it was "[Errno 28] ..."
    import errno

    def full_disk(config):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("commentnlp.trainer.train", full_disk)
    result = runner.invoke(app, ["train", "--data.train", "x.jsonl", "-o", str(tmp_path / "m")])
    assert result.output.strip() == f"error: cannot save the model to {tmp_path / 'm'}: No space left on device"


def test_evaluate_with_baselines(tmp_path, tiny_model_dir):
    from toydata import toy_records

    records = [dict(r, sentiment="neutral", troll=False) for r in toy_records(12)]
    train, gold = tmp_path / "train.jsonl", tmp_path / "gold.jsonl"
    train.write_text("".join(json.dumps(r) + "\n" for r in records[:36]))
    gold.write_text("".join(json.dumps(r) + "\n" for r in records[36:]))
    result = runner.invoke(app, ["evaluate", "--model", str(tiny_model_dir), "--data", str(gold), "--baselines",
                                 "--train-data", str(train), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert {"majority", "tfidf_logreg", "vader", "rules_where_to_buy", "profanity"} <= set(report["baselines"])
    assert report["baselines"]["tfidf_logreg"]["summary"]["intent_macro_f1"] > report["baselines"]["majority"]["summary"]["intent_macro_f1"]
    result = runner.invoke(app, ["evaluate", "--model", str(tiny_model_dir), "--data", str(gold), "--baselines",
                                 "--train-data", str(train)])
    assert "Model vs baselines" in result.output and "| intent_macro_f1 |" in result.output
    # --ci: bootstrap intervals of the model's figures and its paired margin over the best baseline
    result = runner.invoke(app, ["evaluate", "--model", str(tiny_model_dir), "--data", str(gold), "--baselines",
                                 "--train-data", str(train), "--ci", "--json"])
    report = json.loads(result.stdout)
    for metric, value in report["summary"].items():
        assert report["intervals"][metric]["low"] <= value <= report["intervals"][metric]["high"]
    paired = report["baselines"]["majority"]["intervals"]["intent_macro_f1"]
    assert paired["diff_low"] <= paired["diff_high"] and 0 <= paired["p_not_better"] <= 1
    result = runner.invoke(app, ["evaluate", "--model", str(tiny_model_dir), "--data", str(gold), "--baselines",
                                 "--train-data", str(train), "--ci"])
    assert "95% bootstrap intervals" in result.output and "margin over the best baseline" in result.output


def test_evaluate_compares_two_models(tmp_path, tiny_model_dir, tiny_base):
    from conftest import build_lora_model

    from commentnlp.serialization import save_model

    model, tokenizer, config = build_lora_model(tiny_base, seed=1)
    other = save_model(tmp_path / "other", model, tokenizer, config)
    gold = tmp_path / "gold.jsonl"
    gold.write_text("".join(json.dumps({"text": f"comment {i}", "style": "audience", "intent": "social",
                                        "sentiment": "neutral", "troll": i % 4 == 0}) + "\n" for i in range(40)))
    args = ["evaluate", "--model", str(tiny_model_dir), "--data", str(gold), "--compare"]
    report = json.loads(runner.invoke(app, args + [str(other), "--json"]).stdout)
    figures = report["comparison"]["figures"]
    assert report["comparison"]["other"] == str(other) and set(figures) == set(report["summary"])
    for metric, f in figures.items():
        assert f["model"] == report["summary"][metric]
        assert f["low"] <= f["difference"] <= f["high"]
    same = runner.invoke(app, args + [str(tiny_model_dir)])
    assert same.exit_code == 0, same.output
    assert "difference = model - other" in same.output and "within noise" in same.output and "+0.000" in same.output
    missing = runner.invoke(app, args + [str(tmp_path / "nope")])
    assert missing.exit_code != 0 and "not found" in missing.output


def test_find_threshold_writes_config(tmp_path, tiny_model_dir):
    import shutil

    model = tmp_path / "m"
    shutil.copytree(tiny_model_dir, model)
    data = tmp_path / "dev.jsonl"
    data.write_text("".join(json.dumps({"text": f"text {i}", "troll": i % 3 == 0}) + "\n" for i in range(120)))
    result = runner.invoke(app, ["find-threshold", "--model", str(model), "--data", str(data),
                                 "--head", "troll", "--label", "true", "--write"])
    assert result.exit_code == 0, result.output
    assert "troll=true: F1" in result.output and "saved in" in result.output
    result = runner.invoke(app, ["find-threshold", "--model", str(model), "--data", str(data), "--head", "mood", "--label", "x"])
    assert result.exit_code == 2 and "error: unknown head 'mood'; heads: style, intent, sentiment, troll" in result.output
    result = runner.invoke(app, ["find-threshold", "--model", str(model), "--data", str(data), "--head", "troll",
                                 "--label", "True"])
    assert result.exit_code == 2
    assert "error: 'True' is not a label of troll (did you mean 'true'?); labels: false, true" in result.output


def test_a_copy_of_a_model_leaves_out_what_its_links_to_outside_name(tmp_path, tiny_model_dir):
    """A downloaded model's `notes.txt -> ~/.aws/credentials` and `extra -> ~` were copied into the 'tuned' copy
    find-threshold -o writes (and into Spark's archive): the secret travelled with the model."""
    import shutil

    from commentnlp.serialization import model_files, read_config

    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "creds").write_text("AWS_SECRET=abc123")
    model = tmp_path / "m"
    shutil.copytree(tiny_model_dir, model)
    (model / "notes.txt").symlink_to(secret / "creds")
    (model / "extra").symlink_to(secret)
    (model / "card.md").symlink_to(model / "README.md")  # a link within the model is the model's
    files, left_out = model_files(model)
    assert left_out == ["extra/", "notes.txt"] and Path("card.md") in files and Path("config.json") in files
    data = tmp_path / "dev.jsonl"
    data.write_text("".join(json.dumps({"text": f"text {i}", "troll": i % 3 == 0}) + "\n" for i in range(120)))
    result = runner.invoke(app, ["find-threshold", "--model", str(model), "--data", str(data), "--head", "troll",
                                 "--label", "true", "-o", str(tmp_path / "copy")])
    assert result.exit_code == 0 and "warning: not copied: extra/, notes.txt (links to outside the model)" in result.stderr
    copied = {p.relative_to(tmp_path / "copy") for p in (tmp_path / "copy").rglob("*")}
    assert Path("notes.txt") not in copied and Path("extra") not in copied and Path("config.json") in copied
    assert "AWS_SECRET" not in "".join(p.read_text(errors="replace") for p in (tmp_path / "copy").rglob("*") if p.is_file())
    # a model's own files linked to outside it (a Hub snapshot links each to a blob; weights linked to a store) are
    # copied: a copy without them was broken (a traceback, then no weights)
    hub = tmp_path / "snapshot"
    hub.mkdir()
    (tmp_path / "blobs").mkdir()
    for f in tiny_model_dir.iterdir():
        shutil.copy(f, tmp_path / "blobs" / f.name)
        (hub / f.name).symlink_to(tmp_path / "blobs" / f.name)
    assert model_files(hub) == (sorted(Path(f.name) for f in tiny_model_dir.iterdir()), [])
    result = runner.invoke(app, ["find-threshold", "--model", str(hub), "--data", str(data), "--head", "troll",
                                 "--label", "true", "-o", str(tmp_path / "copy2")])
    assert result.exit_code == 0 and "not copied" not in result.stderr and read_config(tmp_path / "copy2").heads
    # an encoder/ linked to outside gives its model files only; one linked within the model is the model's
    (secret / "config.json").write_text("{}")
    (model / "encoder").symlink_to(secret)
    files, left_out = model_files(model)
    assert Path("encoder/config.json") in files and "encoder/creds" in left_out
    inside = tmp_path / "m2"
    shutil.copytree(tiny_model_dir, inside)
    (inside / "versions" / "v1").mkdir(parents=True)
    (inside / "versions" / "v1" / "config.json").write_text("{}")
    (inside / "encoder").symlink_to(Path("versions") / "v1")
    assert Path("encoder/config.json") in model_files(inside)[0]


def model_with_thresholds(tmp_path, tiny_model_dir, thresholds, **settings):
    """A copy of the tiny model with these decision thresholds (and other config settings)."""
    from commentnlp.serialization import read_config, write_config

    model = tmp_path / "m"
    shutil.copytree(tiny_model_dir, model)
    config = read_config(model)
    config.decision_thresholds = thresholds
    for name, value in settings.items():
        setattr(config, name, value)
    write_config(model, config)
    return model


def test_find_threshold_write_keeps_the_thresholds_of_the_heads_other_labels(tmp_path, tiny_model_dir):
    from commentnlp.serialization import read_config

    model = model_with_thresholds(tmp_path, tiny_model_dir, {"intent": {"where_to_buy": 0.3}})
    data = tmp_path / "dev.jsonl"
    intents = ["spam", "social", "feedback"]
    data.write_text("".join(json.dumps({"text": f"text {i}", "intent": intents[i % 3]}) + "\n" for i in range(120)))
    result = runner.invoke(app, ["find-threshold", "--model", str(model), "--data", str(data),
                                 "--head", "intent", "--label", "spam", "--write"])
    assert result.exit_code == 0, result.output
    thresholds = read_config(model).decision_thresholds["intent"]
    assert thresholds["where_to_buy"] == 0.3  # the golden question's threshold was dropped before
    assert set(thresholds) <= {"where_to_buy", "spam"}
    again = runner.invoke(app, ["find-threshold", "--model", str(model), "--data", str(data),
                                "--head", "intent", "--label", "spam", "--write"])
    assert again.exit_code == 0 and "already: nothing to save" in again.output and "saved" not in again.output


def test_find_threshold_prints_the_figures_evaluate_gives_the_saved_model(tmp_path, tiny_model_dir, tiny_classifier):
    """It swept product_question as if intent had no other threshold and called its F1 "with argmax",
    while where_to_buy's threshold took some of its comments: evaluate gave the saved model other figures."""
    import numpy as np

    model = model_with_thresholds(tmp_path, tiny_model_dir, {"intent": {"where_to_buy": 0.2}})
    texts = [f"text {i}" for i in range(120)]
    scores = tiny_classifier.predict_proba(texts)["intent"][:, 1]  # product_question's
    data = tmp_path / "dev.jsonl"
    data.write_text("".join(json.dumps({"text": t, "intent": "product_question" if s >= np.quantile(scores, 0.6)
                                        else "social"}) + "\n" for t, s in zip(texts, scores)))
    copy = tmp_path / "copy"
    result = runner.invoke(app, ["find-threshold", "--model", str(model), "--data", str(data), "--head", "intent",
                                 "--label", "product_question", "-o", str(copy)])
    assert result.exit_code == 0, result.output
    found = re.search(r"intent=product_question: F1 ([0-9.]+) now \(its thresholds: where_to_buy 0.2\); "
                      r"best threshold [0-9.]+ gives F1 ([0-9.]+)", result.output)
    assert found, result.output

    def f1(model_dir):
        report = json.loads(runner.invoke(app, ["evaluate", str(data), "-m", str(model_dir), "--json"]).stdout)
        return report["heads"]["intent"]["per_class"]["product_question"]["f1"]

    assert float(found.group(1)) == pytest.approx(f1(model), abs=5e-4)
    assert float(found.group(2)) == pytest.approx(f1(copy), abs=5e-4)


def test_find_threshold_scores_records_with_their_thread_position(tmp_path, tiny_model_dir):
    """It scored the texts alone, while evaluate gives the model each record's thread position: a
    style threshold was fitted on scores the model never gives those comments."""
    model = model_with_thresholds(tmp_path, tiny_model_dir, {},
                                  position_offsets={"style": {"reply": [0.0, 50.0], "initial": [0.0, -50.0]}})
    data = tmp_path / "dev.jsonl"
    data.write_text("".join(json.dumps({"text": f"text {i}", "comment_type": kind,
                                        "style": "community" if kind == "reply" else "audience"}) + "\n"
                            for i in range(40) for kind in ("reply", "initial")))
    result = runner.invoke(app, ["find-threshold", "--model", str(model), "--data", str(data),
                                 "--head", "style", "--label", "community"])
    assert result.exit_code == 0, result.output
    assert "style=community: F1 1.000 now (argmax); no threshold does better" in result.output


def test_find_threshold_never_writes_into_a_bundled_model_but_saves_a_copy(tmp_path, tiny_model_dir):
    """--write with the default model rewrote the shipped model's config.json (in site-packages, or
    a tracked file of the repository) for everything that uses the install."""
    from commentnlp.serialization import default_model_path, read_config

    shipped = (default_model_path() / "config.json").read_bytes()
    data = tmp_path / "dev.jsonl"
    data.write_text("".join(json.dumps({"text": f"where can i buy it {i}" if i % 3 else f"lol {i}",
                                        "intent": "where_to_buy" if i % 3 else "social"}) + "\n" for i in range(60)))
    args = ["find-threshold", "--data", str(data), "--head", "intent", "--label", "where_to_buy"]
    # by name, and by any path to its directory (they were written to)
    for model in ([], ["--model", "commentnlp-minilm"], ["--model", str(default_model_path())],
                  ["--model", os.path.relpath(default_model_path())], ["--model", f"{default_model_path()}/"]):
        result = runner.invoke(app, [*args, *model, "--write"])
        assert result.exit_code == 2 and "error: the bundled model commentnlp-minilm is shared" in result.output
        assert "--output models/mine" in result.output
    assert (default_model_path() / "config.json").read_bytes() == shipped
    result = runner.invoke(app, [*args, "--model", str(tiny_model_dir), "--output", str(default_model_path() / "mine")])
    assert result.exit_code == 2 and "lies in the bundled model commentnlp-minilm" in result.output
    assert not (default_model_path() / "mine").exists()
    # --output saves a copy with the threshold, which loads as any model directory
    result = runner.invoke(app, [*args, "--model", str(tiny_model_dir), "--output", str(tmp_path / "mine")])
    assert result.exit_code == 0, result.output
    assert f"saved in {tmp_path / 'mine' / 'config.json'}" in result.output
    copy, original = read_config(tmp_path / "mine"), read_config(tiny_model_dir)
    assert copy.heads == original.heads and original.decision_thresholds.get("intent") is None
    best = re.search(r"best threshold ([0-9.]+)", result.output)
    assert copy.decision_thresholds.get("intent", {}).get("where_to_buy") == (float(best.group(1)) if best else None)
    result = runner.invoke(app, [*args, "--model", str(tiny_model_dir), "--output", str(tmp_path / "mine")])
    assert result.exit_code == 1 and "error: --output" in result.output and "already exists" in result.output


def test_find_threshold_write_to_a_read_only_model_is_one_error_line(tmp_path, tiny_model_dir, monkeypatch):
    from commentnlp import serialization

    def read_only(model_dir, config):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(serialization, "write_config", read_only)
    data = tmp_path / "dev.jsonl"
    data.write_text("".join(json.dumps({"text": f"text {i}", "troll": i % 3 == 0}) + "\n" for i in range(120)))
    result = runner.invoke(app, ["find-threshold", "--model", str(tiny_model_dir), "--data", str(data),
                                 "--head", "troll", "--label", "true", "--write"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert f"error: cannot save the threshold in {tiny_model_dir / 'config.json'}: Permission denied" in result.output


def test_find_threshold_saves_no_threshold_fitted_on_too_few_examples(tmp_path, tiny_model_dir):
    """With no troll in the data, --write removed the model's troll threshold ('no threshold does
    better'); with one, it saved 0.7 for F1 1.000. Training fits none below 30 examples."""
    from commentnlp.data import text_hashes
    from commentnlp.serialization import read_config

    model = model_with_thresholds(tmp_path, tiny_model_dir, {"troll": {"true": 0.4}})
    data = tmp_path / "dev.jsonl"
    args = ["find-threshold", "--model", str(model), "--data", str(data), "--head", "troll", "--label", "true"]
    for trolls, shown in ((0, "0 examples "), (1, "1 example "), (29, "29 examples ")):
        data.write_text("".join(json.dumps({"text": f"text {i}", "troll": i < trolls}) + "\n" for i in range(100)))
        for extra in (["--write"], ["-o", str(tmp_path / "copy")]):
            result = runner.invoke(app, [*args, *extra])
            assert result.exit_code == 1, result.output
            assert f"error: {data} holds {shown}of troll=true among 100 records; a threshold fitted on fewer than 30 " \
                   f"is noise (training fits none then): nothing was saved" in result.output
        assert read_config(model).decision_thresholds == {"troll": {"true": 0.4}} and not (tmp_path / "copy").exists()
        with pytest.warns(UserWarning, match=f"holds {shown}of troll=true"):  # the sweep alone says so
            assert runner.invoke(app, args).exit_code == 0
    # data the model was trained on: said, as evaluate says it
    from commentnlp.serialization import write_training_texts

    write_training_texts(model, {"train": text_hashes([f"text {i}" for i in range(50)]), "dev": text_hashes([])})
    data.write_text("".join(json.dumps({"text": f"text {i}", "troll": i % 2 == 0}) + "\n" for i in range(100)))
    with pytest.warns(UserWarning, match=r"^50 of the 100 records were in the training data of m \(50 in train"):
        assert runner.invoke(app, args).exit_code == 0


def test_find_threshold_names_stdin_as_evaluate_does(tmp_path, tiny_model_dir):
    """With --data -, its messages named the data "-" ("- holds 2 examples ...")."""
    args = ["find-threshold", "--model", str(tiny_model_dir), "--data", "-", "--head", "troll", "--label", "true"]
    few = "".join(json.dumps({"text": f"text {i}", "troll": i < 2}) + "\n" for i in range(10))
    with pytest.warns(UserWarning, match="^stdin holds 2 examples of troll=true among 10 records"):
        assert runner.invoke(app, args, input=few).exit_code == 0
    result = runner.invoke(app, [*args, "-o", str(tmp_path / "copy")], input=few)
    assert result.exit_code == 1 and "error: stdin holds 2 examples" in result.output
    result = runner.invoke(app, args, input=json.dumps({"text": "hello", "intent": "social"}) + "\n")
    assert result.exit_code == 1 and "error: stdin has no records labelled for troll" in result.output


def test_find_threshold_rewrites_the_model_card_and_says_its_figures_predate_the_threshold(tmp_path, tiny_model_dir):
    """The model card kept showing the old thresholds after --write or --output."""
    from commentnlp.model_card import model_card
    from commentnlp.serialization import read_config, write_config

    model = model_with_thresholds(tmp_path, tiny_model_dir, {"troll": {"true": 0.9876}},
                                  metrics={"dev": {"n": 10, "summary": {"troll_macro_f1": 0.5}}})
    config = read_config(model)
    (model / "README.md").write_text(model_card(config))
    data = tmp_path / "dev.jsonl"
    data.write_text("".join(json.dumps({"text": f"text {i}", "troll": i % 3 == 0}) + "\n" for i in range(120)))
    args = ["find-threshold", "--model", str(model), "--data", str(data), "--head", "troll", "--label", "true"]
    for target, extra in ((tmp_path / "copy", ["-o", str(tmp_path / "copy")]), (model, ["--write"])):
        result = runner.invoke(app, [*args, *extra])
        assert result.exit_code == 0, result.output
        saved = read_config(target)
        new = saved.decision_thresholds.get("troll", {}).get("true")
        card = (target / "README.md").read_text()
        assert "0.9876" not in card.split("## Evaluation")[1].split("Decision thresholds")[1].split("(searched")[0]
        assert f"{saved.decision_thresholds or 'none'}" in card
        assert "The figures below were computed before a decision threshold changed** (`troll=true` 0.9876 -> " \
               f"{new if new is not None else 'none (argmax)'} on {data} (40 examples; commentnlp find-threshold))" in card
        assert saved.metrics["decision_thresholds_fitted_on"]["troll=true"] == f"{data} (40 examples; commentnlp find-threshold)"
        assert saved.metrics["dev"]["n"] == 10  # kept, and marked as of the earlier threshold
    # a second change keeps the threshold the figures were computed with (it named the one just replaced)
    config = read_config(model)
    config.decision_thresholds["troll"] = {"true": 0.5}
    write_config(model, config)
    assert runner.invoke(app, [*args, "--write"]).exit_code == 0
    assert read_config(model).metrics["thresholds_changed_after_evaluation"]["troll=true"]["before"] == 0.9876


def test_output_to_a_pipe_closed_early_ends_quietly(tmp_path, tiny_model_dir):
    """`commentnlp label x -o - | head -1` said 'error: cannot write output: [Errno 32] Broken pipe' (exit 1)."""
    import subprocess
    import sys

    src = tmp_path / "many.jsonl"
    src.write_text("".join(json.dumps({"text": f"comment number {i}, where can i buy it"}) + "\n" for i in range(3000)))
    for args in (["label", str(src), "-o", "-"], ["classify", "--json", "-"]):
        proc = subprocess.Popen([sys.executable, "-m", "commentnlp", *args, "--model", str(tiny_model_dir),
                                 "--backend", "onnx"], stdin=subprocess.PIPE if "classify" in args else None,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if "classify" in args:
            proc.stdin.write("".join(f"text {i}\n" for i in range(3000)).encode())
            proc.stdin.close()
        assert json.loads(proc.stdout.readline())
        proc.stdout.close()  # as `head -1` does
        assert proc.wait(timeout=120) == 141
        assert b"error" not in proc.stderr.read()


def test_error_lines_are_plain_with_no_color_or_a_dumb_terminal():
    """NO_COLOR (no-color.org) and TERM=dumb left the red escape codes on commentnlp's own error lines."""
    args = ["classify", ""]
    coloured = runner.invoke(app, args, color=True, env={"NO_COLOR": "", "TERM": "xterm"})
    assert coloured.exit_code == 2 and "\x1b[31merror: text 1 is empty" in coloured.stderr
    for env in ({"NO_COLOR": "1"}, {"TERM": "dumb"}):
        plain = runner.invoke(app, args, color=True, env=env)
        assert plain.exit_code == 2 and plain.stderr.startswith("error: text 1 is empty") and "\x1b" not in plain.stderr


def test_spark_options_are_refused_without_spark(tmp_path):
    """--master yarn --partitions 8 labelled locally, exit 0, as if Spark had run."""
    (tmp_path / "a.jsonl").write_text('{"text": "hi"}\n')
    result = runner.invoke(app, ["label", str(tmp_path / "a.jsonl"), "--master", "yarn", "--partitions", "8"])
    assert result.exit_code == 2 and "error: --master, --partitions: only with --engine spark" in result.stderr
    assert not (tmp_path / "a.labeled.jsonl").exists()


def test_running_out_of_memory_is_one_error_line(monkeypatch, capsys):
    """A 600 KB .gz holding one 600 MB line ended, under a memory limit, in a MemoryError traceback."""
    import commentnlp.cli as cli

    def exhausted():
        raise MemoryError

    import logging
    import warnings

    logger = logging.getLogger("commentnlp")
    monkeypatch.setattr(cli, "app", exhausted)
    monkeypatch.setattr(logger, "handlers", list(logger.handlers))  # main() adds its own: not for the next tests
    monkeypatch.setattr(logger, "propagate", logger.propagate)
    monkeypatch.setattr(logger, "level", logger.level)
    monkeypatch.setattr(warnings, "formatwarning", warnings.formatwarning)
    with pytest.raises(SystemExit) as stopped:
        cli.main()
    assert stopped.value.code == 1 and capsys.readouterr().err.startswith("error: out of memory (an input line")
    # an OSError of something else than stdout is told as it is (a full graph cache: "cannot write to stdout")
    import signal

    def full_cache():
        raise OSError(28, "No space left on device", "/cache/model.fp32.v2.onnx")

    monkeypatch.setattr(cli, "app", full_cache)
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(SystemExit) as stopped:
        cli.main()
    assert (stopped.value.code, capsys.readouterr().err) == \
        (1, "error: [Errno 28] No space left on device: '/cache/model.fp32.v2.onnx'\n")
    assert signal.getsignal(signal.SIGTERM) is before  # main() in a process of its own leaves SIGTERM as it was


def test_label_quiet_prints_no_info_lines_and_leaves_the_logger_as_it_was(tmp_path, tiny_model_dir):
    """`label -q` ('no progress bar or summary') still printed the one-time graph build's lines."""
    import logging

    logger = logging.getLogger("commentnlp")
    seen: list[str] = []
    handler = logging.Handler(logging.INFO)
    handler.emit = lambda record: seen.append(record.getMessage())
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        (tmp_path / "a.jsonl").write_text('{"text": "hi"}\n')
        result = runner.invoke(app, ["label", str(tmp_path / "a.jsonl"), "-m", str(tiny_model_dir), "-q"],
                               env={"COMMENTNLP_CACHE": str(tmp_path / "cache")})  # a graph to build
        assert result.exit_code == 0 and result.stderr == "" and seen == []
        assert logger.level == logging.INFO  # as it was, for whatever runs next
        runner.invoke(app, ["label", str(tmp_path / "a.jsonl"), "-m", str(tiny_model_dir), "-o", str(tmp_path / "b.jsonl")],
                      env={"COMMENTNLP_CACHE": str(tmp_path / "cache2")})
        assert seen  # without -q: the build is told
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def test_evaluate_and_find_threshold_read_the_text_field_label_was_given(tmp_path, tiny_model_dir):
    """A Meltwater export labelled with -t 'Hit Sentence', its labels corrected by hand, could not be evaluated:
    'a record needs a string text', and neither command had --text-field."""
    src = tmp_path / "hits.csv"
    src.write_text("ID,Hit Sentence,intent,troll\n" + "".join(f"{i},where can i buy it {i},where_to_buy,false\n"
                                                            for i in range(3)) + "9,lol,social,true\n")
    result = runner.invoke(app, ["evaluate", str(src), "-m", str(tiny_model_dir), "--json"])
    assert result.exit_code == 1 and "a record needs a string 'text'" in result.stderr
    result = runner.invoke(app, ["evaluate", str(src), "-m", str(tiny_model_dir), "--json", "-t", "Hit Sentence"])
    assert result.exit_code == 0 and json.loads(result.stdout)["n"] == 4
    result = runner.invoke(app, ["find-threshold", "-d", str(src), "-m", str(tiny_model_dir), "--head", "troll",
                                 "--label", "true", "--text-field", "Hit Sentence"])
    assert result.exit_code == 0 and result.stdout.startswith("troll=true: F1 ")
    result = runner.invoke(app, ["evaluate", str(src), "-m", str(tiny_model_dir), "-t", "Message"])
    assert result.exit_code == 1 and f"{src}:2: no string 'Message' field; its fields: ID, Hit Sentence" \
        in result.stderr


def test_evaluate_names_the_heads_no_record_labels_and_fields_that_look_like_them(tmp_path, tiny_model_dir):
    """A file labelling 'intent_label' and 'is_troll' was evaluated on style alone, without a word."""
    src = tmp_path / "renamed.jsonl"
    src.write_text("".join(json.dumps({"text": t, "style": "audience", "intent_label": i, "is_troll": False}) + "\n"
                           for t, i in [("where can i buy it", "where_to_buy"), ("lol", "social")]))
    result = runner.invoke(app, ["evaluate", str(src), "-m", str(tiny_model_dir)])
    assert result.exit_code == 0 and ("warning: no record labels intent, sentiment, troll: left out of the figures "
                                      "(a head is read from its own name: rename 'intent_label' to intent, "
                                      "'is_troll' to troll)") in result.stderr
    src.write_text(json.dumps({"text": "ok", "style": "audience", "intent": "social", "sentiment": "neutral",
                               "troll": False}) + "\n")
    assert "warning: no record labels" not in runner.invoke(app, ["evaluate", str(src), "-m", str(tiny_model_dir)]).stderr


def test_evaluate_tells_a_wrong_second_model_or_training_file_before_running_the_first(tmp_path, tiny_model_dir,
                                                                                       monkeypatch):
    """--compare nope and --train-data nope.jsonl failed only after the first model had labelled every record."""
    import commentnlp.evaluation as evaluation

    def never(*args, **kwargs):
        raise AssertionError("the first model ran")

    monkeypatch.setattr(evaluation, "predict_records", never)
    src = tmp_path / "gold.jsonl"
    src.write_text(json.dumps({"text": "where can i buy it", "intent": "where_to_buy"}) + "\n")
    for extra, error in ((["--compare", "nope"], "model directory not found: nope"),
                         (["--baselines", "--train-data", "nope.jsonl"], "data file not found: nope.jsonl")):
        result = runner.invoke(app, ["evaluate", str(src), "-m", str(tiny_model_dir), *extra])
        assert result.exit_code == 1 and error in result.stderr and "first model ran" not in result.output


def test_the_progress_bar_is_drawn_on_stderr():
    """It was drawn on stdout (its terminal test looks at stderr): `-o -`'s JSON lines got a blank line."""
    from commentnlp.cli.label import _progress

    progress = _progress()
    progress.__enter__()
    try:
        assert progress.bar.console.stderr
    finally:
        progress.__exit__(None, None, None)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")
def test_stdout_that_cannot_be_written_is_one_error_line(tmp_path, tiny_model_dir):
    """`classify x > /dev/full`, `info > /dev/full` printed ~40 lines of traceback; with stdout closed
    (`>&-`) classify exited 0, its output lost."""
    import subprocess

    for command in ("classify --backend torch 'where can I buy it'", "info", "--version"):
        result = subprocess.run(f"{sys.executable} -m commentnlp {command} > /dev/full", shell=True,
                                capture_output=True, text=True, timeout=300)
        assert (result.returncode, result.stderr) == (1, "error: cannot write to stdout: No space left on device\n")
    result = subprocess.run(f"{sys.executable} -m commentnlp classify --backend torch hello >&-", shell=True, capture_output=True,
                            text=True, timeout=300)
    assert (result.returncode, result.stderr) == (1, "error: cannot write to stdout: it is closed\n")
    # label's own error line, and no second one from what stdout still held (buffered, as without -u)
    (tmp_path / "in.jsonl").write_text('{"text": "where can I buy it"}\n' * 3000, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    result = subprocess.run(f"{sys.executable} -m commentnlp label {tmp_path / 'in.jsonl'} -o - --model {tiny_model_dir} "
                            "--backend torch -q > /dev/full", shell=True, capture_output=True, text=True, env=env,
                            timeout=300)
    assert (result.returncode, result.stderr) == (1, "error: cannot write output: [Errno 28] No space left on device\n")


def test_sigterm_interrupts_label_as_ctrl_c_does(tmp_path, tiny_model_dir):
    """`timeout` or `kill` ended label without a word and without its cleanup (exit 143; a fallback graph
    cache of ~110 MB stayed in /tmp); it is now an interrupt: said, resumable, exit 143."""
    import signal
    import subprocess
    import time

    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": i, "text": f"where can I buy it {i % 97}"}) + "\n" for i in range(60000)))
    command = [sys.executable, "-m", "commentnlp", "label", str(src), "-o", str(tmp_path / "out.jsonl"),
               "--model", str(tiny_model_dir), "--backend", "torch", "-q"]
    run = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    checkpoint = tmp_path / ".out.jsonl.part.json"
    deadline = time.time() + 240
    while not checkpoint.exists() and run.poll() is None and time.time() < deadline:
        time.sleep(0.01)
    run.send_signal(signal.SIGTERM)
    _, err = run.communicate(timeout=240)
    assert run.returncode == 143, err
    assert err.strip().splitlines()[-1] == ("error: interrupted; run the same command with --resume to continue "
                                            "(an .xlsx output starts over)")
    assert not (tmp_path / "out.jsonl").exists() and checkpoint.exists()
    assert subprocess.run([*command, "--resume"], capture_output=True, timeout=240).returncode == 0
    assert sum(1 for _ in open(tmp_path / "out.jsonl", encoding="utf-8")) == 60000


def test_a_redirected_stdout_is_utf8_on_windows_and_as_set_elsewhere(monkeypatch):
    """On Windows a redirected stdout is the ANSI code page: an emoji in `classify > out.txt` or `label -o - >
    out.jsonl` was a UnicodeEncodeError traceback, and a CSV's rows ended \\r\\r\\n. PYTHONIOENCODING keeps the
    last word, and its error handler stays (surrogateescape in a C locale)."""
    import subprocess

    from commentnlp.cli import _stdout

    class Redirected:
        errors = "surrogateescape"

        def __init__(self):
            self.set = None

        def isatty(self):
            return False

        def reconfigure(self, **settings):
            self.set = settings

    monkeypatch.setattr(_stdout, "os", os_as(name="nt", environ={}))
    _stdout.utf8_stdout(out := Redirected())
    assert out.set == {"encoding": "utf-8", "errors": "surrogateescape", "newline": ""}
    monkeypatch.setattr(_stdout, "os", os_as(name="nt", environ={"PYTHONIOENCODING": "cp1252"}))
    _stdout.utf8_stdout(out := Redirected())
    assert out.set is None
    monkeypatch.undo()
    _stdout.utf8_stdout(out := Redirected())  # elsewhere the locale's (UTF-8) is kept, as set
    assert out.set is None
    env = {**os.environ, "PYTHONIOENCODING": "latin-1"}
    result = subprocess.run([sys.executable, "-m", "commentnlp", "classify", "--backend", "torch", "café"],
                            capture_output=True, env=env, timeout=300)
    assert result.returncode == 0 and result.stdout.startswith("café\n".encode("latin-1")), result.stderr


def test_hints_quote_as_the_users_shell_does(monkeypatch):
    """`--text-field 'Hit Sentence'` as a hint: cmd.exe and PowerShell pass it as two arguments, "'Hit" and
    "Sentence'" (no "'Hit" field; input file not found: Sentence')."""
    from commentnlp.cli import _util

    assert _util.shell_quote("Hit Sentence") == "'Hit Sentence'"

    monkeypatch.setattr(_util, "os", os_as(name="nt"))
    assert _util.shell_quote("Hit Sentence") == '"Hit Sentence"' and _util.shell_quote("message") == "message"


def test_classify_answers_the_lines_of_a_pipe_as_they_come(tiny_model_dir):
    """classify read all of stdin before answering: `tail -f comments.txt | commentnlp classify` never printed.
    With --stream each line is answered as it comes, labelled alone (the answer classify("text") gives)."""
    import select
    import subprocess

    from commentnlp import Classifier

    clf = Classifier.load(tiny_model_dir, backend="torch")
    run = subprocess.Popen([sys.executable, "-m", "commentnlp", "classify", "--stream", "--json", "--model",
                            str(tiny_model_dir), "--backend", "torch"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
    try:
        for text in ("where can I buy this?", "love it"):
            run.stdin.write(text.encode() + b"\n")
            run.stdin.flush()  # and stdin stays open
            assert select.select([run.stdout], [], [], 240)[0], "no answer while stdin is open"
            answer = json.loads(run.stdout.readline())
            assert answer["text"] == text
            assert answer["labels"] == clf.predict([text])[0].to_dict()["labels"]
    finally:
        run.stdin.close()
        run.wait(timeout=240)
    assert run.returncode == 0
    result = runner.invoke(app, ["classify", "--stream", "hello"])
    assert result.exit_code == 2 and "--stream answers the lines of stdin as they come" in result.output
