"""label_file with worker processes: the same output as one process, in order, resumable."""

import gzip
import json
import sys

import pytest

from commentnlp import Classifier, exports, parallel
from commentnlp.exports import label_file

from conftest import os_as
from test_exports import write_export


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of 64 records, so a 1,000-line export flows through many chunks with several in flight."""
    monkeypatch.setattr(exports.labelling, "CHUNK", 64)


@pytest.mark.parametrize("suffix,backend", [(".jsonl", None), (".csv.gz", None), (".jsonl", "onnx-int8")])
def test_workers_write_the_same_output_as_one_process(tmp_path, tiny_classifier, tiny_model_dir, small_chunks,
                                                      suffix, backend):
    """Byte for byte, int8 included: its scores depend on a comment's batch-mates, so both paths
    batch the same chunks (they used chunks of 1,024 and 4,096 records)."""
    if backend:
        tiny_classifier = Classifier.load(tiny_model_dir, backend=backend)
    src = tmp_path / "export.jsonl"
    write_export(src)  # bad lines of every kind, a BOM; workers parse JSONL lines, so add blank ones
    lines = src.read_bytes().split(b"\n")
    src.write_bytes(b"\n".join(lines[:300] + [b""] + lines[300:600] + [b" \t"] + lines[600:]))
    one = label_file(src, tmp_path / f"one{suffix}", tiny_classifier, workers=0)
    two = label_file(src, tmp_path / f"two{suffix}", tiny_classifier, workers=2)
    text = [gzip.decompress(p.read_bytes()) if suffix.endswith(".gz") else p.read_bytes()  # gzip stamps the time
            for p in (tmp_path / f"one{suffix}", tmp_path / f"two{suffix}")]
    assert text[0] and text[1] == text[0]
    assert {k: v for k, v in two.to_dict().items() if k not in ("output", "seconds")} == \
        {k: v for k, v in one.to_dict().items() if k not in ("output", "seconds")}
    assert (two.total, two.errors, two.blank_lines) == (1000, 7, 2)


def test_workers_use_the_thread_position_of_each_record(tmp_path, tiny_classifier, small_chunks, monkeypatch):
    monkeypatch.setattr(tiny_classifier.config, "position_offsets",
                        {"style": {"reply": [0.0, 2.0], "initial": [0.0, -2.0]}})
    src = tmp_path / "in.jsonl"
    parents = [{"parent_id": ""}, {"parent_id": "p"}, {}]  # top level, a reply, unknown
    src.write_text("".join(json.dumps({"text": f"comment {i % 50}", **parents[i % 3]}) + "\n" for i in range(300)))
    label_file(src, tmp_path / "one.jsonl", tiny_classifier, workers=0)
    label_file(src, tmp_path / "two.jsonl", tiny_classifier, workers=2)
    assert (tmp_path / "two.jsonl").read_bytes() == (tmp_path / "one.jsonl").read_bytes()
    scores = [json.loads(line)["scores"]["style"]["community"] for line in (tmp_path / "two.jsonl").open()]
    # "comment 0" at lines 1, 51 and 101: top level, unknown, a reply; at line 151 top level again
    assert scores[0] < scores[50] < scores[100] and scores[150] == scores[0]
    assert scores[50] == tiny_classifier.predict("comment 0").scores["style"]["community"]


def test_interrupted_run_with_workers_resumes_to_the_same_output(tmp_path, tiny_classifier, small_chunks, monkeypatch):
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(json.dumps({"text": f"t{i} 😍" if i % 7 else None}) for i in range(1000)) + "\n")
    expected = tmp_path / "expected.jsonl"
    label_file(src, expected, tiny_classifier)
    real, calls = tiny_classifier.logits_for_batches, {"n": 0}

    def flaky(*args):
        calls["n"] += 1
        if calls["n"] == 8:
            raise KeyboardInterrupt  # raised in the forward thread, re-raised in the caller
        return real(*args)

    monkeypatch.setattr(tiny_classifier, "logits_for_batches", flaky)
    dst = tmp_path / "out.jsonl"
    with pytest.raises(KeyboardInterrupt):
        label_file(src, dst, tiny_classifier, workers=2)
    assert not dst.exists()
    monkeypatch.setattr(tiny_classifier, "logits_for_batches", real)
    summary = label_file(src, dst, tiny_classifier, workers=2, resume=True)
    # the 8th forward pass raised: up to 7 chunks can have been written and checkpointed, however the
    # workers were timed
    assert 0 < summary.resumed <= 7 * 64 and summary.resumed % 64 == 0 and summary.total == 1000
    assert dst.read_bytes() == expected.read_bytes()


def test_auto_workers_only_when_the_model_is_on_a_gpu(tiny_classifier, monkeypatch):
    assert parallel.auto_workers(tiny_classifier) == 0

    class OnGpu:
        device = "cuda:0"

    monkeypatch.setattr(tiny_classifier, "backend", OnGpu())
    for cores, expected in ((1, 0), (2, 0), (4, 2), (16, 14), (64, 16)):
        monkeypatch.setattr(parallel, "available_cores", lambda: cores)
        assert parallel.auto_workers(tiny_classifier) == expected


def test_negative_workers_are_refused(tmp_path, tiny_classifier):
    src = tmp_path / "e.jsonl"
    src.write_text('{"text": "hi"}\n')
    with pytest.raises(ValueError, match="workers must be >= 0"):
        label_file(src, tmp_path / "o.jsonl", tiny_classifier, workers=-1)


def test_more_workers_than_cores_get_a_warning(tmp_path, tiny_classifier, monkeypatch):
    from commentnlp import backends

    monkeypatch.setattr(backends, "available_cores", lambda: 1)
    src = tmp_path / "e.jsonl"
    src.write_text('{"text": "hi"}\n')
    with pytest.warns(RuntimeWarning, match=r"more workers \(2\) than CPU cores \(1\): each worker is a process"):
        summary = label_file(src, tmp_path / "o.jsonl", tiny_classifier, workers=2)
    assert summary.labeled == 1


def test_cli_workers_option_to_stdout(tmp_path, tiny_model_dir):
    from typer.testing import CliRunner

    from commentnlp.cli import app

    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": i, "text": f"where can I buy {i}?"}) + "\n" for i in range(50)) + "{x\n")
    outputs = []
    for workers in ("0", "1"):
        result = CliRunner().invoke(app, ["label", str(src), "-o", "-", "--workers", workers,
                                          "--model", str(tiny_model_dir), "-q"])
        assert result.exit_code == 0, result.output
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1] and len(outputs[1].splitlines()) == 51
    assert json.loads(outputs[1].splitlines()[-1])["error"].startswith("line 51: not valid JSON")


def test_a_worker_answers_in_one_atomic_write_and_its_file_holds_the_chunk(tmp_path, tiny_classifier, monkeypatch):
    """A worker killed while answering must not leave a half message in the pool's pipe (it would hang)."""
    import pickle
    import select

    items = list(exports.read_jsonl(iter([(json.dumps({"id": i, "text": f"where can I buy {i}? 😍"}) + "\n").encode()
                                          for i in range(exports.labelling.CHUNK)] + [b"{bad\n"])))
    texts = exports.texts_to_label(items, None)
    expected = exports.output_records(items, tiny_classifier.predict(texts), exports.LabelSummary())
    logits = tiny_classifier.logits_for_ids(tiny_classifier.encode(texts))
    monkeypatch.setattr(parallel, "_classifier", tiny_classifier)
    answer = parallel._finish(items, logits, None, str(tmp_path / "0.jsonl"))
    assert len(pickle.dumps((12345, answer, None), protocol=pickle.HIGHEST_PROTOCOL)) < select.PIPE_BUF
    for jsonl in (True, False):
        parallel._finish(items, logits, None, str(tmp_path / "0.jsonl"))
        output, counts = parallel._read_finished(str(tmp_path / "0.jsonl"), jsonl)
        assert output == ("".join(map(exports.jsonl_line, expected)) if jsonl else expected)
        assert (counts.total, counts.labeled, counts.errors) == (len(items), len(items) - 1, 1)
        assert counts.reasons == {"not valid JSON": 1} and not (tmp_path / "0.jsonl").exists()


def test_a_killed_worker_is_reported_and_the_run_resumes(tmp_path, tiny_classifier, small_chunks):
    import multiprocessing
    import os
    import signal

    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"text": f"comment {i}"}) + "\n" for i in range(1000)))
    expected = tmp_path / "expected.jsonl"
    label_file(src, expected, tiny_classifier)

    def kill_workers(done, total):
        for child in multiprocessing.active_children():
            os.kill(child.pid, signal.SIGKILL)

    dst = tmp_path / "out.jsonl"
    with pytest.raises(parallel.WorkerError, match="worker process stopped unexpectedly.*--resume"):
        label_file(src, dst, tiny_classifier, workers=2, progress=kill_workers)
    assert not dst.exists()
    summary = label_file(src, dst, tiny_classifier, workers=0, resume=True)
    assert summary.resumed > 0 and summary.total == 1000
    assert dst.read_bytes() == expected.read_bytes()


def test_abstain_marks_unsure_heads_alike_with_and_without_workers(tmp_path, tiny_model_dir, small_chunks):
    """`label --abstain`: a head below the model's threshold is 'unsure', and the playbook sends it
    to a person instead of acting on a guess (a spam comment unsure of its intent was told 'Like it')."""
    import json
    import shutil

    from commentnlp.serialization import read_config, write_config

    model = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model)
    config = read_config(model)
    config.thresholds = {"intent": 0.99}  # the tiny model is never that sure of an intent
    config.decision_thresholds = {"troll": {"true": 1.0}}  # and calls no comment a troll
    write_config(model, config)
    clf = Classifier.load(model, backend="onnx")
    src = tmp_path / "export.jsonl"
    src.write_text("".join(json.dumps({"id": i, "text": f"comment {i}, where can i buy it"}) + "\n" for i in range(200)))
    one = label_file(src, tmp_path / "one.jsonl", clf, workers=0, abstain=True)
    two = label_file(src, tmp_path / "two.jsonl", clf, workers=2, abstain=True)
    assert (tmp_path / "one.jsonl").read_bytes() == (tmp_path / "two.jsonl").read_bytes()
    records = [json.loads(line) for line in (tmp_path / "one.jsonl").open()]
    assert {r["labels"]["intent"] for r in records} == {"unsure"} and {r["labels"]["troll"] for r in records} == {False}
    untrolled = records
    assert untrolled and {r["action"] for r in untrolled} == {clf.playbook.render(next(
        rule.action for rule in clf.playbook.rules if rule.id == "review_unsure_intent"))}
    assert one.actions == two.actions and one.actions["review_unsure_intent"] == len(untrolled)
    plain = label_file(src, tmp_path / "plain.jsonl", clf)
    assert "review_unsure_intent" not in plain.actions


def test_workers_end_when_the_labelling_process_is_killed(tmp_path, tiny_model_dir):
    """kill -9 left the spawned workers waiting for work forever (~90 MB each), and their scratch folder."""
    import os
    import signal
    import subprocess
    import sys
    import time

    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"text": f"comment number {i} where can I buy it"}) + "\n" for i in range(200000)))
    script = ("import sys; from commentnlp import Classifier; from commentnlp.exports import label_file\n"
              "label_file(sys.argv[1], sys.argv[2], Classifier.load(sys.argv[3], backend='onnx'), workers=2)\n")
    run = subprocess.Popen([sys.executable, "-c", script, str(src), str(tmp_path / "out.jsonl"), str(tiny_model_dir)],
                           stderr=subprocess.DEVNULL)
    children: list[str] = []
    for _ in range(600):  # the two workers (and multiprocessing's resource tracker) started
        time.sleep(0.1)
        children = " ".join(open(f).read() for f in (f"/proc/{run.pid}/task/{t}/children"
                                                      for t in os.listdir(f"/proc/{run.pid}/task"))).split()
        if len(children) >= 3 or run.poll() is not None:
            break
    assert run.poll() is None and len(children) >= 3, "the run ended before it could be killed"
    os.kill(run.pid, signal.SIGKILL)
    run.wait()
    def running(pid: str) -> bool:  # an ended process its new parent has not reaped yet is a zombie, Z
        try:
            return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] != "Z"
        except OSError:
            return False

    for _ in range(150):
        if not any(map(running, children)):
            break
        time.sleep(0.1)
    alive = [pid for pid in children if running(pid)]
    assert not alive, f"processes {alive} outlived the labelling process"
    import tempfile

    left = [os.path.join(tempfile.gettempdir(), d) for d in os.listdir(tempfile.gettempdir())
            if d.startswith(f"commentnlp-label-{run.pid}-")]
    assert left, "the killed run made no scratch folder"
    for d in left:  # as ten minutes later (a run whose process is gone but whose folder is fresh may be another host's)
        os.utime(d, (time.time() - 700, time.time() - 700))
    scratch = parallel._scratch_dir()  # the next run removes the killed run's chunk files
    assert not [d for d in left if os.path.exists(d)]
    os.rmdir(scratch)


def test_a_process_is_told_alive_on_windows_without_a_signal(monkeypatch):
    """os.kill(pid, 0) is a CTRL_C_EVENT on Windows: WinError 87 for a process gone (every later --workers
    run failed after one was killed), a Ctrl-C for a live one."""
    import types

    from commentnlp import processes

    class WinError(OSError):
        def __init__(self, winerror):
            super().__init__(22, "WinError")
            self.winerror = winerror

    def open_process(access, inherit, pid):
        if pid in (2, 3):
            raise WinError({2: 87, 3: 5}[pid])  # gone; another user's
        return pid

    fake = types.SimpleNamespace(OpenProcess=open_process, CloseHandle=lambda handle: None,
                                 GetExitCodeProcess=lambda handle: 259 if handle == 1 else 0)
    def kill(*args):
        pytest.fail("signalled a process on Windows")

    monkeypatch.setitem(sys.modules, "_winapi", fake)
    monkeypatch.setattr(processes, "os", os_as(name="nt", kill=kill))
    assert [processes.alive(pid) for pid in (1, 2, 3, 4)] == [True, False, True, False]
