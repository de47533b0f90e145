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
