import numpy as np
import pytest

from commentnlp.schema import HEAD_NAMES, HEADS, INTENT_PRIORITY, LabelError, labels_of, parse_label, to_record_value


def test_heads_match_labeling_guide():
    values = {h.name: h.values for h in HEADS}
    assert HEAD_NAMES == ("style", "intent", "sentiment", "troll")
    assert values["style"] == ("audience", "community")
    assert set(values["intent"]) == {"where_to_buy", "product_question", "support_request", "feedback",
                                     "suggestion", "social", "spam"}
    assert values["sentiment"] == ("negative", "neutral", "positive")
    assert values["troll"] == ("false", "true")
    assert set(INTENT_PRIORITY) == set(values["intent"]) and INTENT_PRIORITY[0] == "support_request"


def test_parse_label_normalises_troll_and_missing():
    assert parse_label("troll", True) == "true"
    assert parse_label("troll", "False") == "false"
    assert parse_label("intent", None) is None
    assert to_record_value("troll", "true") is True
    assert labels_of({"text": "x", "intent": "spam"}) == {"style": None, "intent": "spam", "sentiment": None, "troll": None}


@pytest.mark.parametrize("head,value,label", [
    ("sentiment", "Positive", "positive"), ("intent", "Where to buy", "where_to_buy"),
    ("intent", " support-request ", "support_request"), ("troll", "YES", "true"), ("troll", "no", "false"),
    ("troll", 1, "true"), ("troll", 0.0, "false"), ("troll", "1.0", "true"),  # spreadsheets, pandas
    ("troll", float("nan"), None), ("intent", "  ", None),  # a dataframe's empty cell: not labelled
    ("troll", np.int64(1), "true"), ("troll", np.bool_(False), "false"), ("troll", np.float64("nan"), None)])
def test_labels_are_read_as_spreadsheets_and_dataframes_write_them(head, value, label):
    """An annotation sheet's 'Positive' or troll = 1 refused the whole training file."""
    assert parse_label(head, value) == label


@pytest.mark.parametrize("head,value", [("intent", "question"), ("troll", "maybe"), ("style", 3), ("sentiment", "pos"),
                                        ("troll", 2), ("intent", "where to  buy now")])
def test_invalid_labels_are_rejected_with_the_allowed_values(head, value):
    with pytest.raises(LabelError, match=head):
        parse_label(head, value)
