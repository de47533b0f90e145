"""Text preprocessing shared by training and inference (versioned, saved with every model).

The base tokenizer maps every emoji to ``[UNK]``, yet emoji often decide sentiment
and trolling ("🤡", "🙄", "😍"). So emoji are spelled out as words
(``🤡`` -> ``:clown face:``), and the noisy parts of social text are normalised the
same way at training and inference time:

* HTML entities and literal escape sequences left by scrapers (``&amp;``, ``\\xa0``)
* URLs (and ``{link}`` placeholders) -> ``http``
* ``@handles`` -> ``@user``, or ``@support`` for brand care accounts (``@SpotifyCares``)
* characters repeated more than 3 times (``soooooo``, ``!!!!!!``) -> 3
* zero-width characters, BOMs and lone UTF-16 surrogates (half an emoji, where an export cut a
  string short: ``"\\ud83d"`` in its JSON) removed, whitespace collapsed
* text longer than :data:`MAX_CHARS` truncated (a 1 MB comment costs no more than a long one)

Bump :data:`PREPROCESSING_VERSION` whenever the output of :func:`normalize` changes:
a model records the version it was trained with and refuses a mismatch. (Removing lone
surrogates did not bump it: the tokenizer refused such texts before, so no model saw one.)
"""

from __future__ import annotations

import html
import re
import threading

import emoji

__all__ = ["PREPROCESSING_VERSION", "MAX_CHARS", "normalize", "normalize_batch", "is_blank", "blank_kind"]

PREPROCESSING_VERSION = "1"

#: Characters kept before tokenization; the model reads at most ``max_length`` tokens anyway.
MAX_CHARS = 2000

_ESCAPE = re.compile(r"\\x[0-9a-fA-F]{2}|\\u[0-9a-fA-F]{4}|\\[nrt]")
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\ufe0f\u00ad\ud800-\udfff]")  # with lone surrogates
#: first characters of a text that may come to nothing once normalised: spaces, invisible ones, an HTML
#: entity (&#8203;), an escape (\u200b as written)
_MAYBE_NOTHING = frozenset("&\\\u200b\u200c\u200d\u2060\ufeff\ufe0e\ufe0f\u00ad")
#: characters that print as nothing but that normalize keeps (the model was trained with them there): Hangul
#: fillers (a "blank" comment's usual trick), the blank braille pattern, the combining grapheme joiner, tags
_BLANK_LOOKING = dict.fromkeys(map(ord, "\u115f\u1160\u3164\uffa0\u2800\u034f"), None) | \
    dict.fromkeys(range(0xE0000, 0xE0080), None)
#: a text whose first character is none of these (nor a space or half an emoji) is not blank
_MAY_START_A_BLANK = _MAYBE_NOTHING | frozenset(map(chr, _BLANK_LOOKING))
# a bare domain's link (shop.acme.com/deals) is looked for only in texts with a ".com/" and the like, and from at
# most 100 characters before it: "\b\S+" scanned every word's rest of the run again ("a.a.a.a...", 4,000
# characters: 0.33 s a comment; now 0.03 s with a ".com/" in it, 0.2 ms without); a real link reads the same
_URL = re.compile(r"(?:https?://|www\.)\S+|\{link\}", re.IGNORECASE)
_DOMAIN_URL = re.compile(r"(?:https?://|www\.)\S+|\{link\}|\b\S{1,100}\.(?:com|net|org|ly|io|co)/\S*", re.IGNORECASE)
_DOMAIN_SLASH = re.compile(r"\.(?:com|net|org|ly|io|co)/", re.IGNORECASE)
_SUPPORT_HANDLE = re.compile(r"@\w*(?:cares|support|help|service|team)\b", re.IGNORECASE)
_MENTION = re.compile(r"(?<![\w@])@\w+")
_REPEAT = re.compile(r"(.)\1{3,}", re.DOTALL)
_SPACES = re.compile(r"\s+")
#: every non-ASCII character that occurs in an emoji, and the text variation selector U+FE0E
#: (which ``emoji`` drops): a text with none of them comes out of ``emoji.replace_emoji`` unchanged
_EMOJI_CHARS = frozenset({c for e in emoji.EMOJI_DATA for c in e if not c.isascii()} | {"\ufe0e"})


def _spell_emoji(chars: str, data: dict) -> str:
    return " :" + data["en"].strip(":").replace("_", " ").lower() + ": "


_emoji_lock = threading.Lock()
_emoji_ready = False


def _spell_out_emoji(text: str) -> str:
    """``emoji.replace_emoji`` with :func:`_spell_emoji`; its first call builds emoji's search tree, which is
    not thread-safe (threads reading it half-built left emoji unspelled: other labels), so under a lock."""
    global _emoji_ready
    if not _emoji_ready:
        with _emoji_lock:
            if not _emoji_ready:
                emoji.replace_emoji("\U0001f600", replace=_spell_emoji)
                _emoji_ready = True
    return emoji.replace_emoji(text, replace=_spell_emoji)


def normalize(text: str) -> str:
    """Return the normalised form of one comment (deterministic, never raises on str input)."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, not {type(text).__name__}")
    text = text[: MAX_CHARS * 2]
    text = html.unescape(text)
    text = _ESCAPE.sub(" ", text)
    text = _INVISIBLE.sub("", text)
    text = (_DOMAIN_URL if _DOMAIN_SLASH.search(text) else _URL).sub(" http ", text)
    text = _SUPPORT_HANDLE.sub("@support", text)
    text = _MENTION.sub(lambda m: m.group(0) if m.group(0) == "@support" else "@user", text)
    text = _REPEAT.sub(lambda m: m.group(1) * 3, text)
    if not text.isascii() and not _EMOJI_CHARS.isdisjoint(text):  # emoji's own scan is the slow part
        text = _spell_out_emoji(text)
    text = _SPACES.sub(" ", text).strip()
    return text[:MAX_CHARS]


def is_blank(text: str) -> bool:
    """Whether a text holds nothing the model reads: :func:`normalize` leaves nothing of it (spaces,
    zero-width spaces, a lone half of an emoji, ``&nbsp;``) but characters that print as nothing (a
    Hangul filler, U+3164, a "blank" comment's usual trick). Quick for a text that starts with a
    visible character, as comments do."""
    first = text.lstrip()[:1]  # a reply's leading space or line break: still quick
    if not first:
        return True
    if first not in _MAY_START_A_BLANK and not "\ud800" <= first <= "\udfff":
        return False
    return not normalize(text).translate(_BLANK_LOOKING).strip()


def blank_kind(text: str) -> str:
    """How a blank text (:func:`is_blank`) is told: ``"empty"``, or ``"empty (only invisible characters)"``."""
    return "empty (only invisible characters)" if text.strip() else "empty"


def normalize_batch(texts: list[str]) -> list[str]:
    """:func:`normalize` over a list."""
    return [normalize(t) for t in texts]
