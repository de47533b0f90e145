from commentnlp.baselines import where_to_buy_rules


def test_where_to_buy_rules_catch_common_phrasings():
    predict = where_to_buy_rules()
    hits = ["where can I buy this in Ohio?", "Do you ship to Canada??", "is this at walmart", "link??",
            "when's it back in stock", "available in costco nz?"]
    misses = ["how much is it?", "my order never arrived", "love this 😍"]
    assert predict(hits)["intent"] == ["where_to_buy"] * len(hits)
    assert predict(misses)["intent"] == ["social"] * len(misses)
