import emoji
from hypothesis import given, settings
from hypothesis import strategies as st

from commentnlp.preprocessing import MAX_CHARS, normalize


def test_emoji_become_words():
    assert normalize("you people are clowns 🤡") == "you people are clowns :clown face:"
    assert ":smiling face with heart-eyes:" in normalize("love it😍")
    assert "[UNK]" not in normalize("🙄")


def test_emoji_runs_are_capped():
    assert normalize("🔥" * 10).count(":fire:") == 3


def test_mentions_and_support_handles():
    assert normalize("@jess we NEED these") == "@user we NEED these"
    assert normalize("@SpotifyCares it keeps crashing") == "@support it keeps crashing"
    assert normalize("mail me at a@b.com") == "mail me at a@b.com"


def test_urls_and_link_placeholders():
    assert normalize("check https://t.co/xyz and www.spam.biz/x {link}") == "check http and http http"


def test_html_entities_escapes_and_whitespace():
    assert normalize("  salt &amp; vinegar\\xa0 chips\ufeff\n\n ") == "salt & vinegar chips"
    assert normalize("soooooooo good!!!!!!") == "sooo good!!!"


def test_long_text_is_truncated():
    assert len(normalize("a " * 1_000_000)) <= MAX_CHARS


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_normalize_never_fails_and_removes_emoji(text):
    out = normalize(text)
    assert isinstance(out, str) and len(out) <= MAX_CHARS
    assert emoji.emoji_count(out) == 0
    assert out == out.strip()


def test_ascii_text_skips_the_emoji_pass_without_changing_the_output():
    """normalize() skips emoji.replace_emoji on ASCII text: safe because no emoji is ASCII."""
    assert all(not e.isascii() for e in emoji.EMOJI_DATA)
    for text in ["#1 fan *** 0-9 :) <3 :-( (c) (r) tm", "keycap # and * alone", "plain"]:
        assert normalize(text) == " ".join(text.split())
    assert normalize("#️⃣ 1️⃣ ©") == ":keycap #: :keycap 1: :copyright:"
