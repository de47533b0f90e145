"""commentnlp on Apache Spark: same labels as classify(), bad rows kept, one model load per worker.

A real local SparkSession (``local[2]``) and the bundled default model; deselect with
``-m "not spark"``.
"""

from __future__ import annotations

import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from commentnlp.schema import HEADS_BY_NAME

pytestmark = pytest.mark.spark

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def spark():
    os.environ["PYSPARK_PYTHON"] = sys.executable  # the workers must run this Python (commentnlp installed)
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    from pyspark.sql import SparkSession

    session = (SparkSession.builder.master("local[2]").appName("commentnlp-tests")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.shuffle.partitions", "2")
               .config("spark.driver.bindAddress", "127.0.0.1")
               .config("spark.driver.host", "127.0.0.1")
               .config("spark.log.level", "ERROR")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def texts() -> list[str]:
    """Real comments: the test split plus the start of dev (331 texts)."""
    rows = [json.loads(line) for line in (REPO / "data" / "test.jsonl").read_text(encoding="utf-8").splitlines()]
    rows += [json.loads(line) for line in (REPO / "data" / "dev.jsonl").read_text(encoding="utf-8").splitlines()[:60]]
    return [r["text"] for r in rows]


@contextmanager
def arrow_batch_rows(spark, n: int):
    """Cut partitions into Arrow batches of at most ``n`` rows (many batches per worker)."""
    key = "spark.sql.execution.arrow.maxRecordsPerBatch"
    old = spark.conf.get(key)
    spark.conf.set(key, str(n))
    try:
        yield
    finally:
        spark.conf.set(key, old)


def as_tuple(p) -> tuple:
    return p.style, p.intent, p.sentiment, p.troll, p.action, p.scores


def row_tuple(r) -> tuple:
    return r["style"], r["intent"], r["sentiment"], r["troll"], r["action"], json.loads(r["scores"])


def test_labels_identical_to_classify(spark, texts):
    from commentnlp import classify
    from commentnlp.spark import OUTPUT_COLUMNS, label_dataframe

    # One partition, one Arrow batch: the worker predicts exactly the list classify() gets.
    # (The partition-independent check is the test below.)
    df = spark.createDataFrame(list(enumerate(texts)), "id long, text string").coalesce(1)
    out = label_dataframe(df)
    assert out.columns == ["id", "text", *OUTPUT_COLUMNS]
    assert [(f.name, f.dataType.simpleString()) for f in out.schema.fields][2:] == [
        ("style", "string"), ("intent", "string"), ("sentiment", "string"), ("troll", "boolean"),
        ("action", "string"), ("scores", "string"), ("error", "string")]
    rows = sorted(out.collect(), key=lambda r: r["id"])
    expected = classify(texts)
    assert [r["text"] for r in rows] == texts
    assert all(r["error"] is None for r in rows)
    assert [row_tuple(r) for r in rows] == [as_tuple(p) for p in expected]


@pytest.mark.parametrize("field, kind, values, positions", [
    ("parent_id", "string", ["p1", "", None], [True, False, False]),
    # a double column (or an older pandas' long column with nulls) gives floats: 0.0 is still "top level"
    ("parent_id", "double", [1234.0, 0.0, None], [True, False, False]),
    ("is_reply", "double", [1.0, 0.0, None], [True, False, None]),
    ("is_reply", "int", [1, 0, None], [True, False, None]),
])
def test_the_thread_position_column_is_read_as_label_file_reads_it(spark, texts, field, kind, values, positions):
    from commentnlp import classify
    from commentnlp.exports import reply_of
    from commentnlp.spark import label_dataframe

    rows = [(i, t, values[i % 3]) for i, t in enumerate(texts)]
    assert [reply_of({field: v}) for v in values] == positions  # what label_file reads
    df = spark.createDataFrame(rows, f"id long, text string, {field} {kind}").coalesce(1)
    out = sorted(label_dataframe(df).collect(), key=lambda r: r["id"])
    expected = classify(texts, is_reply=[positions[i % 3] for i in range(len(texts))])
    assert [row_tuple(r) for r in out] == [as_tuple(p) for p in expected]
    assert [p.scores for p in expected] != [p.scores for p in classify(texts)]  # the position was used


def test_labels_do_not_depend_on_partitioning(spark, texts):
    from commentnlp.classifier import Classifier
    from commentnlp.spark import label_dataframe

    df = spark.createDataFrame(list(enumerate(texts)), "id long, text string").repartition(4)
    with arrow_batch_rows(spark, 40):
        rows = sorted(label_dataframe(df, backend="onnx").collect(), key=lambda r: r["id"])
    expected = Classifier.load(backend="onnx").predict(texts)
    assert [row_tuple(r) for r in rows] == [as_tuple(p) for p in expected]


def test_bad_rows_are_kept_with_an_error(spark, texts):
    from pyspark.sql import Row

    from commentnlp.spark import OUTPUT_COLUMNS, label_dataframe

    bad = {3: None, 10: "", 17: "   \t ", 40: None}
    rows = [Row(id=i, platform=f"p{i % 3}", meta=Row(likes=i), style="gold", text=bad.get(i, texts[i]))
            for i in range(60)]
    df = spark.createDataFrame(rows, "id long, platform string, meta struct<likes:int>, style string, text string")
    out = label_dataframe(df.repartition(3), text_col="text")
    assert out.columns == ["id", "platform", "meta", "text", *OUTPUT_COLUMNS]  # the gold 'style' is replaced
    got = {r["id"]: r for r in out.collect()}
    assert sorted(got) == list(range(60))
    for i, r in got.items():
        assert r["platform"] == f"p{i % 3}" and r["meta"]["likes"] == i
        if i in bad:
            assert r["error"] == ("'text' is null, not a string" if bad[i] is None else "'text' is empty")
            assert all(r[c] is None for c in OUTPUT_COLUMNS if c != "error")
        else:
            assert r["error"] is None and r["action"]
            assert r["style"] in HEADS_BY_NAME["style"].values and r["intent"] in HEADS_BY_NAME["intent"].values
            assert r["sentiment"] in HEADS_BY_NAME["sentiment"].values and isinstance(r["troll"], bool)
            assert set(json.loads(r["scores"])) == {"style", "intent", "sentiment", "troll"}


def test_a_non_string_text_column_is_an_error_per_row(spark):
    from commentnlp.spark import label_dataframe

    df = spark.createDataFrame([(1, 7), (2, None)], "id long, text int")
    got = {r["id"]: r for r in label_dataframe(df).collect()}
    assert got[1]["error"] == "'text' is int, not a string" and got[1]["intent"] is None
    assert got[2]["error"] == "'text' is null, not a string"
    with pytest.raises(ValueError, match="no column 'message'"):
        label_dataframe(df, text_col="message")


def test_model_loaded_once_per_worker(spark, texts, tmp_path):
    from commentnlp.spark import label_dataframe, worker_log_summary

    df = spark.createDataFrame(list(enumerate(texts)), "id long, text string").repartition(8)
    with arrow_batch_rows(spark, 20):
        labeled = label_dataframe(df, worker_log_dir=tmp_path)
        assert labeled.count() == len(texts)
        assert labeled.where("error is null").count() == len(texts)  # a second job, same workers
    s = worker_log_summary(tmp_path)
    assert s["rows"] == 2 * len(texts) and s["batches"] >= 2 * 16
    # every worker process loaded the model once in its life, then reused it for every batch,
    # partition and job: loads <= worker processes, far below the number of batches
    assert s["max_model_loads"] == 1
    assert s["loads"] <= s["workers"] <= 4
    assert s["batches"] >= 8 * s["workers"]


@pytest.mark.parametrize("backend", ["auto", "onnx", "onnx-int8"])
def test_a_worker_uses_the_shipped_graph_without_building_one(backend, tmp_path, monkeypatch):
    """The default model has activation ranges, which key its int8 graph's cache entry but not its fp32 one's."""
    import zipfile

    from commentnlp import backends, quantization, spark
    from commentnlp.serialization import resolve_model_path

    archive, fingerprint, has_graph = spark._stage_model(resolve_model_path(None).resolve(), backend)
    assert has_graph
    zipfile.ZipFile(archive).extractall(tmp_path / "model")

    def build(*args, **kwargs):
        raise AssertionError("the worker built an ONNX graph the archive carries")

    monkeypatch.setenv("COMMENTNLP_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setattr(backends, "_export_onnx", build)
    monkeypatch.setattr(quantization, "quantize_graph", build)
    clf = spark._load_classifier(tmp_path / "model", backend, fingerprint)
    assert (clf.recheck is not None) == (backend == "auto")
    for engine in (clf.backend, clf.recheck):  # the recheck's fp32 graph too (onnx-cascade, the default)
        assert engine is None or engine.path.is_relative_to(tmp_path / "model")
    assert not (tmp_path / "empty-cache").exists()


def test_label_files_parquet_round_trip(spark, texts, tmp_path):
    import pandas as pd

    from commentnlp.spark import OUTPUT_COLUMNS, label_files

    n = 120
    messages = texts[:n]
    messages[5], messages[50] = None, " "
    src = tmp_path / "comments.parquet"
    pd.DataFrame({"id": range(n), "message": messages, "platform": ["facebook"] * n}).to_parquet(src)
    out = tmp_path / "labeled"
    result = label_files(src, out, model=REPO / "models" / "commentnlp-minilm")  # uses the running session
    assert result["rows"] == n and result["labeled"] == n - 2 and result["errors"] == 2
    assert result["reasons"] == {"'message' is null, not a string": 1, "'message' is empty": 1}
    assert result["text_col"] == "message" and result["seconds"] > 0
    back = pd.read_parquet(out)
    assert list(back.columns) == ["id", "message", "platform", *OUTPUT_COLUMNS]
    assert back["id"].tolist() == list(range(n))  # range-partitioned: part files keep the input order
    assert back["error"].isna().sum() == n - 2 and back.loc[5, "error"] == "'message' is null, not a string"
    assert set(back["intent"].dropna()) <= set(HEADS_BY_NAME["intent"].values)
    with pytest.raises(FileExistsError):
        label_files(src, out)


def test_label_files_json_input(spark, texts, tmp_path):
    from commentnlp.spark import label_files

    src = tmp_path / "in"
    src.mkdir()
    records = [{"id": i, "text": t, "meta": {"likes": i}} for i, t in enumerate(texts[:30])]
    records[4] = {"id": 4, "body": "no text field here"}
    records[9] = {"id": 9, "text": None}
    lines = [json.dumps(r) for r in records]
    lines.insert(20, "{not json")
    (src / "export.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    result = label_files(src, out, output_format="json")  # a directory of .jsonl: JSON detected
    assert (result["rows"], result["labeled"], result["errors"]) == (31, 28, 3)
    assert result["reasons"] == {"'text' is null, not a string": 2, "not valid JSON": 1}
    back = [json.loads(line) for part in sorted(out.glob("part-*.json"))
            for line in part.read_text(encoding="utf-8").splitlines()]
    assert len(back) == 31
    assert [r.get("id") for r in back if "raw" not in r] == list(range(30))  # input order
    broken = [r for r in back if "raw" in r]
    assert broken == [{"raw": "{not json", "error": "not valid JSON"}]
    by_id = {r["id"]: r for r in back if "id" in r}
    assert by_id[4]["error"] == by_id[9]["error"] == "'text' is null, not a string" and "intent" not in by_id[4]
    assert by_id[0]["meta"] == {"likes": 0} and "error" not in by_id[0]
    assert json.loads(by_id[0]["scores"])["intent"][by_id[0]["intent"]] > 0


def test_input_format_and_text_column_detection(spark, tmp_path):
    from commentnlp.spark import detect_input_format, label_files

    assert detect_input_format("s3a://bucket/archive/2024.parquet") == "parquet"
    assert detect_input_format("comments.jsonl.gz") == "json"
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "_SUCCESS").write_text("")
    (tmp_path / "d" / "part-0.snappy.parquet").write_bytes(b"")
    assert detect_input_format(tmp_path / "d") == "parquet"
    with pytest.raises(ValueError, match="Parquet or JSON"):
        detect_input_format(tmp_path / "nothing.csv")
    src = tmp_path / "x.jsonl"
    src.write_text('{"id": 1, "note": "hello"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"no text column .*pass text_col \(--text-field on the command line\)$"):
        label_files(src, tmp_path / "y")
    page = tmp_path / "page.json"  # an API response: label (not Spark) reads the records it lists
    page.write_text('{"data": [{"message": "where can i buy it"}], "paging": {"after": "x"}}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"columns are data, paging\).*listed under 'data', as in an API response: "
                                         r"label it without --engine spark"):
        label_files(page, tmp_path / "y")
    with pytest.raises(ValueError, match="partitions must be a whole number of 1 or more, not -2"):
        label_files(src, tmp_path / "y", partitions=-2)  # was Spark's IllegalArgumentException
    with pytest.raises(ValueError, match="output cannot be the input"):
        label_files(src, src, overwrite=True)


def test_cli_engine_spark(spark, texts, tmp_path):
    from typer.testing import CliRunner

    from commentnlp.cli import app

    src = tmp_path / "comments.jsonl"
    src.write_text("".join(json.dumps({"id": i, "message": t}) + "\n" for i, t in enumerate(texts[:20])), encoding="utf-8")
    out = tmp_path / "labeled"
    result = CliRunner().invoke(app, ["label", str(src), "--engine", "spark", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "20 records" in result.output and list(out.glob("part-*.parquet"))
    again = CliRunner().invoke(app, ["label", str(src), "--engine", "spark", "-o", str(out)])
    assert again.exit_code == 1 and "already exists" in again.output and again.exception.__class__ is SystemExit
    assert "remove it or choose another -o" in again.output
    # Spark's own output formats (a usage error for a moment, when label's were checked for every engine)
    result = CliRunner().invoke(app, ["label", str(src), "--engine", "spark", "-o", str(tmp_path / "j"),
                                      "--output-format", "json"])
    assert result.exit_code == 0 and list((tmp_path / "j").glob("part-*.json")), result.output
    result = CliRunner().invoke(app, ["label", str(src), "--engine", "spark", "-o", str(tmp_path / "z"), "--partitions", "0"])
    assert result.exit_code == 2 and "--partitions" in result.output
    # local-only options were ignored (--abstain gave no "unsure"); a model that is not there was a traceback
    for extra, message in ((["--abstain"], "--abstain: not with --engine spark"),
                           (["--output-format", "jsonl"], "--engine spark writes parquet or json, not 'jsonl'")):
        result = CliRunner().invoke(app, ["label", str(src), "--engine", "spark", "-o", str(tmp_path / "y"), *extra])
        assert result.exit_code == 2 and message in result.output, result.output
    result = CliRunner().invoke(app, ["label", str(src), "--engine", "spark", "-o", str(tmp_path / "y"), "-m", "nomodel"])
    assert result.exit_code == 1 and result.output.startswith("error: ") and "Traceback" not in result.output
    result = CliRunner().invoke(app, ["label", str(src), "--engine", "nope"])
    assert result.exit_code == 2 and "--engine must be" in result.output
