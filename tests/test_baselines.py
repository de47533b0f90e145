from commentnlp.baselines import where_to_buy_rules


def test_where_to_buy_rules_catch_common_phrasings():
    predict = where_to_buy_rules()
    hits = ["where can I buy this in Ohio?", "Do you ship to Canada??", "is this at walmart", "link??",
            "when's it back in stock", "available in costco nz?"]
    misses = ["how much is it?", "my order never arrived", "love this 😍"]
    assert predict(hits)["intent"] == ["where_to_buy"] * len(hits)
    assert predict(misses)["intent"] == ["social"] * len(misses)


def test_a_baseline_whose_package_is_missing_is_left_out_with_a_warning(monkeypatch):
    """Installed without the [eval] extra, VADER and the profanity check vanished from the table unsaid."""
    import sys

    import pytest

    from commentnlp.baselines import run_baselines

    monkeypatch.setitem(sys.modules, "vaderSentiment", None)  # import fails as if not installed
    monkeypatch.setitem(sys.modules, "vaderSentiment.vaderSentiment", None)
    records = [{"text": t, "intent": i, "sentiment": "neutral"} for t, i in
               [("where can i buy it", "where_to_buy"), ("lol", "social"), ("is it at target", "where_to_buy")]]
    with pytest.warns(RuntimeWarning, match=r"baseline vader left out: vaderSentiment.* is not installed "
                                            r"\(pip install 'commentnlp\[eval\]'\)"):
        out = run_baselines(records, records)
    assert "vader" not in out and {"majority", "tfidf_logreg", "rules_where_to_buy"} <= set(out)


def test_the_comparison_table_bolds_the_best_figure_of_each_row():
    """The model's figure was bold in every row, also where a baseline beat it."""
    from commentnlp.baselines import comparison_table

    table = comparison_table({"intent_macro_f1": 0.5, "where_to_buy_f1": 0.8},
                             {"tfidf_logreg": {"summary": {"intent_macro_f1": 0.7, "where_to_buy_f1": 0.6}},
                              "rules": {"summary": {"where_to_buy_f1": 0.8}}})
    rows = table.splitlines()[2:]
    assert rows[0] == "| intent_macro_f1 | 0.500 | **0.700** | – |"
    assert rows[1] == "| where_to_buy_f1 | **0.800** | 0.600 | **0.800** |"  # a tie: both


def test_baselines_of_a_model_whose_data_is_not_at_hand_say_what_to_give(tmp_path, tiny_model_dir, monkeypatch):
    """finalize.py --baselines on a model trained without [data] evaluate was an IndexError traceback;
    evaluate --baselines away from the training directory said 'data file not found: train210.csv'."""
    import importlib.util
    import json
    import shutil
    from pathlib import Path

    from typer.testing import CliRunner

    from commentnlp.cli import app
    from commentnlp.serialization import read_config, write_config

    model = tmp_path / "m"
    shutil.copytree(tiny_model_dir, model)
    config = read_config(model)
    config.training = {"config": {"data": {"train": ["train210.csv"]}}}
    write_config(model, config)
    spec = importlib.util.spec_from_file_location("finalize", Path(__file__).parents[1] / "training" / "finalize.py")
    finalize = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(finalize)
    result = CliRunner().invoke(finalize.app, [str(model), "--baselines"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert result.output.strip() == (f"error: {model} was trained without [data] evaluate files, the baselines' "
                                     "default data: name the labelled records to evaluate them on (finalize.py "
                                     "--baselines-data FILE)")
    gold = tmp_path / "gold.jsonl"
    gold.write_text("".join(json.dumps({"text": f"text {i}", "intent": "social" if i % 2 else "spam"}) + "\n" for i in range(8)))
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    result = CliRunner().invoke(app, ["evaluate", str(gold), "-m", str(model), "--baselines"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.strip().splitlines()[0].startswith("warning: no record labels style, sentiment, troll")
    assert result.output.strip().splitlines()[-1] == (f"error: the model's training data train210.csv is not found from {tmp_path / 'elsewhere'}: "
                                     "its config records the paths as given where it was trained; run this there, or "
                                     "give the training data for the baselines: --train-data FILE")
    import inspect

    from commentnlp.cli.evaluate import evaluate_cli

    help_text = inspect.signature(evaluate_cli).parameters["train_data"].default.help
    assert help_text.startswith("Labelled training records for the baselines, read as --data is (JSONL, CSV")


def test_where_to_buy_rules_fall_back_to_the_most_frequent_other_intent():
    """With where_to_buy the most frequent training intent, the rules fell back to it on every
    non-match: rules_where_to_buy was the majority baseline again (every comment where_to_buy)."""
    from commentnlp.baselines import run_baselines

    train = ([{"text": f"where can i buy {i}", "intent": "where_to_buy"} for i in range(5)]
             + [{"text": f"haha {i}", "intent": "social"} for i in range(3)]
             + [{"text": "my order never arrived", "intent": "support_request"}])
    test = [{"text": "where can i buy this in ohio?", "intent": "where_to_buy"},
            {"text": "is this at walmart", "intent": "where_to_buy"},
            {"text": "lol love it", "intent": "social"},
            {"text": "so funny", "intent": "social"}]
    out = run_baselines(train, test)
    assert out["majority"]["summary"]["where_to_buy_f1"] < 1.0
    assert out["rules_where_to_buy"]["summary"]["where_to_buy_f1"] == 1.0
    assert out["rules_where_to_buy"]["summary"]["intent_macro_f1"] == 1.0
