"""Readers for the public comment corpora in ``shared/datasets`` (read by path, never copied).

Each reader yields records in the LABELING.md format: ``text`` plus the heads whose
native labels truly map onto ours (others stay ``None``), and provenance fields
``corpus``, ``file`` and ``key``. ``key`` is a hash of the text, so labels that this
project writes for corpus rows (``data/corpus_labels/``) can be joined at training
time without storing any corpus text in the repository.

Native label mappings (documented in ``data/README.md``):

* ``tweeteval`` sentiment val/test -> ``sentiment``.
* ``brands_product_emotions`` positive/negative/no emotion -> ``sentiment``
  ("I can't tell" is skipped).
* ``impermium_insults`` Insult=1 -> ``troll`` true and ``sentiment`` negative;
  Insult=0 -> ``troll`` false (insults aimed at other commenters are trolling in
  LABELING.md).
* ``youtube_spam_collection`` CLASS=1 -> ``intent`` spam, ``troll`` false.
* ``fb_dei_brand_comments``, ``twcs_customer_support``, ``amazon_qa_appliances``:
  no native mapping (their labels mean other things); used through project labels.
* ``cyber_trolls_dataturks``: not mapped: its label marks aggression, not trolling.
"""

from __future__ import annotations

import csv
import hashlib
import html
import json
import re
import sys
from pathlib import Path
from typing import Callable, Collection, Iterator, Mapping

from .exports import allow_long_csv_fields
from .schema import HEAD_NAMES, LabelError, labels_of

__all__ = ["CORPORA", "text_key", "iter_corpus", "iter_corpora", "read_corpus_labels", "join_corpus_labels"]

Record = dict


def text_key(text: str) -> str:
    """Stable key of a corpus text (first 16 hex digits of its SHA-1)."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def _record(corpus: str, file: str, text: str, **labels) -> Record:
    rec = {"text": text, "style": None, "intent": None, "sentiment": None, "troll": None}
    rec.update(labels)
    rec.update(corpus=corpus, file=file, key=text_key(text))
    return rec


_TAG = re.compile(r"<br\s*/?>", re.I)
_HTML = re.compile(r"<[^>]+>")


def _clean_html(text: str) -> str:
    text = _TAG.sub("\n", text)
    text = _HTML.sub("", text)
    return html.unescape(text).replace("\ufeff", "").strip()


def _read_csv(path: Path) -> Iterator[dict]:
    allow_long_csv_fields()  # a few corpus fields are long
    with path.open(encoding="utf-8", newline="") as f:
        yield from csv.DictReader(f)


def _tweeteval(root: Path) -> Iterator[Record]:
    for name in ("sentiment_val.jsonl", "sentiment_test.jsonl"):
        with (root / name).open(encoding="utf-8") as f:
            for line in f:
                row = json.loads(line)
                yield _record("tweeteval", name, row["text"].strip(), sentiment=row["label"])


_BRAND_SENTIMENT = {
    "Positive emotion": "positive",
    "Negative emotion": "negative",
    "No emotion toward brand or product": "neutral",
}


def _brands(root: Path) -> Iterator[Record]:
    name = "tweet_product_company_utf8.csv"
    for row in _read_csv(root / name):
        text = (row["tweet_text"] or "").strip()
        label = _BRAND_SENTIMENT.get(row["is_there_an_emotion_directed_at_a_brand_or_product"])
        if text:
            yield _record("brands_product_emotions", name, text, sentiment=label)


def _impermium(root: Path) -> Iterator[Record]:
    for name in ("train.csv", "test_with_solutions.csv", "impermium_verification_labels.csv"):
        for row in _read_csv(root / name):
            text = row["Comment"].strip()
            if len(text) >= 2 and text[0] == text[-1] == '"':
                text = text[1:-1]
            text = text.replace("\\n", "\n").replace("\\xa0", " ").strip()
            if not text:
                continue
            insult = row["Insult"].strip() == "1"
            labels = {"troll": insult}
            if insult:
                labels["sentiment"] = "negative"
            yield _record("impermium_insults", name, text, **labels)


def _youtube(root: Path) -> Iterator[Record]:
    for path in sorted(root.glob("Youtube0*.csv")):
        for row in _read_csv(path):
            text = _clean_html(row["CONTENT"])
            if not text:
                continue
            labels = {"intent": "spam", "troll": False} if row["CLASS"].strip() == "1" else {}
            yield _record("youtube_spam_collection", path.name, text, **labels)


def _fb_dei(root: Path) -> Iterator[Record]:
    name = "all_comments_unlabeled.csv"
    for row in _read_csv(root / name):
        text = (row["comment_text"] or "").strip()
        if text:
            rec = _record("fb_dei_brand_comments", name, text)
            rec["comment_type"] = row.get("comment_type") or None  # "initial" | "reply": see exports.reply_of
            yield rec


def _twcs(root: Path) -> Iterator[Record]:
    for name in ("spotifycares_inbound_tweets.csv", "sample.csv"):
        for row in _read_csv(root / name):
            if row.get("inbound", "").strip() != "True":
                continue
            text = html.unescape(row["text"] or "").strip()
            if text:
                yield _record("twcs_customer_support", name, text)


def _amazon(root: Path) -> Iterator[Record]:
    name = "qa_Appliances.jsonl"
    with (root / name).open(encoding="utf-8") as f:
        for line in f:
            text = (json.loads(line).get("question") or "").strip()
            if text:
                yield _record("amazon_qa_appliances", name, text)


def _cyber_trolls(root: Path) -> Iterator[Record]:
    name = "dataset_for_detection_of_cyber_trolls.jsonl"
    with (root / name).open(encoding="utf-8") as f:
        for line in f:
            text = (json.loads(line).get("content") or "").strip()
            if text:
                yield _record("cyber_trolls_dataturks", name, text)


#: corpus directory name -> reader
CORPORA: dict[str, Callable[[Path], Iterator[Record]]] = {
    "tweeteval": _tweeteval,
    "brands_product_emotions": _brands,
    "impermium_insults": _impermium,
    "youtube_spam_collection": _youtube,
    "fb_dei_brand_comments": _fb_dei,
    "twcs_customer_support": _twcs,
    "amazon_qa_appliances": _amazon,
    "cyber_trolls_dataturks": _cyber_trolls,
}


def iter_corpus(datasets_dir: str | Path, corpus: str) -> Iterator[Record]:
    """Yield the records of one corpus under ``datasets_dir`` (e.g. ``../shared/datasets``)."""
    if corpus not in CORPORA:
        raise KeyError(f"unknown corpus {corpus!r}; known: {', '.join(CORPORA)}")
    root = Path(datasets_dir) / corpus
    if not root.is_dir():
        raise FileNotFoundError(f"corpus directory not found: {root}")
    yield from CORPORA[corpus](root)


def iter_corpora(datasets_dir: str | Path, corpora: list[str] | None = None) -> Iterator[Record]:
    """Yield the records of several corpora (all known ones by default)."""
    for corpus in corpora or list(CORPORA):
        yield from iter_corpus(datasets_dir, corpus)


def read_corpus_labels(path: str | Path) -> Iterator[dict]:
    """The rows of one project label file (JSONL ``{"corpus", "key", <heads>}``, blank lines skipped).

    Labels are validated and normalised as a labeled file's are (``"Where to buy"`` is
    ``where_to_buy``, troll ``true``/``1``/``yes`` is ``"true"``); a bad row raises a ``ValueError``
    naming the file and line.
    """
    with Path(path).open(encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                row = json.loads(line)
            except ValueError as exc:
                raise ValueError(f"{where}: not valid JSON ({exc})") from None
            if not isinstance(row, dict) or not all(isinstance(row.get(k), str) and row[k] for k in ("corpus", "key")):
                raise ValueError(f'{where}: a corpus label row is an object with "corpus" and "key" strings '
                                 'and the labels, e.g. {"corpus": "fb_dei_brand_comments", "key": "d7ab5b0208af8971", '
                                 '"intent": "social"}')
            try:
                yield {**row, **labels_of(row)}
            except LabelError as exc:
                raise ValueError(f"{where}: {exc}") from None


def join_corpus_labels(datasets_dir: str | Path, label_files: list[str | Path],
                       ignore_heads: Mapping[str, Collection[str]] | None = None) -> list[Record]:
    """Attach project-written labels (keyed by ``corpus`` + ``key``) to corpus texts.

    Label files are JSONL rows ``{"corpus", "key", "style", "intent", "sentiment", "troll"}``
    with no text. ``ignore_heads`` maps a label file (as given) to heads whose labels in that
    file are left out (``None``: not trained on). Returns full records (text read from the
    corpus); a label row whose text is no longer found in the corpus is reported and skipped.
    """
    wanted: dict[tuple[str, str], dict] = {}
    for path in label_files:
        ignored = {h: None for h in (ignore_heads or {}).get(str(path), ())}
        for row in read_corpus_labels(path):
            wanted[(row["corpus"], row["key"])] = {**row, **ignored}
    out: list[Record] = []
    found: set[tuple[str, str]] = set()
    for corpus in sorted({c for c, _ in wanted}):
        for rec in iter_corpus(datasets_dir, corpus):
            k = (corpus, rec["key"])
            if k in wanted and k not in found:
                found.add(k)
                labels = wanted[k]
                rec.update({h: labels.get(h) for h in HEAD_NAMES})
                rec["source"] = f"corpus:{corpus}"
                out.append(rec)
    missing = len(wanted) - len(found)
    if missing:
        print(f"warning: {missing} corpus label rows did not match any corpus text", file=sys.stderr)
    return out
