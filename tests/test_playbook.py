import pytest

from commentnlp.playbook import Playbook, PlaybookError, default_playbook


def labels(**kw):
    base = {"style": "audience", "intent": "social", "sentiment": "neutral", "troll": False}
    base.update(kw)
    return base


@pytest.mark.parametrize("kw,rule", [
    ({"troll": True, "intent": "support_request"}, "ignore_troll"),
    ({"intent": "spam"}, "hide_spam"),
    ({"intent": "support_request", "sentiment": "negative"}, "ladder_up_support"),
    ({"intent": "where_to_buy"}, "answer_where_to_buy"),
    ({"intent": "feedback", "sentiment": "negative"}, "engage_unhappy"),
    ({"style": "community"}, "amplify_community"),
    ({}, "like"),
])
def test_default_rules(kw, rule):
    assert default_playbook().match(labels(**kw)).id == rule


def test_where_to_buy_action_names_every_way_to_buy():
    text = default_playbook().action_for(labels(intent="where_to_buy"))
    for way in ("brand site", "Amazon", "e-tailers", "store locator", "retail request form"):
        assert way in text


def test_brand_playbook_fills_links_and_keeps_default_rules(tmp_path):
    path = tmp_path / "brand.toml"
    path.write_text('[links]\nstore_locator_url = "https://acme.example/stores"\n', encoding="utf-8")
    pb = Playbook.from_toml(path, base=default_playbook())
    assert "https://acme.example/stores" in pb.action_for(labels(intent="where_to_buy"))


def test_custom_rules_and_errors(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text('[[rule]]\nwhen = { intent = ["spam", "social"] }\naction = "skip {x}"\n', encoding="utf-8")
    pb = Playbook.from_toml(path)
    assert pb.action_for(labels(intent="spam")) == "skip {x}"
    path.write_text('[[rule]]\nwhen = { mood = "sad" }\naction = "x"\n', encoding="utf-8")
    with pytest.raises(PlaybookError, match="unknown head"):
        Playbook.from_toml(path)
    with pytest.raises(PlaybookError, match="not found"):
        Playbook.from_toml(tmp_path / "missing.toml")


@pytest.mark.parametrize("toml, error", [
    # a misspelt link name: the action kept its placeholder, silently
    ('[links]\nbrand_site = "https://acme.example"\n', r"link 'brand_site' is used by no rule's action; did you mean 'brand_site_url'\?"),
    ('[links]\nshop = "https://s"\n[[rule]]\naction = "hi {name}"\n', r"link 'shop' is used by no rule's action \(they use name\)"),
    # a stray brace stopped label at its first record, naming neither the file nor the rule
    ('[[rule]]\naction = "smile :}"\n', r"rule 'rule_1': Single '}' encountered .*\(write \{\{ or \}\} for a brace\)"),
    ('[rule]\naction = "x"\n', r"write each rule as \[\[rule\]\]"),
    ('[[rule]]\nwen = { troll = true }\naction = "x"\n', r"rule 1 has unknown 'wen': a rule holds id, when and action"),  # was "rule 1 has no 'action'"
    ('[[rules]]\naction = "x"\n', r"unknown 'rules': a playbook holds a \[links\] table and \[\[rule\]\] tables"),
    ('links = "https://acme.example"\n', r"'links' must be a table"),
    # two rules with one id: a support request got the where-to-buy action when they shared a batch
    ('[[rule]]\nid = "reply"\nwhen = { intent = "where_to_buy" }\naction = "a"\n'
     '[[rule]]\nid = "reply"\nwhen = { intent = "support_request" }\naction = "b"\n', r"two rules have the id 'reply'"),
    # placeholders that passed, then raised AttributeError/IndexError/ValueError at the first comment with that action
    *(((f'[[rule]]\naction = "Reply {p} soon"\n', "is not a link's name")) for p in
      ("{customer.name}", "{}", "{0}", "{links[0]}", "{support_url!x}", "{support_url:d}", "{support_url }", "{ x}")),
    ('[[rule]]\nwhen = "spam"\naction = "x"\n', r"'when' must be a table"),
    ('[[rule]]\nwhen = { intnet = "spam" }\naction = "x"\n', r"unknown head 'intnet'; did you mean 'intent'\?"),
    ("a = " + "[" * 5000 + "]" * 5000 + "\n", "is not a playbook commentnlp reads: its values are nested too deep"),  # a traceback
])
def test_playbook_mistakes_are_named(tmp_path, toml, error):
    path = tmp_path / "brand.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(PlaybookError, match=error):
        Playbook.from_toml(path, base=default_playbook())


def test_unsure_heads_go_to_a_person_and_rules_may_match_unsure(tmp_path):
    """With label --abstain, a troll call or an intent the model is unsure of is read by the CM."""
    from commentnlp.playbook import Playbook, default_playbook

    pb = default_playbook()
    base = {"style": "audience", "sentiment": "negative"}
    assert pb.match({**base, "intent": "spam", "troll": "unsure"}).id == "review_unsure_troll"
    assert pb.match({**base, "intent": "unsure", "troll": False}).id == "review_unsure_intent"
    assert pb.match({**base, "intent": "where_to_buy", "troll": False}).id == "answer_where_to_buy"
    own = tmp_path / "p.toml"
    own.write_text('[[rule]]\nid = "ask"\nwhen = { sentiment = "unsure" }\naction = "Ask them."\n'
                   '[[rule]]\nid = "rest"\naction = "Like it."\n')
    assert Playbook.from_toml(own).match({"sentiment": "unsure"}).id == "ask"


def test_rules_built_in_python_are_checked_and_read_like_the_files():
    from commentnlp.playbook import Rule

    pb = Playbook([Rule("t", {"troll": True, "intent": "Where to buy"}, "Ignore."), Rule("rest", {}, "Like.")])
    assert pb.match(labels(troll=True, intent="where_to_buy")).id == "t"  # was TypeError: 'bool' is not iterable
    with pytest.raises(PlaybookError, match="unknown head 'mood'"):  # never matched, silently
        Playbook([Rule("x", {"mood": "sad"}, "x")])
    with pytest.raises(PlaybookError, match="is not a link's name"):
        Playbook([Rule("x", {}, "Hi {user.name}")])


def test_a_link_named_as_toml_allows_fills_its_placeholder(tmp_path):
    path = tmp_path / "p.toml"  # {store-locator} was refused as "not a link's name" for a moment
    path.write_text('[links]\n"store-locator" = "https://acme.example/stores"\n"2nd site" = "https://b.example"\n'
                    '[[rule]]\naction = "See {store-locator} or {2nd site}."\n', encoding="utf-8")
    assert Playbook.from_toml(path).action_for(labels()) == "See https://acme.example/stores or https://b.example."


def test_same_template_or_id_as_the_fallback_gets_its_own_action(tmp_path):
    from commentnlp.playbook import Rule

    pb = Playbook([Rule("review", {"intent": ("spam",)}, "Hide {what}."), Rule("buy", {"intent": ("where_to_buy",)}, "Buy.")],
                  {"what": "it"})
    assert pb.action_for(labels(intent="spam")) == "Hide it." and pb.action_for(labels()) == "Review manually."
