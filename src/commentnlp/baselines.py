"""Reference baselines evaluated beside the model, so every figure has a yardstick.

* ``majority``: the most frequent training label of each head.
* ``tfidf_logreg``: word + character TF-IDF and a class-balanced logistic regression per
  head (scikit-learn), trained on the same records as the model.
* ``vader``: VADER's compound score for ``sentiment`` (>= 0.05 positive, <= -0.05 negative).
* ``rules_where_to_buy``: spaCy token patterns for where-to-buy questions (``intent`` is
  ``where_to_buy`` on a match, else the most frequent training intent other than ``where_to_buy``).
* ``profanity``: ``alt-profanity-check`` for ``troll`` (probability >= 0.5).

Each baseline returns labels for the heads it covers; :func:`run_baselines` evaluates
them with the same code as the model.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Callable, Mapping, Sequence

from .evaluation import evaluate_predictions
from .preprocessing import normalize
from .schema import HEAD_NAMES, HEADS_BY_NAME
from .userwarnings import warn

__all__ = ["baseline_training_records", "comparison_table", "majority", "tfidf_logreg", "vader_sentiment", "where_to_buy_rules", "profanity_troll", "run_baselines"]

Predictor = Callable[[Sequence[str]], dict[str, list[str]]]


def _labelled(records: Sequence[Mapping[str, Any]], head: str) -> list[Mapping[str, Any]]:
    return [r for r in records if r.get(head) is not None]


def _str(v: Any) -> str:
    return ("true" if v else "false") if isinstance(v, bool) else v


def majority(train: Sequence[Mapping[str, Any]]) -> Predictor:
    """Predict each head's most frequent training label."""
    top = {h: Counter(_str(r[h]) for r in _labelled(train, h)).most_common(1)[0][0]
           for h in HEAD_NAMES if _labelled(train, h)}
    return lambda texts: {h: [v] * len(texts) for h, v in top.items()}


def tfidf_logreg(train: Sequence[Mapping[str, Any]], seed: int = 0) -> Predictor:
    """Word (1-2 gram) + char (2-5 gram) TF-IDF with a balanced logistic regression per head."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union
    from sklearn.feature_extraction.text import TfidfVectorizer

    models = {}
    for head in HEAD_NAMES:
        rows = _labelled(train, head)
        if len({_str(r[head]) for r in rows}) < 2:
            continue
        features = make_union(TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
                              TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True))
        clf = make_pipeline(features, LogisticRegression(C=4.0, max_iter=3000, class_weight="balanced", random_state=seed))
        clf.fit([normalize(r["text"]) for r in rows], [_str(r[head]) for r in rows])
        models[head] = clf

    def predict(texts: Sequence[str]) -> dict[str, list[str]]:
        norm = [normalize(t) for t in texts]
        return {h: list(m.predict(norm)) for h, m in models.items()}

    return predict


def vader_sentiment() -> Predictor:
    """VADER (lexicon and rules) for the sentiment head."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()

    def label(text: str) -> str:
        c = analyzer.polarity_scores(text)["compound"]
        return "positive" if c >= 0.05 else "negative" if c <= -0.05 else "neutral"

    return lambda texts: {"sentiment": [label(t) for t in texts]}


_WHERE = [
    [{"LOWER": {"IN": ["where", "wheres", "where's"]}}, {"OP": "{0,4}"},
     {"LOWER": {"IN": ["buy", "find", "get", "order", "purchase", "sold", "sell", "available", "stock", "carry"]}}],
    [{"LOWER": {"IN": ["do", "does", "will", "can"]}}, {"LOWER": {"IN": ["you", "u", "they", "it"]}},
     {"LOWER": {"IN": ["ship", "deliver", "sell", "carry", "stock"]}}],
    [{"LOWER": {"IN": ["available", "sold", "sell"]}}, {"LOWER": {"IN": ["in", "at", "on"]}}],
    [{"LOWER": {"IN": ["back", "in"]}}, {"LOWER": "in", "OP": "?"}, {"LOWER": "stock"}],
    [{"LOWER": {"IN": ["link", "links"]}}, {"TEXT": {"REGEX": r"^\?+$"}}],
    [{"LOWER": "is"}, {"LOWER": {"IN": ["this", "it", "these"]}}, {"LOWER": {"IN": ["at", "on", "in"]}},
     {"LOWER": {"IN": ["walmart", "target", "costco", "amazon", "kroger", "stores", "store", "aldi", "tesco"]}}],
]


def where_to_buy_rules(default_intent: str = "social") -> Predictor:
    """Keyword/phrase rules (spaCy ``Matcher``) for where-to-buy questions."""
    import spacy
    from spacy.matcher import Matcher

    nlp = spacy.blank("en")
    matcher = Matcher(nlp.vocab)
    matcher.add("WHERE_TO_BUY", _WHERE)

    def predict(texts: Sequence[str]) -> dict[str, list[str]]:
        docs = nlp.pipe(normalize(t) for t in texts)
        return {"intent": ["where_to_buy" if matcher(doc) else default_intent for doc in docs]}

    return predict


def profanity_troll() -> Predictor:
    """``alt-profanity-check``'s offensive-language probability for the troll head."""
    from profanity_check import predict_prob

    def predict(texts: Sequence[str]) -> dict[str, list[str]]:
        probs = predict_prob(list(texts)) if texts else []
        return {"troll": ["true" if p >= 0.5 else "false" for p in probs]}

    return predict


def run_baselines(train: Sequence[Mapping[str, Any]], test: Sequence[Mapping[str, Any]],
                  reference: Mapping[str, Sequence[Any]] | None = None) -> dict[str, dict[str, Any]]:
    """Fit the baselines on ``train``, evaluate each on ``test``: ``{name: {"n", "heads", "summary"}}``.

    With ``reference`` (the model's labels for ``test``, per head) each baseline also gets
    ``"intervals"``: paired bootstrap intervals of model minus baseline
    (:func:`~commentnlp.evaluation.bootstrap_intervals`). Baselines whose optional package is
    missing (``pip install commentnlp[eval]``) are skipped.
    """
    # a non-match falls back to the most frequent other intent: were where_to_buy the most
    # frequent, the rules would call every comment where_to_buy, the majority baseline again
    majority_intent = Counter(i for i in (_str(r["intent"]) for r in _labelled(train, "intent"))
                              if i != "where_to_buy").most_common(1)
    factories: dict[str, Callable[[], Predictor]] = {
        "majority": lambda: majority(train),
        "tfidf_logreg": lambda: tfidf_logreg(train),
        "vader": vader_sentiment,
        "rules_where_to_buy": lambda: where_to_buy_rules(majority_intent[0][0] if majority_intent else "social"),
        "profanity": profanity_troll,
    }
    texts = [r["text"] for r in test]
    out: dict[str, dict[str, Any]] = {}
    for name, factory in factories.items():
        try:
            predictor = factory()
        except ImportError as exc:
            warn(f"baseline {name} left out: {exc.name or exc} is not installed "
                 "(pip install 'commentnlp[eval]')", RuntimeWarning)
            continue
        predicted = predictor(texts)
        heads = {h: list(HEADS_BY_NAME[h].values) for h in predicted}
        out[name] = evaluate_predictions(test, predicted, heads, reference=reference)
    return out


def baseline_training_records(model_config) -> list[dict[str, Any]]:
    """The training records a saved model was trained on (from its ``config.json``), for fair baselines.

    The split is rebuilt exactly as training built it (:func:`commentnlp.data.split_data`);
    paths are as recorded at training time (relative to the repository root).
    """
    import sys
    from pathlib import Path

    from .data import DataError, data_digests, dedupe_key_version, missing_files, recorded_key_version, split_data
    from .training_args import TrainingConfig

    training = model_config.training or {}
    recorded = training.get("config")
    if not recorded or not recorded.get("data"):
        raise ValueError("the model does not record its training data; pass --train-data")
    data = recorded["data"]
    missing = missing_files(f for key in ("train", "dev", "test", "evaluate", "exclude", "corpus_labels")
                            for f in data.get(key) or [])
    if missing:
        relative = not Path(missing[0]).is_absolute()
        raise DataError(f"the model's training data {missing[0]} is not found"
                        + (f" from {Path.cwd()}: its config records the paths as given where it was trained; "
                           "run this there, or" if relative else ";")
                        + " give the training data for the baselines: --train-data FILE")
    then = training.get("data_sha256") or {}
    changed = [f for f, digest in data_digests(then).items() if digest != then[f]] if then else []
    if changed:
        print(f"warning: {', '.join(changed)} changed since the model was trained; the baselines are fitted "
              "on the files as they are now", file=sys.stderr)
    with dedupe_key_version(recorded_key_version(training)):  # its duplicates found as when it was trained
        return split_data(TrainingConfig.from_dict(recorded))[0]


def comparison_table(model_summary: Mapping[str, float], baselines: Mapping[str, Mapping[str, Any]],
                     model_intervals: Mapping[str, Mapping[str, float]] | None = None) -> str:
    """Markdown table: one row per headline metric, the model beside every baseline, the best
    figure of each row in bold.

    With ``model_intervals`` (and baselines run with a ``reference``) the model's 95% bootstrap
    interval is shown, and a last column gives the margin over the best baseline with its
    paired 95% interval: a margin whose interval includes 0 is within the noise of the data.
    """
    names = list(baselines)
    extra = " margin over the best baseline [95% CI] |" if model_intervals else ""
    lines = ["| metric | model | " + " | ".join(names) + " |" + extra, "|---|---|" + "---|" * (len(names) + bool(extra))]
    for metric, value in model_summary.items():
        figures = [baselines[n]["summary"].get(metric) for n in names]
        top = max([value, *(f for f in figures if f is not None)])

        def cell(figure: float) -> str:  # the best in bold (the model's, when a baseline beat it, is not)
            return f"**{figure:.3f}**" if round(figure, 3) == round(top, 3) else f"{figure:.3f}"

        cells = [cell(f) if f is not None else "–" for f in figures]
        model = cell(value)
        margin = ""
        if model_intervals:
            if metric in model_intervals:
                model += f" [{model_intervals[metric]['low']:.3f}, {model_intervals[metric]['high']:.3f}]"
            scored = [n for n in names if metric in baselines[n]["summary"]]
            best = max(scored, key=lambda n: baselines[n]["summary"][metric], default=None)
            paired = (baselines[best].get("intervals") or {}).get(metric, {}) if best else {}
            margin = " – |"
            if "diff_low" in paired:
                margin = (f" {value - baselines[best]['summary'][metric]:+.3f} "
                          f"[{paired['diff_low']:+.3f}, {paired['diff_high']:+.3f}] vs {best} |")
        lines.append(f"| {metric} | {model} | " + " | ".join(cells) + " |" + margin)
    return "\n".join(lines)
