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
